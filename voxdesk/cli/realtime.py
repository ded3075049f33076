"""The real-time guard's options, shared by `voxdesk speak` and `voxdesk bench`."""

from __future__ import annotations

import argparse

from voxdesk.engine.realtime_guard import DEFAULT_MIN_STEPS, RealtimeGuard, RealtimePolicy
from voxdesk.engine.speed import SpeedModel
from voxdesk.errors import InvalidRequestError


def add_realtime_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "real-time guard",
        "When the model is slower than speech (a CPU, a slow GPU), sentences are held back "
        "until they can play without gaps: pauses fall between sentences, not inside them.")
    group.add_argument("--keep-real-time", action="store_true",
                       help="also lower the diffusion steps (quality) when the model cannot "
                       "keep up (default: best quality, never lower them)")
    group.add_argument("--min-steps", type=int, default=DEFAULT_MIN_STEPS, metavar="N",
                       help=f"the fewest diffusion steps --keep-real-time may use (default "
                       f"{DEFAULT_MIN_STEPS})")
    group.add_argument("--no-guard", action="store_true",
                       help="play every chunk as soon as it exists, even if that stutters")


def policy_from_args(args: argparse.Namespace) -> RealtimePolicy | None:
    """The policy the options ask for; None with --no-guard."""
    if args.min_steps < 1:
        raise InvalidRequestError(f"--min-steps must be at least 1, not {args.min_steps}.")
    if args.no_guard:
        return None
    return RealtimePolicy(keep_real_time=args.keep_real_time, min_steps=args.min_steps)


def guard_from_args(args: argparse.Namespace, speed: SpeedModel | None = None
                    ) -> RealtimeGuard | None:
    """The guard the options ask for, learning into ``speed`` (the engine's: ``Engine.speed``)."""
    policy = policy_from_args(args)
    if policy is None:
        return None
    return RealtimeGuard(policy) if speed is None else RealtimeGuard(policy, speed)
