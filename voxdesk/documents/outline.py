"""Chapters from a flat run of paragraphs and headings (DOCX, ODT, Markdown, HTML)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from voxdesk.documents.blocks import Block
from voxdesk.documents.model import Chapter, Metadata, OutlineEntry, check_chapter

SHORT_PREAMBLE = 120  # characters


def chapters_from_blocks(blocks: Iterable[Block], fallback_title: str) -> tuple[Chapter, ...]:
    """A chapter starts at each heading (its title, and its first paragraph: a listener hears
    "Chapter 3. The storm"). Text before the first heading is a chapter of its own; without
    headings the whole text is one chapter called ``fallback_title``."""
    blocks = [b for b in blocks if b.text]
    levels = sorted({b.heading for b in blocks if b.heading is not None})
    depth = {level: i + 1 for i, level in enumerate(levels)}  # h2, h3 -> 1, 2
    chapters: list[Chapter] = []
    title, level, paragraphs = fallback_title, 1, []  # type: ignore[var-annotated]
    for block in blocks:
        if block.heading is not None:
            if paragraphs:
                chapters.append(Chapter(title, tuple(paragraphs), level))
            title, level, paragraphs = block.text, depth[block.heading], []
        paragraphs.append(block.text)
    if paragraphs or not chapters:
        chapters.append(Chapter(title, tuple(paragraphs), level))
    if len(chapters) > 1 and chapters[0].title == fallback_title and not any(
            b.heading is not None for b in blocks[:1]) and len(chapters[0].text) < SHORT_PREAMBLE:
        # A title line before the first heading is no chapter of its own: it opens the first.
        first, second = chapters[0], chapters[1]
        chapters[:2] = [Chapter(second.title, first.paragraphs + second.paragraphs, second.level)]
    return tuple(chapters)


class Extractor(Protocol):
    """What a format reader gives: metadata and outline at once, each chapter on demand."""

    metadata: Metadata
    outline: tuple[OutlineEntry, ...]

    def chapter(self, number: int) -> Chapter: ...


class Extracted:
    """An extractor for formats read whole at once (they are small and fast to parse)."""

    def __init__(self, metadata: Metadata, chapters: Sequence[Chapter]) -> None:
        self.metadata = metadata
        self._chapters = tuple(chapters)
        self.outline = tuple(OutlineEntry(i, c.title, c.level)
                             for i, c in enumerate(self._chapters, 1))

    def chapter(self, number: int) -> Chapter:
        return self._chapters[check_chapter(number, len(self._chapters)) - 1]
