"""The one error presenter: what went wrong and what to do, without blocking the event loop.

Every window and dialog shows a :class:`~voxdesk.errors.VoxDeskError` (message + hint), or an
unexpected exception (a generic line; the traceback goes to the log), the same way. One box at a
time per parent: a newer error replaces the one on screen. The box deletes itself when closed;
the presenter never touches a deleted box (``shiboken6.isValid``).
"""

from __future__ import annotations

import logging

import shiboken6
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from voxdesk.errors import VoxDeskError

log = logging.getLogger(__name__)


def describe(exc: BaseException) -> tuple[str, str]:
    """(message, hint) for the user: a VoxDeskError's own, or a generic line for a bug."""
    if isinstance(exc, VoxDeskError):
        return exc.message, exc.hint
    log.error("unexpected error", exc_info=exc)
    return (f"Something went wrong: {exc or type(exc).__name__}.",
            "See the log for details (Help > Copy diagnostics).")


class ErrorPresenter(QObject):
    """Shows errors over ``parent``; ``box`` is the one on screen, or None."""

    shown = Signal(str, str)  # message, hint (for observers: tests, the tray)

    def __init__(self, parent: QWidget, title: str = "VoxDesk") -> None:
        super().__init__(parent)
        self._parent = parent
        self._title = title
        self._box: QMessageBox | None = None

    @property
    def box(self) -> QMessageBox | None:
        if self._box is not None and not shiboken6.isValid(self._box):
            self._box = None
        return self._box

    def show(self, message: str, hint: str = "") -> None:
        old = self.box
        if old is not None:
            old.close()
        box = QMessageBox(QMessageBox.Icon.Warning, self._title, message,
                          QMessageBox.StandardButton.Ok, self._parent)
        if hint:
            box.setInformativeText(hint)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.destroyed.connect(lambda *_: self._forget(box))
        self._box = box
        box.open()
        self.shown.emit(message, hint)

    def show_exception(self, exc: BaseException) -> None:
        self.show(*describe(exc))

    def _forget(self, box: QMessageBox) -> None:
        if self._box is box:
            self._box = None
