"""`voxdesk export BOOK -o book.m4b` (or `--split chapters`): the audiobook path of export."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TextIO

from voxdesk.errors import InvalidRequestError

AUDIOBOOK_SUFFIXES = {".m4b"}


def is_audiobook(args: argparse.Namespace) -> bool:
    """An M4B target or --split chapters: the text is a book, exported chapter by chapter."""
    return bool(args.split) or Path(args.output).suffix.lower() in AUDIOBOOK_SUFFIXES


def _book(args: argparse.Namespace):  # noqa: ANN202 - a BookLike
    from voxdesk.audiobook import book_from_markdown, load_book

    if args.file is not None:
        return load_book(args.file)
    if args.text is not None and args.text != "-" and Path(args.text).is_file():
        return load_book(args.text)  # `voxdesk export book.md -o book.m4b`
    from voxdesk.cli.options import read_text

    return book_from_markdown(read_text(args), "text")


def _cover(path: Path | None) -> bytes | None:
    if path is None:
        return None
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InvalidRequestError(f"Cannot read the cover {path}: {exc.strerror}.") from None


class ExportBar:
    """One redrawn line on a terminal (chapter, percent, time left); elsewhere a line per
    chapter and per 10 %."""

    WIDTH = 24

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.interactive = self.stream.isatty()
        self._last = (-1, -1)
        self._drawn = 0.0

    def __call__(self, p) -> None:  # noqa: ANN001 - ExportProgress
        from voxdesk.models import format_duration

        if p.phase == "joining":
            line = "Joining the chapters..."
        elif p.phase == "done":
            line = "[" + "#" * self.WIDTH + "] 100%  done"
        else:
            filled = int(p.fraction * self.WIDTH)
            left = f"  {format_duration(p.seconds_left)} left" if p.seconds_left else ""
            line = (f"[{'#' * filled}{'.' * (self.WIDTH - filled)}] {p.fraction * 100:3.0f}%  "
                    f"chapter {p.chapter}/{p.chapters}: {p.title[:40]}{left}")
        if self.interactive:
            now = time.monotonic()
            if p.phase != "synthesis" or now - self._drawn >= 0.2:
                self._drawn = now
                end = "\n" if p.phase == "done" else ""
                print(f"\r{line}\033[K", end=end, file=self.stream, flush=True)
            return
        key = (p.chapter, int(p.fraction * 10))
        if key != self._last or p.phase != "synthesis":
            self._last = key
            print(line, file=self.stream, flush=True)


def run_audiobook(args: argparse.Namespace) -> int:
    from voxdesk.audio.tempo import TimeStretch
    from voxdesk.audiobook import AudiobookJob
    from voxdesk.audiobook.export import AudiobookExport
    from voxdesk.cli.options import load_engine, request_from_args
    from voxdesk.cli.speed import speed_from_args

    speed = speed_from_args(args)  # refused before the book or the model is loaded
    book = _book(args)
    # The voice and settings as for any export (the text itself comes from the book).
    probe = argparse.Namespace(**{**vars(args), "text": "x", "file": None})
    request = request_from_args(probe)
    job = AudiobookJob(book, args.output, fmt=args.format,
                       bitrate=args.bitrate * 1000 if args.bitrate else None,
                       split=bool(args.split), voice=request.voice, params=request.params,
                       title=args.title, author=args.author,
                       cover=_cover(args.cover) or getattr(book, "cover", None),
                       include=[args.chapter] if getattr(args, "chapter", None) else None)
    if speed != 1.0:  # the audio time-stretched before it is encoded, chapter by chapter
        job.transform = lambda rate: TimeStretch(rate, speed)
        job.transform_id = f"speed={speed:g}"
    engine = load_engine(args)
    bar = None if args.quiet else ExportBar()
    try:
        export = AudiobookExport(engine, job, args.restart, bar)
        result = export.run()
    except KeyboardInterrupt:
        print("\nStopped: run the same command again to continue.", file=sys.stderr)
        raise
    if result.resumed_chapters:
        print(f"Continued: {result.resumed_chapters} chapter(s) from the earlier run.",
              file=sys.stderr)
    total = result.chapters[-1].end if result.chapters else 0.0
    where = result.paths[0] if len(result.paths) == 1 else result.paths[0].parent
    print(f"Wrote {where} ({len(result.chapters)} chapters, {total:.1f} s).", file=sys.stderr)
    return 0
