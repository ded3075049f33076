"""What the window reads: a text and its outline (chapters as title + character offset).

Until voxdesk.documents (PDF, EPUB, ...) is merged, the outline of a text comes from its
Markdown headings, or else from short stand-alone lines ("Chapter 3") in plain text. Offsets
are Python indices into the text, like the engine's segment offsets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from voxdesk.errors import InvalidRequestError

MAX_OPEN_BYTES = 20_000_000
PLAIN_SUFFIXES = (".txt", ".md", ".markdown", ".text")
_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
_TERMINAL = tuple(".!?,;:…\"'”’)»")
MAX_TITLE = 70


@dataclass(frozen=True)
class Chapter:
    """One outline entry: where a chapter (or section) starts in the text."""

    title: str
    offset: int
    level: int = 1


@dataclass(frozen=True)
class Reading:
    text: str
    title: str
    outline: tuple[Chapter, ...]


def outline_of(text: str) -> tuple[Chapter, ...]:
    """Markdown headings, or else stand-alone short lines without final punctuation (at least
    two of them: one such line is more likely an address than a chapter)."""
    headings = tuple(Chapter(m.group(2).strip(), m.start(), len(m.group(1)))
                     for m in _HEADING.finditer(text))
    if headings:
        return headings
    found: list[Chapter] = []
    offset = 0
    lines = text.split("\n")
    for i, line in enumerate(lines):
        stripped = line.strip()
        before_blank = i == 0 or not lines[i - 1].strip()
        after_blank = i + 1 < len(lines) and not lines[i + 1].strip()
        if (stripped and before_blank and after_blank and len(stripped) <= MAX_TITLE
                and not stripped.endswith(_TERMINAL)):
            found.append(Chapter(stripped, offset + line.index(stripped)))
        offset += len(line) + 1
    return tuple(found) if len(found) >= 2 else ()


def relocate(outline: tuple[Chapter, ...], text: str) -> tuple[Chapter, ...]:
    """The same chapters in an edited ``text``: each title looked up after the previous one
    (chapters whose title is gone are dropped)."""
    moved: list[Chapter] = []
    start = 0
    for chapter in outline:
        found = text.find(chapter.title, start)
        if found >= 0:
            moved.append(Chapter(chapter.title, found, chapter.level))
            start = found + len(chapter.title)
    return tuple(moved)


def chapter_at(outline: tuple[Chapter, ...], offset: int) -> int:
    """Index of the chapter holding ``offset`` (-1: before the first)."""
    index = -1
    for i, chapter in enumerate(outline):
        if chapter.offset <= offset:
            index = i
    return index


def open_reading(path: Path) -> Reading:
    """Read a document to speak (raises VoxDeskError): plain text and Markdown here, the
    formats of voxdesk.documents where that package is present."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InvalidRequestError(f"Cannot open {path}: {exc.strerror or exc}.",
                                  "Choose another file.") from exc
    if size > MAX_OPEN_BYTES:
        raise InvalidRequestError(f"{path.name} is too large to open ({size // 1_000_000} MB).",
                                  "Open a smaller part of it.")
    if path.suffix.lower() not in PLAIN_SUFFIXES:
        loaded = _from_documents(path)
        if loaded is not None:
            return loaded
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidRequestError(f"{path.name} is not a UTF-8 text file.",
                                  "Save it as UTF-8 text, or paste its text instead.") from exc
    except OSError as exc:
        raise InvalidRequestError(f"Cannot open {path}: {exc.strerror or exc}.",
                                  "Choose another file.") from exc
    return Reading(text, path.name, outline_of(text))


def _from_documents(path: Path) -> Reading | None:
    try:
        from voxdesk.documents import load_document  # type: ignore[import-not-found]
    except ImportError:
        return None
    document = load_document(path)
    parts: list[str] = []
    outline: list[Chapter] = []
    offset = 0
    for chapter in document.chapters:
        block = f"{chapter.title}\n\n{chapter.text}" if chapter.title else chapter.text
        if chapter.title:
            outline.append(Chapter(chapter.title, offset, chapter.level))
        parts.append(block)
        offset += len(block) + 2
    return Reading("\n\n".join(parts), document.title or path.name, tuple(outline))
