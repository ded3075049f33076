"""Opening a document: its outline at once, each chapter's text when it is first wanted.

``open_document`` reads the bytes, identifies the format and extracts what the outline needs;
for PDF and EPUB a chapter's text is extracted on first use (``chapter(n)``), and
``prefetch()`` extracts the rest on a background thread, so reading can start after the first
chapter rather than after the whole book. ``load_document`` is the same, all chapters at once.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

from voxdesk.documents.model import (
    PARAGRAPH_BREAK,
    Chapter,
    Document,
    DocumentError,
    OutlineEntry,
    check_chapter,
)
from voxdesk.documents.options import ReadOptions
from voxdesk.documents.outline import Extractor
from voxdesk.documents.sources import (
    MAX_DOCUMENT_BYTES,
    URL_TIMEOUT_S,
    Source,
    read_source,
)

DEFAULT_OPTIONS = ReadOptions()


def _extractor(source: Source, options: ReadOptions) -> Extractor:
    if source.format == "pdf":
        from voxdesk.documents.pdf import PdfExtractor

        return PdfExtractor(source, options)
    if source.format == "epub":
        from voxdesk.documents.epub import EpubExtractor

        return EpubExtractor(source, options)
    reader: Callable[[Source, ReadOptions], Extractor]
    if source.format == "docx":
        from voxdesk.documents.docx_file import read_docx as reader
    elif source.format == "odt":
        from voxdesk.documents.odt import read_odt as reader
    elif source.format == "html":
        from voxdesk.documents.html_page import read_html as reader
    elif source.format == "markdown":
        from voxdesk.documents.text import read_markdown as reader
    else:
        from voxdesk.documents.text import read_text as reader
    return reader(source, options)


class OpenedDocument:
    """A document being read: metadata and outline now, chapters on demand (thread-safe)."""

    def __init__(self, source: Source, extractor: Extractor) -> None:
        self.source = source.name
        self.format = source.format
        self.identity = source.identity
        meta = extractor.metadata
        self.title, self.author, self.language = meta.title, meta.author, meta.language
        self.cover, self.cover_type = meta.cover, meta.cover_type
        self.outline: tuple[OutlineEntry, ...] = extractor.outline
        self._extractor = extractor
        self._chapters: dict[int, Chapter] = {}
        self._lock = threading.Lock()
        self._prefetch: threading.Thread | None = None
        self.error: DocumentError | None = None  # what stopped the background extraction

    @property
    def chapter_count(self) -> int:
        return len(self.outline)

    def chapter(self, number: int) -> Chapter:
        """Chapter ``number`` (1-based), extracted now if the background has not yet."""
        check_chapter(number, self.chapter_count)
        with self._lock:
            if number not in self._chapters:
                self._chapters[number] = self._extractor.chapter(number)
            return self._chapters[number]

    def text(self, chapter: int | None = None) -> str:
        if chapter is not None:
            return self.chapter(chapter).text
        return PARAGRAPH_BREAK.join(c.text for c in self.chapters())

    def chapters(self) -> list[Chapter]:
        return [self.chapter(n) for n in range(1, self.chapter_count + 1)]

    def prefetch(self) -> OpenedDocument:
        """Extract every chapter on a background thread (chapter() calls go first)."""
        if self._prefetch is None:
            def run() -> None:
                try:
                    for number in range(1, self.chapter_count + 1):
                        self.chapter(number)
                except DocumentError as exc:
                    self.error = exc

            self._prefetch = threading.Thread(target=run, name="voxdesk-document", daemon=True)
            self._prefetch.start()
        return self

    def document(self) -> Document:
        """The whole document (every chapter extracted)."""
        return Document(self.source, self.title, self.author, self.language, self.cover,
                        self.cover_type, tuple(self.chapters()), self.identity)


def open_document(source: str | os.PathLike[str], *, include_footnotes: bool = False,
                  include_tables: bool = False, max_bytes: int = MAX_DOCUMENT_BYTES,
                  timeout: float = URL_TIMEOUT_S) -> OpenedDocument:
    """Open a file or an http(s) URL; raises DocumentError (nothing is half-opened)."""
    data = read_source(source, max_bytes, timeout)
    return open_source(data, ReadOptions(include_footnotes, include_tables))


def open_source(source: Source, options: ReadOptions = DEFAULT_OPTIONS) -> OpenedDocument:
    """Open bytes already in memory (an upload)."""
    opened = OpenedDocument(source, _extractor(source, options))
    opened.chapter(1)  # a document whose first chapter cannot be read is refused whole
    return opened


def load_document(source: str | os.PathLike[str], *, include_footnotes: bool = False,
                  include_tables: bool = False, max_bytes: int = MAX_DOCUMENT_BYTES,
                  timeout: float = URL_TIMEOUT_S) -> Document:
    """The whole document at once; raises DocumentError."""
    document = open_document(source, include_footnotes=include_footnotes,
                             include_tables=include_tables, max_bytes=max_bytes,
                             timeout=timeout).document()
    if not document.text().strip():
        raise DocumentError(f"{document.source} has no text to read.")
    return document
