"""A document as the window shows it: its chapters laid out as one text (each chapter's title,
then its cleaned paragraphs), the outline as offsets into that text, and the mapping between a
place in that text and a reading position (chapter, sentence within it, offset within it) that
voxdesk.reading_position saves. No Qt here.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from voxdesk.documents import PARAGRAPH_BREAK, OpenedDocument
from voxdesk.engine.segmentation import Segment, split_text
from voxdesk.gui.reading import Chapter, chapter_at
from voxdesk.reading_position import ReadingPosition


@dataclass(frozen=True)
class ShownDocument:
    source: str  # path or URL
    title: str
    identity: str  # sha256 of its bytes: the resume key
    text: str  # what the editor shows
    outline: tuple[Chapter, ...]  # one per document chapter, offset = where its title is
    bodies: tuple[int, ...]  # where each chapter's text (after its title) starts in ``text``
    chapter_texts: tuple[str, ...]
    # False while only the first chapters are laid out (the rest follow, appended to ``text``)
    complete: bool = True
    # The document's metadata, for an export of it (an audiobook's tags and cover).
    author: str | None = None
    cover: bytes | None = None
    cover_type: str | None = None

    def position_at(self, offset: int) -> ReadingPosition | None:
        """The reading position of the sentence starting at ``offset`` in the shown text (None
        before the first chapter's text)."""
        index = chapter_at(self.outline, offset)
        if index < 0:
            return None
        within = max(0, offset - self.bodies[index])
        sentence = 0
        for i, segment in enumerate(_sentences(self.chapter_texts[index])):
            if segment.start <= within:
                sentence = i
        return ReadingPosition(self.identity, index + 1, sentence, within, source=self.source)

    def sentence_in_chapter(self, offset: int) -> tuple[int, int] | None:
        """(1-based sentence, sentences) of the chapter at ``offset``: the frame the resume bar
        speaks in, so that "continue from sentence 3" is then heard as sentence 3."""
        where = self.position_at(offset)
        if where is None:
            return None
        return where.sentence + 1, len(_sentences(self.chapter_texts[where.chapter - 1]))

    def offset_of(self, position: ReadingPosition) -> int | None:
        """Where a saved position's sentence starts in the shown text (None: not in it)."""
        if not 1 <= position.chapter <= len(self.bodies):
            return None
        index = position.chapter - 1
        segments = _sentences(self.chapter_texts[index])
        if position.sentence < len(segments):
            return self.bodies[index] + segments[position.sentence].start
        if position.offset <= len(self.chapter_texts[index]):
            return self.bodies[index] + position.offset
        return None


@lru_cache(maxsize=4)
def _sentences(chapter_text: str) -> tuple[Segment, ...]:
    """A chapter's sentences, kept for the few chapters in use: the position is asked for at
    every sentence heard, and a chapter may be a book's worth of text."""
    return tuple(split_text(chapter_text))


#: Formats whose chapters are extracted when first wanted: a big book is shown (and read) from
#: its first chapters while the rest is extracted. The others are parsed whole when opened.
LAZY_FORMATS = ("pdf", "epub")


def lay_out(opened: OpenedDocument, upto: int | None = None) -> ShownDocument:
    """Extract chapters 1 to ``upto`` (every one when None; raises DocumentError) and lay them
    out for the window; the layout of the first chapters is the same whatever ``upto``, so a
    later, complete layout only appends to the text of a partial one.
    A chapter is shown as its title line, a blank line, then its paragraphs, so that the title
    is read (and highlighted) too, as a heading; where the chapter's text already begins with
    its title (the extractors keep the heading as the first paragraph), it is not repeated."""
    parts: list[str] = []
    outline: list[Chapter] = []
    bodies: list[int] = []
    texts: list[str] = []
    offset = 0
    last = opened.chapter_count if upto is None else max(1, min(upto, opened.chapter_count))
    for number, entry in enumerate(opened.outline[:last], 1):
        body = opened.chapter(number).text
        title = entry.title.strip()
        first = body.split(PARAGRAPH_BREAK, 1)[0].strip()
        # A plain text's one "chapter" is titled with the file's name: not a heading to read.
        named = title and first != title and opened.format != "text"
        head = f"{title}{PARAGRAPH_BREAK}" if named else ""
        outline.append(Chapter(title or f"Chapter {number}", offset, entry.level))
        bodies.append(offset + len(head))
        texts.append(body)
        parts.append(head + body)
        offset += len(head) + len(body) + len(PARAGRAPH_BREAK)
    name = opened.source.rstrip("/").rsplit("/", 1)[-1] or opened.source
    return ShownDocument(opened.source, opened.title or name, opened.identity,
                         PARAGRAPH_BREAK.join(parts), tuple(outline), tuple(bodies),
                         tuple(texts), complete=last == opened.chapter_count,
                         author=opened.author, cover=opened.cover, cover_type=opened.cover_type)


def first_chapters(opened: OpenedDocument, wanted: int = 1) -> ShownDocument:
    """What the window shows at once: a lazily extracted book up to chapter ``wanted`` (where
    it resumes), any other document whole."""
    return lay_out(opened, wanted if opened.format in LAZY_FORMATS else None)
