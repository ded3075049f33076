"""A document cut into passages a synthesis request can take, with where each one starts.

A chapter longer than one request's limit is cut at paragraph boundaries. Each passage knows
its chapter, the index of its first sentence in that chapter and its offset in the chapter's
text, so a sentence being heard maps back to a reading position (voxdesk.reading_position), and
reading can start again from any sentence.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from voxdesk.documents.model import PARAGRAPH_BREAK
from voxdesk.documents.reader import OpenedDocument
from voxdesk.engine.request import MAX_TEXT_CHARS
from voxdesk.engine.segmentation import DEFAULT_MAX_WEIGHT, Segment, split_text


@dataclass(frozen=True)
class Passage:
    text: str
    chapter: int  # 1-based
    first_sentence: int  # index in the chapter of the passage's first sentence
    offset: int  # where ``text`` starts in the chapter's text

    def position_of(self, segment: Segment) -> tuple[int, int, int]:
        """(chapter, sentence, offset) of a segment of this passage's text."""
        return self.chapter, self.first_sentence + segment.index, self.offset + segment.start


@dataclass(frozen=True)
class Start:
    chapter: int = 1
    sentence: int = 0
    offset: int = 0


def chapter_passages(text: str, chapter: int, start: Start | None = None,
                     max_chars: int = MAX_TEXT_CHARS, max_weight: int = DEFAULT_MAX_WEIGHT
                     ) -> Iterator[Passage]:
    sentence, offset = 0, 0
    if start is not None and 0 < start.offset < len(text):
        sentence, offset = start.sentence, start.offset
    while offset < len(text):
        while offset < len(text) and text[offset].isspace():
            offset += 1
        if offset >= len(text):
            break
        end = len(text)
        if end - offset > max_chars:
            cut = text.rfind(PARAGRAPH_BREAK, offset, offset + max_chars)
            if cut <= offset:  # one huge paragraph: cut at a sentence end, else a space
                cut = max(text.rfind(". ", offset, offset + max_chars) + 1,
                          text.rfind(" ", offset, offset + max_chars))
            end = cut if cut > offset else offset + max_chars
        piece = text[offset:end]
        if piece.strip():
            yield Passage(piece, chapter, sentence, offset)
            sentence += len(split_text(piece, max_weight))
        offset = end


def document_passages(document: OpenedDocument, chapters: Iterable[int],
                      start: Start | None = None, max_chars: int = MAX_TEXT_CHARS,
                      max_weight: int = DEFAULT_MAX_WEIGHT) -> Iterator[Passage]:
    """The passages of ``chapters`` in order, from ``start`` (a chapter among them); each
    chapter is extracted only when reading reaches it."""
    started = start is None
    for number in chapters:
        if not started:
            if number != start.chapter:  # type: ignore[union-attr]
                continue
            started = True
            yield from chapter_passages(document.chapter(number).text, number, start,
                                        max_chars, max_weight)
            continue
        yield from chapter_passages(document.chapter(number).text, number, None, max_chars,
                                    max_weight)
