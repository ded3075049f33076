"""The `voxdesk` command line: every job the window does, from a terminal.

Each sub-command lives in its own module with a ``register(subparsers)`` function; the modules
are listed in :data:`COMMAND_MODULES`. Errors a user can act on are printed as one line
(``voxdesk: error: ...``) with a non-zero exit status; ``--debug`` adds the traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from voxdesk import __version__
from voxdesk.errors import VoxDeskError

COMMAND_MODULES = [
    "voxdesk.cli.synthesis",  # speak, export
    "voxdesk.cli.devices",
    "voxdesk.cli.gui",
]

EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="voxdesk",
        description="Read text aloud with VoxCPM, in your own voice if you like. "
        "Without a command, opens the window.",
    )
    parser.add_argument("--version", action="version", version=f"voxdesk {__version__}")
    parser.add_argument("--debug", action="store_true", help="show log messages and tracebacks")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not any(arg in parser._subparsers._group_actions[0].choices for arg in argv):  # type: ignore[union-attr]
        if not any(arg in ("-h", "--help", "--version") for arg in argv):
            argv = ["gui", *argv]  # bare `voxdesk [--model M]` opens the window
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args) or 0)
    except VoxDeskError as exc:
        if args.debug:
            logging.exception("error")
        print(f"voxdesk: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("voxdesk: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
