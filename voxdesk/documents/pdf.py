"""PDF through pypdfium2: text per page, read lazily (a chapter's pages when it is wanted).

Cleaning: running headers/footers are found on a sample of pages spread over the document (so
the first chapter is ready without reading all pages, and every chapter is cleaned alike);
paragraphs come from the gaps between lines; hyphenated words are re-joined, also across pages.
Chapters are the PDF's outline (bookmarks); without one the document is one chapter.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

from voxdesk.documents.cleaning import (
    edge_lines,
    is_furniture,
    join_lines,
    running_lines,
)
from voxdesk.documents.model import (
    Chapter,
    DocumentError,
    Metadata,
    OutlineEntry,
    check_chapter,
)
from voxdesk.documents.options import ReadOptions
from voxdesk.documents.sources import Source

#: PDFium is not thread-safe: every call into it holds this lock.
_PDFIUM = threading.Lock()
# Pages looked at to find running headers and footers, and a text layer: enough for a header
# on 40 % of them to stand out, few enough that a book's first chapter is ready at once.
SAMPLE_PAGES = 12
_SENTENCE_END = re.compile(r"[.!?:;…\"”’)»]$")


@dataclass(frozen=True)
class Line:
    text: str
    top: float
    bottom: float
    left: float

    @property
    def height(self) -> float:
        return max(self.top - self.bottom, 1.0)


@dataclass(frozen=True)
class _Entry:
    title: str
    level: int
    page: int


#: What PDF writers put in the metadata when they know nothing (reportlab: untitled, anonymous).
_PLACEHOLDERS = {"untitled", "anonymous", "unknown", "unspecified", "none", ""}


def _real(value: str | None) -> str | None:
    value = " ".join((value or "").split())
    return None if value.lower() in _PLACEHOLDERS else value


def _norm(text: str) -> str:
    return re.sub(r"[^\w]+", "", text.lower())


class PdfExtractor:
    def __init__(self, source: Source, options: ReadOptions) -> None:
        import pypdfium2 as pdfium

        with _PDFIUM:
            try:
                self._pdf = pdfium.PdfDocument(source.data)
            except pdfium.PdfiumError as exc:
                if "password" in str(exc).lower():
                    raise DocumentError(f"{source.label} is encrypted (password-protected).",
                                        "Open it in a PDF viewer with its password and save an "
                                        "unprotected copy.") from None
                raise DocumentError(f"{source.label} is not a readable PDF ({exc}).",
                                    "The file may be damaged or incomplete.") from None
            self.pages = len(self._pdf)
            meta = self._pdf.get_metadata_dict(skip_empty=True)
            toc = [_Entry(b.get_title().strip() or f"Page {index + 1}", b.level + 1, index)
                   for b in self._pdf.get_toc()
                   if (dest := b.get_dest()) is not None
                   and (index := dest.get_index()) is not None and 0 <= index < self.pages]
        self.metadata = Metadata(title=_real(meta.get("Title")), author=_real(meta.get("Author")))
        self._lines: dict[int, list[Line]] = {}
        if self.pages == 0:
            raise DocumentError(f"{source.label} has no pages.")
        step = max(1, self.pages // SAMPLE_PAGES)
        sample = [self.page_lines(i) for i in range(0, self.pages, step)][:SAMPLE_PAGES]
        if not any(line.text.strip() for lines in sample for line in lines):
            raise DocumentError(
                f"{source.label} has no text layer: it looks like a scanned document.",
                "Run it through OCR first (for example `ocrmypdf in.pdf out.pdf`), then open "
                "the result.")
        self._running = running_lines([[lines[i].text for i in self._edges(lines)]
                                       for lines in sample])
        toc.sort(key=lambda e: e.page)
        self._entries = toc
        front = bool(toc) and toc[0].page > 0 and self._has_text(0, toc[0].page)
        if not toc or front:
            self._entries = [_Entry(self.metadata.title or source.label, 1, 0), *toc]
        self.outline = tuple(OutlineEntry(i, e.title, e.level)
                             for i, e in enumerate(self._entries, 1))

    def _has_text(self, first: int, end: int) -> bool:
        return any(self.clean_lines(i) for i in range(first, end))

    def page_lines(self, index: int) -> list[Line]:
        """The text lines of page ``index``, in PDFium's reading order (so columns stay whole)."""
        if index not in self._lines:
            with _PDFIUM:
                page = self._pdf[index]
                textpage = page.get_textpage()
                lines: list[Line] = []
                for i in range(textpage.count_rects()):
                    left, bottom, right, top = textpage.get_rect(i)
                    text = textpage.get_text_bounded(left, bottom, right, top)
                    last = lines[-1] if lines else None
                    overlap = 0.0 if last is None else min(top, last.top) - max(bottom, last.bottom)
                    if last is not None and overlap > 0.5 * min(top - bottom, last.height):
                        lines[-1] = Line(f"{last.text} {text}", max(top, last.top),
                                         min(bottom, last.bottom), min(left, last.left))
                    else:
                        lines.append(Line(text, top, bottom, left))
                textpage.close()
                page.close()
            self._lines[index] = [line for line in lines if line.text.strip()]
        return self._lines[index]

    @staticmethod
    def _edges(lines: list[Line]) -> set[int]:
        return edge_lines(len(lines), [line.top for line in lines])

    def clean_lines(self, index: int) -> list[Line]:
        """Page ``index`` without its page number and running header/footer."""
        lines = self.page_lines(index)
        edges = self._edges(lines)
        return [line for i, line in enumerate(lines)
                if i not in edges or not is_furniture(line.text, self._running)]

    def chapter(self, number: int) -> Chapter:
        check_chapter(number, len(self._entries))
        entry = self._entries[number - 1]
        following = self._entries[number] if number < len(self._entries) else None
        end_page = following.page if following is not None else self.pages - 1
        lines: list[Line] = []
        breaks: set[int] = set()  # indexes in ``lines`` where a page starts
        for page in range(entry.page, end_page + 1):
            page_lines = self.clean_lines(page)
            start, stop = 0, len(page_lines)
            if page == entry.page and number > 1:
                start = _find_title(page_lines, entry.title) or 0
            if following is not None and page == following.page:
                found = _find_title(page_lines, following.title, after=start)
                stop = found if found is not None else (start if page == entry.page else 0)
            breaks.add(len(lines))
            lines.extend(page_lines[start:stop])
        paragraphs = tuple(join_lines(p) for p in _paragraphs(lines, breaks))
        return Chapter(entry.title, tuple(p for p in paragraphs if p) or (entry.title,),
                       entry.level)


def _find_title(lines: list[Line], title: str, after: int = 0) -> int | None:
    """The index of the line where ``title`` (a bookmark's) begins, if it is on the page."""
    wanted = _norm(title)
    if not wanted:
        return None
    for i in range(after, len(lines)):
        here = _norm(lines[i].text)
        if len(here) >= min(len(wanted), 4) and (wanted.startswith(here) or here.startswith(wanted)):
            return i
    return None


def _paragraphs(lines: list[Line], page_starts: set[int]) -> list[list[str]]:
    """Lines grouped into paragraphs: a new one after a wider gap than between lines, at an
    indented first line, or at a page start after a finished sentence."""
    heights = sorted(line.height for line in lines) or [10.0]
    typical = heights[len(heights) // 2]
    lefts = sorted(round(line.left) for line in lines)
    margin = lefts[len(lefts) // 4] if lefts else 0
    groups: list[list[str]] = []
    previous: Line | None = None
    for i, line in enumerate(lines):
        if previous is None:
            new = True
        elif i in page_starts:
            new = bool(_SENTENCE_END.search(previous.text.strip()))
        else:
            gap = previous.bottom - line.top
            new = (gap > 0.7 * typical or gap < -3 * typical  # a wide gap, or a new column
                   or (line.left - margin > 1.5 * typical and previous.left - margin < typical))
        if new:
            groups.append([])
        groups[-1].append(line.text)
        previous = line
    return groups
