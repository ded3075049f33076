"""`--speed`: one option and its check, for every command that speaks or exports."""

from __future__ import annotations

import argparse

from voxdesk.audio.tempo import SPEED_MAX, SPEED_MIN, validate_speed


def add_speed_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--speed", type=float, metavar="X",
                        help=f"how fast to speak, {SPEED_MIN} to {SPEED_MAX} in steps of 0.05, "
                        "pitch kept (default 1: the model's own pace)")


def speed_from_args(args: argparse.Namespace) -> float:
    """The validated --speed (refused before any model is loaded); 1 when not given."""
    return 1.0 if args.speed is None else validate_speed(args.speed)
