"""The outline of the text in the window (chapters as title + character offset).

A document opened is laid out by voxdesk.gui.shown_document, with its own outline; text typed
or pasted gets one from its Markdown headings, or else from short stand-alone lines ("Chapter
3"). Offsets are Python indices into the text, like the engine's segment offsets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
_TERMINAL = tuple(".!?,;:…\"'”’)»")
MAX_TITLE = 70


@dataclass(frozen=True)
class Chapter:
    """One outline entry: where a chapter (or section) starts in the text."""

    title: str
    offset: int
    level: int = 1


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
