"""The controller's document: opening one (at once, or in the background from its first
chapters with the rest appended), keeping its outline in step with the text shown, and saving
the reading position as it plays. A part of
:class:`~voxdesk.gui.controller.SpeechController`, kept in its own module; it emits the
controller's signals."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from voxdesk.documents import OpenedDocument
from voxdesk.errors import VoxDeskError
from voxdesk.gui.errors import describe
from voxdesk.gui.navigation import Reading
from voxdesk.gui.reading import Chapter, outline_of, relocate
from voxdesk.gui.shown_document import ShownDocument, first_chapters, lay_out
from voxdesk.reading_position import PositionStore

log = logging.getLogger(__name__)


class DocumentControl:
    """Mixed into the controller, which provides these attributes and signals."""

    document: ShownDocument | None
    outline: tuple[Chapter, ...]
    positions: PositionStore
    tasks: Any  # the TaskRunner
    _opening: int
    _reading: Reading | None
    _read_on_at: int | None
    documentOpened: Any
    documentExtended: Any
    documentFailed: Any
    outlineChanged: Any
    positionSaved: Any
    failed: Any

    if TYPE_CHECKING:  # the controller's
        def stop(self) -> None: ...
        def read(self, document: str, start: int = 0, end: int | None = None) -> bool: ...

    def open_document(self, source: str | Path) -> bool:
        """Open a document on this thread, whole (``documentOpened`` follows), or show why not
        and return False. For small files and scripts; the window opens in the background."""
        from voxdesk.documents import open_document

        self._opening += 1
        try:
            shown = lay_out(open_document(str(source)))
        except VoxDeskError as exc:
            self.documentFailed.emit(exc.message, exc.hint or "")
            self.failed.emit(exc.message, exc.hint or "")
            return False
        self._show_document(shown)
        return True

    def open_document_in_background(self, source: str | Path) -> None:
        """Open any document voxdesk.documents reads (a file or a URL) on the "document" lane;
        ``documentOpened`` or ``documentFailed`` follows. Nothing changes until its first
        chapters are extracted, so a bad document leaves the one shown as it was. A big book
        (PDF, EPUB) is shown up to the chapter where it resumes, and the rest is extracted on
        a thread of its own (closing the window does not wait for it) and appended
        (``documentExtended``)."""
        from voxdesk.documents import open_document

        self._opening += 1
        ticket = self._opening
        positions = self.positions

        def first() -> tuple[OpenedDocument, ShownDocument]:
            opened = open_document(str(source))
            saved = positions.load(opened.identity)
            return opened, first_chapters(opened, saved.chapter if saved is not None else 1)

        def done(result: tuple[OpenedDocument, ShownDocument]) -> None:
            opened, shown = result
            if ticket != self._opening:
                return
            self._show_document(shown)
            if not shown.complete:
                self.tasks.run(lambda: lay_out(opened),
                               lambda whole: self._extend_document(whole, ticket), failed)

        def failed(exc: BaseException) -> None:
            if ticket == self._opening:
                message, hint = describe(exc)
                self.documentFailed.emit(message, hint)
                self.failed.emit(message, hint)

        self.tasks.run(first, done, failed, lane="document")

    def _show_document(self, shown: ShownDocument) -> None:
        self.stop()
        self.document = shown
        self._set_outline(shown.outline)
        self.documentOpened.emit(shown)

    def _extend_document(self, whole: ShownDocument, ticket: int) -> None:
        """The rest of the document shown is extracted: it follows the chapters shown, and a
        reading that was to go to the end of them goes on into it."""
        shown = self.document
        if ticket != self._opening or shown is None or shown.identity != whole.identity \
                or not whole.text.startswith(shown.text):
            return  # another document was opened, or this one edited, meanwhile
        self.document = whole
        self._set_outline(whole.outline)
        reading = self._reading
        if reading is not None and reading.shown and reading.document == shown.text:
            self._reading = Reading(whole.text, reading.start, reading.end, True)
            if reading.end == len(shown.text):
                self._read_on_at = reading.end
        self.documentExtended.emit(whole, shown)

    def _read_on(self, _metrics: object = None) -> None:
        """An utterance ended at the end of the chapters first shown: read on into the rest."""
        reading, offset = self._reading, self._read_on_at
        self._read_on_at = None
        if reading is not None and offset is not None and offset < len(reading.document):
            self.read(reading.document, offset)

    def _save_position(self, offset: int) -> None:
        """Remember the sentence now starting to play (atomically: a crash keeps the last)."""
        if self.document is None:
            return
        position = self.document.position_at(offset)
        if position is None:
            return
        try:
            self.positions.save(position)
        except (OSError, VoxDeskError) as exc:
            log.warning("reading position not saved: %s", exc)
            return
        self.positionSaved.emit(position)

    def set_document_text(self, text: str) -> None:
        """The text in the window changed: keep the outline in step with it."""
        if self.document is not None:
            if text == self.document.text:
                self._set_outline(self.document.outline)
                return
            self.document = None  # edited: no longer the document whose position is kept
        found = outline_of(text)
        if not found and self.outline:
            found = relocate(self.outline, text)
        self._set_outline(found)

    def _set_outline(self, outline: tuple[Chapter, ...]) -> None:
        if outline != self.outline:
            self.outline = outline
            self.outlineChanged.emit(outline)
