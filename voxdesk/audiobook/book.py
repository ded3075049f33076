"""What an audiobook is made from: a title, an author, a cover and chapters.

The exporter takes any object with the fields of ``voxdesk.documents.Document`` (title,
author, cover, chapters with ``title`` and ``text``): the loader of PDF/EPUB/DOCX... documents
returns one. Until it is there, and for text files in any case, :func:`book_from_markdown`
builds one from Markdown whose ``#`` headings mark the chapters.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from voxdesk.errors import InvalidRequestError


class ChapterLike(Protocol):
    @property
    def title(self) -> str: ...
    @property
    def text(self) -> str: ...


class BookLike(Protocol):
    """The fields of ``voxdesk.documents.Document`` the exporter reads."""

    @property
    def title(self) -> str | None: ...
    @property
    def author(self) -> str | None: ...
    @property
    def cover(self) -> bytes | None: ...
    @property
    def chapters(self) -> Sequence[ChapterLike]: ...


@dataclass(frozen=True)
class BookChapter:
    title: str
    paragraphs: tuple[str, ...]
    level: int = 1

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


@dataclass(frozen=True)
class Book:
    """A Document-shaped book (see ``voxdesk.documents.Document``)."""

    source: str
    title: str | None
    author: str | None
    language: str | None
    cover: bytes | None
    cover_type: str | None
    chapters: tuple[BookChapter, ...]
    identity: str

    def text(self, chapter: int | None = None) -> str:
        if chapter is not None:
            return self.chapters[chapter - 1].text
        return "\n\n".join(c.text for c in self.chapters)


_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)
_INLINE = re.compile(r"(\*\*|__|\*|_|`)(.+?)\1")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")


def _plain(line: str) -> str:
    """Markdown emphasis, code marks and links as the words they show."""
    return _INLINE.sub(r"\2", _LINK.sub(r"\1", line)).strip()


def book_from_markdown(text: str, source: str = "", title: str | None = None) -> Book:
    """Chapters at the top heading level used (a single ``#`` title over ``##`` chapters is
    the book's title); text before the first heading is a chapter of its own. Optional YAML
    front matter gives ``title:`` and ``author:``."""
    meta: dict[str, str] = {}
    if match := _FRONT_MATTER.match(text):
        for line in match.group(1).splitlines():
            key, sep, value = line.partition(":")
            if sep:
                meta[key.strip().lower()] = value.strip().strip("\"'")
        text = text[match.end():]
    lines = text.splitlines()
    headings = [(i, len(m.group(1)), _plain(m.group(2)))
                for i, line in enumerate(lines) if (m := _HEADING.match(line))]
    book_title = meta.get("title")
    levels = sorted({level for _, level, _ in headings})
    top = levels[0] if levels else 1
    if levels and len(levels) > 1 and [lv for _, lv, _ in headings].count(top) == 1 \
            and headings[0][1] == top:
        book_title = book_title or headings[0][2]  # "# Book" over "## Chapter" headings
        lines[headings[0][0]] = ""
        headings = headings[1:]
        top = levels[1]
    starts = [(i, name) for i, level, name in headings if level == top]
    chapters = []
    bounds = [(0, book_title or title or "Chapter 1"), *starts]
    for n, (begin, name) in enumerate(bounds):
        end = bounds[n + 1][0] if n + 1 < len(bounds) else len(lines)
        body = lines[begin + (1 if n else 0):end]
        paragraphs = tuple(p for p in (_paragraphs(body)) if p)
        if n == 0 and not paragraphs:
            continue  # nothing before the first heading
        chapters.append(BookChapter(name, paragraphs, top))
    book_title = book_title or title
    if not any(c.paragraphs for c in chapters):
        raise InvalidRequestError("The book has no text to read.", "Give a file with text.")
    identity = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return Book(source, book_title, meta.get("author"), meta.get("language"), None, None,
                tuple(chapters), identity)


def _paragraphs(lines: list[str]) -> list[str]:
    paragraphs, current = [], []
    for line in lines:
        if match := _HEADING.match(line):  # a deeper heading: read as its own paragraph
            paragraphs.append(" ".join(current))
            current = []
            paragraphs.append(_plain(match.group(2)))
        elif line.strip():
            current.append(_plain(line.lstrip("> ").lstrip("-*+ ") if line.lstrip()[:2] in
                                  ("- ", "* ", "+ ", "> ") else line))
        else:
            paragraphs.append(" ".join(current))
            current = []
    paragraphs.append(" ".join(current))
    return [p.strip() for p in paragraphs if p.strip()]


def load_book(path: str | os.PathLike[str]) -> BookLike:
    """The book in ``path``: Markdown and text read here (``#`` headings are the chapters, a
    single ``#`` over ``##`` the title, front matter the author); any other document (EPUB,
    PDF, DOCX, ODT, HTML...) through voxdesk.documents, with its table of contents, title,
    author and cover."""
    file = Path(path)
    if file.suffix.lower() not in (".md", ".markdown", ".txt", ".text", ""):
        from voxdesk.documents import load_document

        return load_document(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidRequestError(f"The book {file} does not exist.") from None
    except UnicodeDecodeError:
        raise InvalidRequestError(f"{file} is not a UTF-8 text file.") from None
    except OSError as exc:
        raise InvalidRequestError(f"Cannot read {file}: {exc.strerror}.") from None
    return book_from_markdown(text, str(file), title=file.stem)
