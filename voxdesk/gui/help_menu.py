"""The Help menu: the keyboard shortcuts, the diagnostics report for a bug report, About."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMessageBox, QStatusBar, QWidget

from voxdesk.gui.actions import shortcuts_text
from voxdesk.gui.tasks import TaskRunner


def show_shortcuts(parent: QWidget) -> None:
    QMessageBox.information(parent, "Keyboard shortcuts", shortcuts_text())


def show_about(parent: QWidget) -> None:
    from voxdesk import __version__

    QMessageBox.about(parent, "About VoxDesk", f"VoxDesk {__version__}\nRead-aloud with the "
                      "VoxCPM text-to-speech model.")


def copy_diagnostics(tasks: TaskRunner, status: QStatusBar,
                     on_error: Callable[[BaseException], None],
                     copied: Callable[[str], None]) -> None:
    """Put the diagnostics report (for bug reports) on the clipboard. It is collected in the
    background: it imports torch and reads the log, which must not freeze the window."""
    from voxdesk.diagnostics import collect

    def done(text: str) -> None:
        QGuiApplication.clipboard().setText(text)
        status.showMessage("Diagnostics copied to the clipboard: paste them into your bug "
                           "report.", 10000)
        copied(text)

    status.showMessage("Collecting diagnostics…")
    tasks.run(collect, done, on_error)
