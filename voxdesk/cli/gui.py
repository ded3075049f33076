"""`voxdesk gui` (and bare `voxdesk`): open the window."""

from __future__ import annotations

import argparse

from voxdesk.cli.options import add_model_options
from voxdesk.errors import VoxDeskError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("gui", help="open the VoxDesk window (the default)")
    add_model_options(parser)
    parser.add_argument("--tray", action="store_true",
                        help="start hidden in the system tray (read aloud with Ctrl+Alt+R)")
    parser.add_argument("document", nargs="?", metavar="FILE|URL",
                        help="a document to open (PDF, EPUB, DOCX, ODT, HTML, Markdown, text)")
    parser.add_argument("--read", action="store_true",
                        help="start reading the document (where it was left) once it is open")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        from voxdesk.gui.app import run_app
    except ImportError as exc:
        raise VoxDeskError(f"The window cannot start: {exc}.",
                           "Reinstall VoxDesk with its Qt dependency (PySide6).") from exc
    return run_app(args)
