"""`voxdesk export BOOK -o book.m4b` (or `--split chapters`): the audiobook path of export."""

from __future__ import annotations

import argparse
from pathlib import Path

AUDIOBOOK_SUFFIXES = {".m4b"}


def is_audiobook(args: argparse.Namespace) -> bool:
    """An M4B target or --split chapters: the text is a book, exported chapter by chapter."""
    return bool(args.split) or Path(args.output).suffix.lower() in AUDIOBOOK_SUFFIXES


def run_audiobook(args: argparse.Namespace) -> int:
    raise NotImplementedError
