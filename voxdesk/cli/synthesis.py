"""`voxdesk speak` and `voxdesk export`: the engine driven from a terminal."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path

from voxdesk.audio.encode import CHOICES
from voxdesk.audio.export import AtomicAudioWriter, check_writable, encoding_for
from voxdesk.audio.pipeline import EncodeThread
from voxdesk.audio.player import DEFAULT_PREBUFFER_S, Player
from voxdesk.audio.tempo import SPEED_MAX, SPEED_MIN, stretch_chunks, validate_speed
from voxdesk.cli.options import add_synthesis_options, load_engine, print_stats, request_from_args
from voxdesk.cli.realtime import add_realtime_options, guard_from_args
from voxdesk.engine import SynthesisRequest
from voxdesk.speech import Utterance, UtteranceMetrics


def add_speed_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--speed", type=float, metavar="X",
                        help=f"how fast to speak, {SPEED_MIN} to {SPEED_MAX} in steps of 0.05, "
                        "pitch kept (default 1: the model's own pace)")


def speed_from_args(args: argparse.Namespace) -> float:
    """The validated --speed (refused before any model is loaded); 1 when not given."""
    return 1.0 if args.speed is None else validate_speed(args.speed)


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
    add_speed_option(speak)
    add_realtime_options(speak)
    speak.add_argument("--standalone", action="store_true",
                       help="synthesise in this process even if VoxDesk is already running")
    speak.set_defaults(func=run_speak)

    export = subparsers.add_parser(
        "export", help="write speech to an audio file",
        description="Synthesise text into an audio file (WAV, MP3, Opus, AAC/M4A, FLAC, raw "
        "PCM), written as it is generated. A book (a file with chapters, e.g. Markdown with "
        "# headings) exported to .m4b becomes an audiobook with chapter marks; --split "
        "chapters makes one file per chapter. A long export that is stopped continues where "
        "it stopped when run again.",
    )
    add_synthesis_options(export)
    export.add_argument("-o", "--output", type=Path, required=True, metavar="FILE",
                        help="the audio file to write (replaced only when complete); its "
                        "extension chooses the format: .wav .mp3 .opus .ogg .m4a .m4b .aac "
                        ".flac .pcm")
    export.add_argument("--format", choices=CHOICES, metavar="FORMAT",
                        help="mp3, opus, aac (m4a, m4b), flac, wav (16-bit), wav-float "
                        "(float32), pcm (raw 16-bit); default: from the extension, else wav")
    export.add_argument("--bitrate", type=int, metavar="KBPS",
                        help="bit rate of lossy formats (defaults for speech: mp3/aac 64, "
                        "opus 32)")
    book = export.add_argument_group("audiobook")
    book.add_argument("--split", choices=["chapters"],
                      help="one file per chapter, numbered, in a folder named after --output")
    book.add_argument("--restart", action="store_true",
                      help="start the book over instead of continuing an interrupted export")
    book.add_argument("--title", help="the book's title tag (default: the document's)")
    book.add_argument("--author", help="the author tag (default: the document's)")
    book.add_argument("--cover", type=Path, metavar="IMAGE",
                      help="JPEG or PNG cover picture (default: the document's, e.g. EPUB's)")
    book.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    add_speed_option(export)
    export.set_defaults(func=run_export)


def run_speak(args: argparse.Namespace) -> int:
    request = request_from_args(args)
    speed = speed_from_args(args)
    if not args.standalone:
        from voxdesk.cli.instance import forward

        command: dict[str, object] = {"command": "speak", "text": request.text}
        if args.speed is not None:  # else the window's own speed
            command["speed"] = speed
        reply = forward(command)
        if reply is not None and reply.get("ok"):
            print("Sent to the running VoxDesk (--standalone speaks here instead).",
                  file=sys.stderr)
            return 0
    return speak(args, [request])


def speak(args: argparse.Namespace, requests: Iterable[SynthesisRequest]) -> int:
    """Speak each request in turn with one loaded model and one output stream."""
    guard = guard_from_args(args)
    player = Player(device=args.output_device, prebuffer_s=args.prebuffer,
                    speed=speed_from_args(args))
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
    from voxdesk.cli.audiobook import is_audiobook, run_audiobook

    if is_audiobook(args):
        return run_audiobook(args)
    request = request_from_args(args)
    speed = speed_from_args(args)
    bitrate = args.bitrate * 1000 if args.bitrate else None
    encoding_for(args.output, args.format)  # bad format or folder: fail before the model loads
    check_writable(args.output)
    engine = load_engine(args)
    stream = engine.synthesize(request)
    with AtomicAudioWriter(args.output, engine.sample_rate, args.format,
                           bitrate=bitrate) as writer:
        encoder = EncodeThread(writer.write)  # encoding overlaps the model's next step
        try:
            # Export is not bounded by the player's read-ahead: it writes as fast as it
            # synthesises.
            for samples in stretch_chunks((c.samples for c in stream), engine.sample_rate,
                                          speed):
                encoder.put(samples)
        except BaseException:
            encoder.abort()
            raise
        encoder.finish()
    result = writer.result()
    print(f"Wrote {result.path} ({result.duration:.2f} s).", file=sys.stderr)
    if args.stats:
        print_stats(UtteranceMetrics.collect(stream.stats).as_dict())
    return 0
