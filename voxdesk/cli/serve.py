"""`voxdesk serve`: the local HTTP API (compatible with the VoxCPM streaming API)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from voxdesk.cli.options import add_model_options, load_engine
from voxdesk.engine.request import MAX_TEXT_CHARS
from voxdesk.errors import InvalidRequestError, VoxDeskError
from voxdesk.server.limits import DEFAULT_PORT, LOCAL_HOSTS, ServerLimits

DEFAULTS = ServerLimits()  # (voxdesk.server.app would load FastAPI for every command)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve", help="serve the HTTP API (POST /api/tts/stream, /v1/audio/speech, ...)",
        description="Serve speech over HTTP on this machine; OpenAPI docs at /docs.",
    )
    add_model_options(parser)
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=_number(int, 1, 65535), default=DEFAULT_PORT)
    parser.add_argument("--api-key", metavar="KEY",
                        help="require 'Authorization: Bearer KEY' (mandatory off localhost)")
    parser.add_argument("--cors-origin", action="append", default=[], metavar="ORIGIN",
                        help="allow browser pages from ORIGIN (repeatable; default: none)")
    parser.add_argument("--max-text-chars", type=_number(int, 1, MAX_TEXT_CHARS),
                        default=DEFAULTS.max_text_chars)
    parser.add_argument("--max-upload-mb", type=_number(float, 0.01, 1024),
                        default=DEFAULTS.max_upload_bytes / 1024 / 1024)
    parser.add_argument("--queue", type=_number(int, 0, 1000), default=DEFAULTS.max_waiting,
                        metavar="N",
                        help="requests that may wait behind the one being spoken (then 503)")
    parser.set_defaults(func=run)


def _number(kind: type[int | float], low: float, high: float
            ) -> Callable[[str], int | float]:
    """An argparse type: a number of ``kind`` from ``low`` to ``high`` (argparse then says
    what is wrong with the option instead of a traceback, or a server refusing everything)."""
    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not low <= value <= high:  # (also false for nan)
            raise argparse.ArgumentTypeError(f"{text} is out of range ({low:g} to {high:g})")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in its messages
    return parse


def run(args: argparse.Namespace) -> int:
    from voxdesk.server import listen, run_server

    if args.host not in LOCAL_HOSTS and not args.api_key:
        raise InvalidRequestError(f"Listening on {args.host} exposes the API to the network.",
                                  "Add --api-key KEY (clients then send it as a bearer token).")
    limits = ServerLimits(max_text_chars=args.max_text_chars,
                          max_upload_bytes=int(args.max_upload_mb * 1024 * 1024),
                          max_waiting=args.queue)
    try:  # before minutes of loading, and before saying "Serving on"
        sock = listen(args.host, args.port)
    except OSError as exc:
        raise VoxDeskError(exc.strerror or str(exc),
                           "Is another program (or VoxDesk) using that port? Choose another "
                           "--port.") from None
    engine = load_engine(args)
    print(f"Serving on http://{args.host}:{args.port} (docs at /docs). Ctrl+C stops.",
          file=sys.stderr)
    run_server(engine, args.host, args.port, limits, args.api_key, tuple(args.cors_origin),
               sock=sock)
    return 0
