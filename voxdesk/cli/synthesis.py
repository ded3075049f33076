"""`voxdesk speak` and `voxdesk export`: the engine driven from a terminal."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path

from voxdesk.audio.export import AtomicAudioWriter, ENCODINGS, check_writable
from voxdesk.audio.player import DEFAULT_PREBUFFER_S, Player
from voxdesk.cli.options import add_synthesis_options, load_engine, print_stats, request_from_args
from voxdesk.cli.realtime import add_realtime_options, guard_from_args
from voxdesk.engine import SynthesisRequest
from voxdesk.errors import as_voxdesk_error
from voxdesk.speech import Utterance, UtteranceMetrics


def register(subparsers: argparse._SubParsersAction) -> None:
    speak = subparsers.add_parser(
        "speak", help="read text aloud now",
        description="Speak text through the sound card; audio starts while the rest is generated.",
    )
    add_synthesis_options(speak)
    speak.add_argument("--output-device", metavar="NAME|INDEX",
                       help="where to play (see `voxdesk devices`; default: system default)")
    speak.add_argument("--prebuffer", type=float, default=DEFAULT_PREBUFFER_S, metavar="S",
                       help=f"seconds of audio to queue before playing (default "
                       f"{DEFAULT_PREBUFFER_S})")
    add_realtime_options(speak)
    speak.add_argument("--standalone", action="store_true",
                       help="synthesise in this process even if VoxDesk is already running")
    speak.set_defaults(func=run_speak)

    export = subparsers.add_parser(
        "export", help="write speech to an audio file",
        description="Synthesise text into a WAV (or FLAC) file, written as it is generated.",
    )
    add_synthesis_options(export)
    export.add_argument("-o", "--output", type=Path, required=True, metavar="FILE",
                        help="the audio file to write (replaced only when complete)")
    export.add_argument("--format", choices=sorted(ENCODINGS),
                        help="pcm16 (16-bit WAV, default), float32 (32-bit float WAV) or flac "
                        "(default for .flac names)")
    export.set_defaults(func=run_export)


def run_speak(args: argparse.Namespace) -> int:
    request = request_from_args(args)
    if not args.standalone:
        from voxdesk.cli.remote import forward

        reply = forward({"command": "speak", "text": request.text})
        if reply is not None and reply.get("ok"):
            print("Sent to the running VoxDesk (--standalone speaks here instead).",
                  file=sys.stderr)
            return 0
    return speak(args, [request])


def speak(args: argparse.Namespace, requests: Iterable[SynthesisRequest]) -> int:
    """Speak each request in turn with one loaded model and one output stream."""
    guard = guard_from_args(args)
    player = Player(device=args.output_device, prebuffer_s=args.prebuffer)
    engine = load_engine(args)
    try:
        for request in requests:
            utterance = Utterance(engine, player, request, guard=guard).start()
            try:
                while not utterance.wait(timeout=0.2):
                    pass
            except KeyboardInterrupt:
                utterance.stop()
                raise
            if args.stats:
                print_stats(utterance.metrics.as_dict())
    finally:
        player.close()
    return 0


def run_export(args: argparse.Namespace) -> int:
    request = request_from_args(args)
    check_writable(args.output)
    engine = load_engine(args)
    stream = engine.synthesize(request)
    with AtomicAudioWriter(args.output, engine.sample_rate, args.format) as writer:
        try:
            for chunk in stream:
                writer.write(chunk.samples)
        except Exception as exc:  # a library's failure: a message, not a traceback
            raise as_voxdesk_error(exc) from exc
    result = writer.result()
    print(f"Wrote {result.path} ({result.duration:.2f} s).", file=sys.stderr)
    if args.stats:
        print_stats(UtteranceMetrics.collect(stream.stats).as_dict())
    return 0
