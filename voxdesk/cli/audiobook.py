"""`voxdesk export BOOK -o book.m4b|.mp3|.opus|.flac|.m4a|.wav` (or `--split chapters`): the
audiobook path of export, which any document takes (chapter marks where the format has them,
a progress bar, resumable), as in the window's Export...; words given as text take the plain
path (one stream, one file)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TextIO

from voxdesk.errors import InvalidRequestError

AUDIOBOOK_SUFFIXES = {".m4b"}
#: Formats whose one file of a document is made on the plain path, chapters back to back: raw
#: PCM (no header at all) and float WAV (the book path keeps chapters as 16-bit FLAC).
PLAIN_FORMATS = {"pcm", "wav-float"}
#: One-file formats with no place for chapter marks (said on stderr when a book goes there).
NO_CHAPTER_MARKS = {"wav", "wav-float", "pcm"}


def names_a_file(text: str | None) -> bool:
    """Whether the positional text is the path of an existing file (`voxdesk export book.epub
    -o book.mp3`), not words to speak; a long or odd text is simply not a path."""
    if text is None or text == "-" or "\n" in text or len(text) > 4096:
        return False
    try:
        return Path(text).expanduser().is_file()
    except (OSError, ValueError):
        return False


def is_document(args: argparse.Namespace) -> bool:
    """A document (--file, or a file named as the text) rather than words to speak."""
    return args.file is not None or names_a_file(args.text)


def is_audiobook(args: argparse.Namespace) -> bool:
    """The book path, chapter by chapter (progress bar, resumable, chapter marks where the
    format has them): an M4B target, --split chapters, or any document exported to one file
    of a format the book path writes - as the window's Export... does."""
    if args.split or Path(args.output).suffix.lower() in AUDIOBOOK_SUFFIXES:
        return True
    from voxdesk.audio.encode import format_for_path

    fmt = format_for_path(args.output, args.format)  # an unknown --format: a clear error
    return is_document(args) and fmt.name not in PLAIN_FORMATS


def note_missing_chapter_marks(args: argparse.Namespace, stream: TextIO | None = None) -> None:
    """A book to one WAV/PCM file: its chapters are back to back, with nothing marking them."""
    from voxdesk.audio.encode import format_for_path

    if args.split or not is_document(args):
        return
    fmt = format_for_path(args.output, args.format)
    if fmt.name in NO_CHAPTER_MARKS:
        kind = "raw PCM" if fmt.name == "pcm" else "WAV"
        print(f"Note: {kind} has no chapter marks: the chapters are written one after "
              f"another into {Path(args.output).name}. For chapter marks export to .m4b or "
              ".mp3 (or one file per chapter: --split chapters).",
              file=stream or sys.stderr)


def _book(args: argparse.Namespace):  # noqa: ANN202 - a BookLike
    from voxdesk.audiobook import book_from_markdown, load_book

    source = args.file if args.file is not None else \
        args.text if names_a_file(args.text) else None
    if source is None:
        from voxdesk.cli.options import read_text

        return book_from_markdown(read_text(args), "text")
    if str(source).startswith(("http://", "https://")) or Path(source).suffix.lower() not in (
            ".md", ".markdown", ".txt", ".text", ""):
        from voxdesk.documents import load_document

        return load_document(str(source), include_footnotes=getattr(args, "footnotes", False),
                             include_tables=getattr(args, "tables", False))
    return load_book(source)  # Markdown: `#` headings, front matter


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
    request = request_from_args(probe, language=getattr(book, "language", None))
    job = AudiobookJob(book, args.output, fmt=args.format,
                       bitrate=args.bitrate * 1000 if args.bitrate else None,
                       split=bool(args.split), voice=request.voice, params=request.params,
                       lexicon=request.lexicon,
                       title=args.title, author=args.author,
                       cover=_cover(args.cover) or getattr(book, "cover", None),
                       include=[args.chapter] if getattr(args, "chapter", None) else None)
    if speed != 1.0:  # the audio time-stretched before it is encoded, chapter by chapter
        job.transform = lambda rate: TimeStretch(rate, speed)
        job.transform_id = f"speed={speed:g}"
    if len(book.chapters) > 1:
        note_missing_chapter_marks(args)
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
