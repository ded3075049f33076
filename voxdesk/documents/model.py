"""The document model every format is turned into: chapters of cleaned paragraphs.

Paragraphs are joined by a blank line ("\\n\\n") in every text VoxDesk synthesises: that is how
the engine tells a paragraph boundary from a sentence boundary.
"""

from __future__ import annotations

from dataclasses import dataclass

from voxdesk.errors import InvalidRequestError, VoxDeskError

PARAGRAPH_BREAK = "\n\n"


class DocumentError(VoxDeskError):
    """A document that cannot be read: encrypted, damaged, empty, too large, unreachable..."""


@dataclass(frozen=True)
class Chapter:
    title: str
    paragraphs: tuple[str, ...]  # cleaned text, one paragraph each
    level: int = 1  # heading depth (1 = top level)

    @property
    def text(self) -> str:
        return PARAGRAPH_BREAK.join(self.paragraphs)


@dataclass(frozen=True)
class OutlineEntry:
    """A chapter as the outline shows it, known before its text is extracted."""

    number: int  # 1-based
    title: str
    level: int = 1


@dataclass(frozen=True)
class Metadata:
    title: str | None = None
    author: str | None = None
    language: str | None = None
    cover: bytes | None = None
    cover_type: str | None = None


@dataclass(frozen=True)
class Document:
    source: str  # path or URL it came from
    title: str | None
    author: str | None
    language: str | None
    cover: bytes | None  # image bytes (EPUB cover), else None
    cover_type: str | None  # its MIME type, e.g. "image/jpeg"
    chapters: tuple[Chapter, ...]  # at least one; a document without headings has one
    identity: str  # sha256 hex of the source's bytes (resume key)

    def text(self, chapter: int | None = None) -> str:
        """The whole text, or chapter number ``chapter`` (1-based)."""
        if chapter is None:
            return PARAGRAPH_BREAK.join(c.text for c in self.chapters if c.paragraphs)
        return self.chapters[check_chapter(chapter, len(self.chapters)) - 1].text

    @property
    def outline(self) -> tuple[OutlineEntry, ...]:
        return tuple(OutlineEntry(i, c.title, c.level) for i, c in enumerate(self.chapters, 1))


def check_chapter(number: int, count: int) -> int:
    if not 1 <= number <= count:
        raise InvalidRequestError(
            f"There is no chapter {number}: this document has {count} "
            f"chapter{'s' if count != 1 else ''}.",
            "List them with `voxdesk chapters FILE`.",
        )
    return number
