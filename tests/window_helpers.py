"""What the window tests share: the real window shown and active, and what it highlights."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QWidget

from voxdesk.gui.main_window import MainWindow
from voxdesk.settings import Settings


def open_window(qtbot, engine=None, settings: Settings | None = None, store=None,
                max_steps: int | None = None, seed: int | None = None) -> MainWindow:
    """The real window, shown and active (its shortcuts need the active window) with the
    keyboard in the text; ``max_steps`` and ``seed`` keep its speech short and repeatable."""
    window = MainWindow(settings or Settings(), engine=engine, voice_store=store)
    qtbot.addWidget(window)
    if max_steps is not None:
        window.params_panel.set_max_steps(max_steps)
    if seed is not None:
        window.params_panel.seed.setValue(seed)
    show_active(qtbot, window)
    window.editor.setFocus()
    return window


def show_active(qtbot, widget: QWidget) -> None:
    """Show ``widget`` and wait until it is on screen and the active window. (pytest-qt's
    waitExposed and waitActive only wait as context managers; called plainly they return at
    once, and a key pressed then may reach no window.)"""
    with qtbot.waitExposed(widget, timeout=10000):
        widget.show()
    activate(qtbot, widget)


def activate(qtbot, window: QWidget, timeout_ms: int = 10000) -> None:
    """Window shortcuts need the active window (without a window manager, showing another
    window or a tooltip may leave none active)."""
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=timeout_ms)


def highlighted(window: MainWindow) -> str:
    """The text of the sentence highlighted as heard ("" when none is)."""
    span = window.editor.highlighted
    if span is None:
        return ""
    cursor = window.editor.textCursor()
    cursor.setPosition(span[0])
    cursor.setPosition(span[1], cursor.MoveMode.KeepAnchor)
    return cursor.selectedText()


def open_and_wait(qtbot, window: MainWindow, path: Path):
    """Open ``path`` in the window and wait until the whole of it is shown (a big document
    is shown from its first chapters, the rest follows); the ShownDocument."""
    with qtbot.waitSignal(window.documentShown, timeout=20000):
        window.open_path(path)
    qtbot.waitUntil(lambda: window.controller.document is not None
                    and window.controller.document.complete, timeout=20000)
    return window.controller.document


def play_until_heard(qtbot, window: MainWindow, text: str, timeout_ms: int = 20000) -> None:
    """Press Play and wait until the sentence ``text`` is highlighted as heard."""
    with qtbot.waitSignal(window.controller.speechStarted, timeout=timeout_ms):
        window.play()
    qtbot.waitUntil(lambda: highlighted(window) == text, timeout=timeout_ms)
