"""The text editor: plain text, dropped files, and the highlight of the sentence being heard.

Qt counts positions in UTF-16 code units, Python in code points; the two differ for characters
outside the Basic Multilingual Plane (most emoji). The engine's segment offsets are Python
indices, so every position crossing that border goes through :func:`to_qt` / :func:`from_qt`.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, Signal
from PySide6.QtGui import QPalette, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QPlainTextEdit, QTextEdit, QWidget

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")


def _bmp_only(text: str) -> bool:
    return len(text.encode("utf-16-le")) == 2 * len(text)


def to_qt(text: str, index: int) -> int:
    """The Qt (UTF-16) position of the Python index ``index`` in ``text``."""
    prefix = text[:index]
    return len(prefix) if _bmp_only(prefix) else len(prefix.encode("utf-16-le")) // 2


def from_qt(text: str, position: int) -> int:
    """The Python index of the Qt (UTF-16) position ``position`` in ``text``."""
    if _bmp_only(text):
        return min(position, len(text))
    units = 0
    for index, char in enumerate(text):
        if units >= position:
            return index
        units += 2 if ord(char) > 0xFFFF else 1
    return len(text)


def local_files(mime: QMimeData) -> list[Path]:
    return [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()] \
        if mime.hasUrls() else []


class TextEditor(QPlainTextEdit):
    """A plain-text editor that hands dropped files to the window instead of pasting paths."""

    filesDropped = Signal(list)  # list[Path]

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Text")
        self.setPlaceholderText("Type or paste text here, or open a document (File > Open, or "
                                "drop it here). Then press Play (Ctrl+Enter).")
        self._highlight: tuple[int, int] | None = None

    # -- dropped files ---------------------------------------------------------------------

    def canInsertFromMimeData(self, source: QMimeData) -> bool:
        return bool(local_files(source)) or super().canInsertFromMimeData(source)

    def insertFromMimeData(self, source: QMimeData) -> None:
        files = local_files(source)
        if files:
            self.filesDropped.emit(files)
        else:
            super().insertFromMimeData(source)

    def append_unedited(self, text: str) -> None:
        """Add ``text`` at the end (the rest of a document), leaving the cursor, the scroll
        position and the highlight where they are; not something Undo takes back."""
        document = self.document()
        document.setUndoRedoEnabled(False)
        cursor = QTextCursor(document)
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(text, QTextCharFormat())  # not the highlight's format
        document.setUndoRedoEnabled(True)

    # -- highlight -------------------------------------------------------------------------

    @property
    def highlighted(self) -> tuple[int, int] | None:
        """The highlighted (start, end) in Qt positions, or None."""
        return self._highlight

    def set_highlight(self, start: int, end: int) -> None:
        """Highlight [start, end) (Qt positions) with the palette's highlight colours and scroll
        it into view without moving the user's cursor or selection."""
        length = self.document().characterCount() - 1
        start, end = max(0, min(start, length)), max(0, min(end, length))
        cursor = QTextCursor(self.document())
        cursor.setPosition(start)
        cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
        selection = QTextEdit.ExtraSelection()
        selection.cursor = cursor  # type: ignore[attr-defined]
        fmt = QTextCharFormat()
        fmt.setBackground(self.palette().color(QPalette.ColorRole.Highlight))
        fmt.setForeground(self.palette().color(QPalette.ColorRole.HighlightedText))
        selection.format = fmt  # type: ignore[attr-defined]
        self.setExtraSelections([selection])
        self._highlight = (start, end)
        self._scroll_to(cursor)

    def clear_highlight(self) -> None:
        self.setExtraSelections([])
        self._highlight = None

    def _scroll_to(self, cursor: QTextCursor) -> None:
        rect = self.cursorRect(cursor)
        viewport = self.viewport().rect()
        if viewport.top() <= rect.top() and rect.bottom() <= viewport.bottom():
            return
        # QPlainTextEdit scrolls by lines: bring the sentence to a third of the way down.
        line = max(1, self.fontMetrics().lineSpacing())
        bar = self.verticalScrollBar()
        bar.setValue(bar.value() + (rect.top() - viewport.height() // 3) // line)

    def text_to_read(self) -> tuple[str, int]:
        """The text Play reads, and its Python offset in the document: the selection, else from
        the word at the cursor to the end, else (cursor at the end) everything."""
        document = self.toPlainText()
        cursor = self.textCursor()
        if cursor.hasSelection():
            start = from_qt(document, cursor.selectionStart())
            end = from_qt(document, cursor.selectionEnd())
            return document[start:end], start
        if not document[from_qt(document, cursor.position()):].strip():
            return document, 0  # nothing after the cursor: read it all
        cursor.movePosition(QTextCursor.MoveOperation.StartOfWord)
        start = from_qt(document, cursor.position())
        return document[start:], start

    def move_cursor(self, offset: int) -> None:
        cursor = self.textCursor()
        cursor.setPosition(to_qt(self.toPlainText(), offset))
        self.setTextCursor(cursor)
        self.centerCursor()
