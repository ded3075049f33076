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
  export       a book to M4B vs its synthesis alone: time ratio, peak memory
               (book length: VOXDESK_BENCH_BOOK_CHARS, default 10,000 characters)

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
    voice = None
    if args.voice_wav is not None:
        voice = VoiceReference.from_clip(args.voice_wav, args.prompt_text)
    params = SynthesisParams(cfg_value=args.cfg, inference_timesteps=args.steps,
                             min_len=args.min_len, max_len=args.max_len,
                             seed=args.seed).validate()
    options = BenchOptions(
        model=args.model, device=args.device, runs=args.runs, audio=not args.no_audio,
        output_device=args.output_device, params=params, voice=voice,
        policy=policy_from_args(args), repeat_texts=repeat_texts,
    )
    run_bench(options, resolve_scenarios(args.scenarios), args.json, args.plot,
              show_progress=not args.quiet)
    return 0
