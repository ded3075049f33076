"""`voxdesk read-clipboard | read-selection | stop | next | previous | status`: commands for
the running VoxDesk.

They go to the running instance (see voxdesk.gui.single_instance), whose model is already
loaded - these are what a person binds to keys in their desktop's own shortcut settings. With
no instance running, read-clipboard and read-selection read aloud by themselves.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys

from voxdesk.cli.instance import forward
from voxdesk.cli.options import add_model_options
from voxdesk.errors import VoxDeskError

HELP = {
    "read-clipboard": "read the clipboard aloud (stops if already speaking)",
    "read-selection": "read the selected text (X11 primary selection) aloud",
    "stop": "stop speaking",
    "next": "read on from the next sentence (--paragraph, --chapter: the next one)",
    "previous": "go back to the previous sentence (--paragraph, --chapter: to the start of "
                "this one, or the one before)",
    "status": "show whether VoxDesk is running, loaded and speaking",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    for name, text in HELP.items():
        parser = subparsers.add_parser(name, help=text, description=text.capitalize() + ".")
        if name.startswith("read-"):
            add_model_options(parser)
            parser.add_argument("--output-device", metavar="NAME|INDEX")
        if name in ("next", "previous"):
            unit = parser.add_mutually_exclusive_group()
            unit.add_argument("--paragraph", action="store_true",
                              help="move by paragraph rather than by sentence")
            unit.add_argument("--chapter", action="store_true",
                              help="move by chapter rather than by sentence")
        parser.set_defaults(func=run, remote_command=name)


def run(args: argparse.Namespace) -> int:
    command: dict[str, object] = {"command": args.remote_command}
    if args.remote_command in ("next", "previous"):
        command["chapter"] = bool(args.chapter)
        command["paragraph"] = bool(args.paragraph)
    reply = forward(command)
    if reply is not None:
        if args.remote_command == "status":
            print(json.dumps(reply, indent=2))
        elif not reply.get("ok"):
            raise VoxDeskError(f"VoxDesk answered: {reply.get('error', 'failed')}.")
        return 0
    if args.remote_command == "status":
        print(json.dumps({"ok": False, "running": False}, indent=2))
        return 1
    if args.remote_command == "stop":
        return 0  # nothing is speaking
    if args.remote_command in ("next", "previous"):
        raise VoxDeskError("VoxDesk is not running.", "Start it with `voxdesk`, open a document "
                           "and press Play.")
    return _read_standalone(args)


def _read_standalone(args: argparse.Namespace) -> int:
    from PySide6.QtGui import QClipboard, QGuiApplication

    from voxdesk.cli import build_parser
    from voxdesk.cli.options import request_from_args
    from voxdesk.cli.synthesis import speak
    from voxdesk.clipboard_text import clipboard_text, parts

    if QGuiApplication.instance() is None:
        QGuiApplication(sys.argv[:1])  # the clipboard needs one; it lives until the exit
    clipboard = QGuiApplication.clipboard()
    mode = (QClipboard.Mode.Selection if args.remote_command == "read-selection"
            else QClipboard.Mode.Clipboard)
    mime = clipboard.mimeData(mode)
    text = clipboard_text(mime.text() if mime and mime.hasText() else None,
                          mime.html() if mime and mime.hasHtml() else None)
    if not text:
        where = "selection" if mode == QClipboard.Mode.Selection else "clipboard"
        raise VoxDeskError(f"The {where} holds no text.", "Copy some text first.")
    # The same options `voxdesk speak` would use; a very long text is spoken part by part.
    options = ["speak", "-", "--device", args.device, "--standalone"]
    options += ["--model", args.model] if args.model else []
    options += ["--output-device", args.output_device] if args.output_device else []
    speak_args = build_parser().parse_args(options)
    pieces = parts(text)
    speak_args.text = next(pieces)
    first = request_from_args(speak_args)
    requests = [first, *(dataclasses.replace(first, text=piece) for piece in pieces)]
    return speak(speak_args, requests)
