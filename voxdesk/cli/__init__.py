"""The `voxdesk` command line: every job the window does, from a terminal.

Each sub-command lives in its own module with a ``register(subparsers)`` function; the modules
are listed in :data:`COMMAND_MODULES`. Errors a user can act on are printed as one line
(``voxdesk: error: ...``) with a non-zero exit status; ``--debug`` adds the traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import signal
import sys
from collections.abc import Sequence

from voxdesk import __version__
from voxdesk.errors import VoxDeskError
from voxdesk.logging_setup import setup_logging

COMMAND_MODULES = [
    "voxdesk.cli.synthesis",  # speak, export
    "voxdesk.cli.documents",  # text, chapters
    "voxdesk.cli.lexicon",
    "voxdesk.cli.devices",
    "voxdesk.cli.gui",
    "voxdesk.cli.remote",
    "voxdesk.cli.serve",  # read-clipboard, read-selection, stop, status
    "voxdesk.cli.bench",
    "voxdesk.cli.models",
    "voxdesk.cli.voices",  # voices list/add/remove/rename/export/import
    "voxdesk.cli.diagnostics",
]

EXIT_INTERRUPTED = 130


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP: stopped like Ctrl+C (an export removes its partial file), but the
    exit status says which signal it was (128 + its number)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _stop_on_signals() -> None:
    """`kill` and a closed terminal stop a command as Ctrl+C does: cleanly, not mid-write.
    (The window and the server install their own handlers.)"""

    def stop(signum: int, _frame: object) -> None:
        raise Terminated(signum)

    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            try:
                signal.signal(getattr(signal, name), stop)
            except (ValueError, OSError):  # not the main thread (embedded use)
                pass


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
    commands = next(action._name_parser_map for action in parser._actions
                    if isinstance(action, argparse._SubParsersAction))
    if not any(arg in commands for arg in argv):
        if not any(arg in ("-h", "--help", "--version") for arg in argv):
            argv = ["gui", *argv]  # bare `voxdesk [--model M]` opens the window
    args = parser.parse_args(argv)
    setup_logging(debug=args.debug)
    log = logging.getLogger("voxdesk.cli")
    log.info("voxdesk %s: %s", __version__, args.command or "gui")
    _stop_on_signals()
    try:
        return int(args.func(args) or 0)
    except VoxDeskError as exc:
        # The file gets it for `voxdesk diagnostics`; the terminal gets the one line below
        # (and the traceback too with --debug).
        log.error("%s: %s", type(exc).__name__, exc, exc_info=args.debug,
                  extra={"console": args.debug})
        print(f"voxdesk: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt as exc:
        log.info("interrupted")
        print("voxdesk: interrupted", file=sys.stderr)
        return 128 + exc.signum if isinstance(exc, Terminated) else EXIT_INTERRUPTED
    except Exception:
        log.critical("unexpected error", exc_info=True, extra={"console": False})
        raise
