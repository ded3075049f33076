"""Where a reading is and where the transport's previous/next buttons take it: pure functions
of what is being read, its sentences, the one heard and the outline (no Qt, no engine)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from voxdesk.engine import Segment
from voxdesk.engine.segmentation import split_text
from voxdesk.gui.reading import Chapter, chapter_at

_PARAGRAPH_BREAK = re.compile(r"\n[^\S\n]*\n\s*")  # a blank line (and what follows it)
SECONDS_PER_CHAR = 0.065  # a first estimate of speaking time, until this reading measures it


@dataclass(frozen=True)
class Reading:
    document: str  # the whole text the request was cut from
    start: int  # the request's offset in it
    end: int  # where the request ends in it
    shown: bool  # the document is the one in the window (highlight, outline, chapters)


@dataclass(frozen=True)
class Position:
    sentence: int  # 1-based, 0 before the first is heard
    sentences: int
    chapter: str  # the chapter being heard ("" without an outline)
    elapsed_s: float  # audio heard of this utterance
    remaining_s: float | None  # estimate of the rest, None when idle


IDLE = Position(0, 0, "", 0.0, None)
# Where to read from: (document offset, to the document's end rather than the reading's).
Target = tuple[int, bool]


def heard_offset(reading: Reading, segments: tuple[Segment, ...], heard: int) -> int:
    """Where in the document the sentence now heard starts (the reading's start before one is)."""
    segment = segments[heard] if 0 <= heard < len(segments) else None
    return reading.start + (segment.start if segment is not None else 0)


def position(reading: Reading, segments: tuple[Segment, ...], heard: int,
             outline: tuple[Chapter, ...], elapsed_s: float, speed: float,
             in_chapter: Callable[[int], tuple[int, int] | None] | None = None) -> Position:
    """Where the reading is. ``in_chapter``: (sentence, sentences) of a shown document's
    chapter at an offset, counted instead of the reading's own sentences when there is one."""
    offset = heard_offset(reading, segments, heard)
    chapter = ""
    if reading.shown:
        index = chapter_at(outline, offset)
        chapter = outline[index].title if index >= 0 else ""
    done = offset - reading.start
    per_char = elapsed_s / done if done > 40 and elapsed_s > 1.0 else SECONDS_PER_CHAR / speed
    sentence, sentences = heard + 1, len(segments)
    if in_chapter is not None and reading.shown and heard >= 0:
        sentence, sentences = in_chapter(offset) or (sentence, sentences)
    return Position(sentence, sentences, chapter, elapsed_s,
                    max(0.0, (reading.end - offset) * per_char))


def next_sentence(reading: Reading, segments: tuple[Segment, ...], heard: int) -> Target | None:
    # Right after a restart nothing is heard yet (-1): "next" is then the second sentence.
    index = max(heard, 0) + 1
    return (reading.start + segments[index].start, False) if index < len(segments) else None


def previous_sentence(reading: Reading, segments: tuple[Segment, ...],
                      heard: int) -> Target | None:
    """The sentence before the one heard; before the reading's first, the document's."""
    if 1 <= heard < len(segments):
        return reading.start + segments[heard - 1].start, False
    before = split_text(reading.document[:reading.start])
    return (before[-1].start if before else reading.start), False


def paragraph_starts(document: str) -> list[int]:
    """Where each paragraph of ``document`` starts (its first non-space character): after the
    blank lines that separate paragraphs, as in every text VoxDesk reads."""
    first = len(document) - len(document.lstrip())
    starts = [first] if first < len(document) else []
    starts += [m.end() for m in _PARAGRAPH_BREAK.finditer(document)
               if m.end() < len(document) and m.end() > first]
    return starts


def next_paragraph(reading: Reading, segments: tuple[Segment, ...],
                   heard: int) -> Target | None:
    """The first sentence of the next paragraph within what is being read."""
    offset = heard_offset(reading, segments, heard)
    later = [p for p in paragraph_starts(reading.document) if offset < p < reading.end]
    return (later[0], False) if later else None


def previous_paragraph(reading: Reading, segments: tuple[Segment, ...],
                       heard: int) -> Target | None:
    """To the start of this paragraph; from its first sentence (or right after moving there,
    before anything is heard), to the paragraph before."""
    offset = heard_offset(reading, segments, heard)
    starts = [p for p in paragraph_starts(reading.document) if p <= offset]
    if not starts:
        return reading.start, False
    index = len(starts) - 1
    at_start = starts[index] >= offset - 1 or heard <= 0 and starts[index] >= reading.start
    if at_start and index > 0:
        index -= 1
    return starts[index], False


def next_chapter(reading: Reading, outline: tuple[Chapter, ...], offset: int) -> Target | None:
    later = [c.offset for c in outline if c.offset > offset] if reading.shown else []
    return (later[0], True) if later else None


def previous_chapter(reading: Reading, outline: tuple[Chapter, ...], offset: int,
                     heard: int) -> Target | None:
    """To the start of this chapter; from its first sentence, to the one before."""
    if not reading.shown:
        return None
    index = chapter_at(outline, offset)
    if index < 0:
        return reading.start, False
    at_start = outline[index].offset >= offset - 1 or heard <= 0 and \
        outline[index].offset >= reading.start
    if at_start and index > 0:
        index -= 1
    return outline[index].offset, True
