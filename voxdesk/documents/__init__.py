"""Documents: PDF, EPUB, DOCX, ODT, HTML (a file or a URL), Markdown and plain text, turned
into chapters of cleaned paragraphs - the text a listener wants to hear.

``load_document(source)`` gives the whole :class:`Document`; ``open_document(source)`` gives
the outline at once and each chapter's text when it is wanted (PDF and EPUB are extracted
lazily, the rest in the background with ``prefetch()``). Bad input raises
:class:`DocumentError` with a message and a hint. No Qt here.
"""

from voxdesk.documents.model import (
    PARAGRAPH_BREAK,
    Chapter,
    Document,
    DocumentError,
    Metadata,
    OutlineEntry,
)
from voxdesk.documents.options import ReadOptions
from voxdesk.documents.reader import (
    OpenedDocument,
    load_document,
    open_document,
    open_source,
)
from voxdesk.documents.sources import FORMATS, MAX_DOCUMENT_BYTES, Source, read_source

__all__ = [
    "FORMATS",
    "MAX_DOCUMENT_BYTES",
    "PARAGRAPH_BREAK",
    "Chapter",
    "Document",
    "DocumentError",
    "Metadata",
    "OpenedDocument",
    "OutlineEntry",
    "ReadOptions",
    "Source",
    "load_document",
    "open_document",
    "open_source",
    "read_source",
]
