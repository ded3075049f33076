"""Audiobook export: a book (chapters, title, author, cover) to one M4B with chapter marks or to
one file per chapter, resumable after a stop, a kill or a full disk."""

from voxdesk.audiobook.book import Book, BookChapter, book_from_markdown, load_book
from voxdesk.audiobook.export import (
    AudiobookJob,
    AudiobookResult,
    ExportProgress,
    export_audiobook,
)

__all__ = ["AudiobookJob", "AudiobookResult", "Book", "BookChapter", "ExportProgress",
           "book_from_markdown", "export_audiobook", "load_book"]
