"""`voxdesk bench`: first-audio latency, speed and smoothness, as numbers anyone can reproduce."""

from __future__ import annotations

import argparse
from pathlib import Path

from voxdesk.cli.options import add_model_options
from voxdesk.cli.realtime import add_realtime_options, policy_from_args
from voxdesk.engine import SynthesisParams, VoiceReference
from voxdesk.errors import InvalidRequestError

_DEFAULTS = SynthesisParams()
_SCENARIO_HELP = """scenarios (default: quick; `all` runs every one):
  quick        one short sentence: first chunk, first audible, total time, audio length, RTF
  compare      time to first audio: non-streaming vs streaming, default and cloned voice
  repeat       N runs of a short, a medium and a long text, with min/median/p95/max
  overhead     raw voxcpm vs VoxDesk on the same request, interleaved: the ratios
  long-text    first chunk of 1 sentence vs a 10,000-character document: the ratio
  voice-cache  first chunk with a cloned voice, first use vs cached
  guard        seams and underruns with the real-time guard off and on
  gui          event-loop stalls in the window while speaking, and stop latency
  busy         first chunk and RTF with 1 and 2 competing CPU-bound processes (the bench
               starts and stops them), per torch thread count
  server       the seed's HTTP comparison against `voxdesk serve` (started on a free local
               port, or --url): first byte / first audio / total, streaming vs complete file,
               default and cloned voice, /v1/audio/speech and the WebSocket. Runs on its own.
  export       a book to M4B vs its synthesis alone: time ratio, peak memory
               (book length: VOXDESK_BENCH_BOOK_CHARS, default 10,000 characters)
  speed        time-stretch CPU cost at 1.5x and 2x, and its effect on first audible
  document     opening a 300-page PDF and a 1 MB EPUB to the first audio

With a random-weight model (python -m voxdesk.testing.tiny_model DIR [--full-size]) the
stop head is random: force the length with --min-len N --max-len N."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "bench", help="measure latency, speed and smoothness",
        description="Measure how soon the voice starts and whether it keeps up.",
        epilog=_SCENARIO_HELP, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("scenarios", nargs="*", metavar="SCENARIO",
                        help="what to measure (see below)")
    add_model_options(parser)
    parser.add_argument("--runs", type=int, metavar="N",
                        help="measured runs per scenario and variant (default: 1 for quick "
                        "and guard, 3 or 5 for the others)")
    parser.add_argument("--json", type=Path, metavar="FILE",
                        help="write every raw sample and the environment as JSON")
    parser.add_argument("--plot", type=Path, metavar="FILE.png",
                        help="draw the latency distributions (needs matplotlib)")
    parser.add_argument("--no-audio", action="store_true",
                        help="do not play: no first-audible, underrun or guard figures")
    parser.add_argument("--output-device", metavar="NAME|INDEX",
                        help="where to play (default: the system's default output)")
    parser.add_argument("--texts", default="short,medium,long", metavar="LIST",
                        help="texts of the repeat scenario (default short,medium,long)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--context-bounds", default="", metavar="A+P,...",
                        help="long-text: also measure continuity with these context bounds "
                        "(anchor + previous sentence, seconds of audio), e.g. 2+3,1.5+2")
    voice = parser.add_argument_group("cloned voice (default: a synthetic 3 s clip)")
    voice.add_argument("--voice-wav", type=Path, metavar="PATH", help="the clip to clone")
    voice.add_argument("--prompt-text", metavar="TEXT", help="what is said in the clip")
    params = parser.add_argument_group("synthesis")
    params.add_argument("--steps", type=int, default=_DEFAULTS.inference_timesteps, metavar="N",
                        help=f"diffusion steps (default {_DEFAULTS.inference_timesteps})")
    params.add_argument("--cfg", type=float, default=_DEFAULTS.cfg_value, metavar="X")
    params.add_argument("--min-len", type=int, default=_DEFAULTS.min_len, metavar="N",
                        help="minimum generation steps per sentence (1 step = 160 ms)")
    params.add_argument("--max-len", type=int, default=_DEFAULTS.max_len, metavar="N",
                        help="maximum generation steps per sentence")
    params.add_argument("--seed", type=int, metavar="N")
    add_realtime_options(parser)
    server = parser.add_argument_group("server scenario")
    server.add_argument("--url", metavar="URL",
                        help="measure the voxdesk serve at URL instead of starting one")
    server.add_argument("--api-key", metavar="KEY", help="the server's API key, if it has one")
    server.add_argument("--start-timeout", type=float, default=600.0, metavar="S",
                        help="how long the started server may take to load (default 600 s)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from voxdesk.bench.context import BenchOptions
    from voxdesk.bench.runner import resolve_scenarios, run_bench
    from voxdesk.bench.texts import REPEAT_TEXTS

    if args.runs is not None and args.runs < 1:
        raise InvalidRequestError("--runs must be at least 1.")
    repeat_texts = tuple(t.strip() for t in args.texts.split(",") if t.strip())
    if not repeat_texts or any(t not in REPEAT_TEXTS for t in repeat_texts):
        raise InvalidRequestError(f"--texts takes a list of {', '.join(REPEAT_TEXTS)}.")
    context_bounds = parse_context_bounds(args.context_bounds)
    voice = None
    if args.voice_wav is not None:
        voice = VoiceReference.from_clip(args.voice_wav, args.prompt_text)
    params = SynthesisParams(cfg_value=args.cfg, inference_timesteps=args.steps,
                             min_len=args.min_len, max_len=args.max_len,
                             seed=args.seed).validate()
    from voxdesk.cli.options import performance_options

    dtype, compile_mode = performance_options(args)
    options = BenchOptions(
        model=args.model, device=args.device, dtype=dtype, compile=compile_mode, runs=args.runs,
        audio=not args.no_audio, output_device=args.output_device, params=params, voice=voice,
        policy=policy_from_args(args), repeat_texts=repeat_texts,
        context_bounds=context_bounds,
    )
    names = resolve_scenarios(args.scenarios)
    if names == ["server"]:
        from voxdesk.bench.scenarios.server import ServerBenchOptions, run_server_bench

        if args.plot is not None:
            raise InvalidRequestError("--plot is not available for the server scenario.")
        if args.start_timeout <= 0:
            raise InvalidRequestError("--start-timeout must be positive.")
        run_server_bench(ServerBenchOptions(options, args.url, args.api_key, args.start_timeout),
                         args.json, show_progress=not args.quiet)
        return 0
    run_bench(options, names, args.json, args.plot, show_progress=not args.quiet)
    return 0


def parse_context_bounds(text: str) -> tuple[tuple[float, float], ...]:
    """``"2+3,1.5+2"`` -> ((2.0, 3.0), (1.5, 2.0)); a clear error for anything else."""
    bounds = []
    for item in (t.strip() for t in text.split(",")):
        if not item:
            continue
        try:
            anchor, previous = (float(x) for x in item.split("+"))
        except ValueError:
            anchor = previous = float("nan")
        if not (0 <= anchor <= 30 and 0 < previous <= 30):
            raise InvalidRequestError(
                f"--context-bounds: {item!r} is not ANCHOR+PREVIOUS in seconds (0-30).",
                "Write for example --context-bounds 2+3,1.5+2.")
        bounds.append((anchor, previous))
    return tuple(bounds)
