"""`voxdesk diagnostics`: the report to paste into a bug report."""

from __future__ import annotations

import argparse

from voxdesk.diagnostics import collect


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "diagnostics", help="print versions, device, models and recent errors",
        description="Print what a bug report needs: versions, the device, the models and the "
        "recent warnings and errors from the log. Tokens and your home folder are left out.")
    parser.add_argument("--errors", type=int, default=20, metavar="N",
                        help="how many recent log entries to include (default 20)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    print(collect(max_errors=args.errors), end="")
    return 0
