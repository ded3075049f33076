"""Keyboard first: every action and every control of the real window has an accessible name and a
key that reaches it, and no two keys clash (one key, one thing)."""

from __future__ import annotations

from collections import defaultdict

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSlider,
    QAbstractSpinBox,
    QComboBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QScrollBar,
    QTextEdit,
    QToolButton,
    QWidget,
)
from window_helpers import open_window

pytestmark = pytest.mark.gui

CONTROLS = (QAbstractButton, QAbstractSlider, QComboBox, QLineEdit, QAbstractSpinBox, QTextEdit,
            QPlainTextEdit, QAbstractItemView)
# Controls with no label of their own, reached by a window action instead (the second test
# presses that key and checks where the focus lands).
FOCUSED_BY_ACTION = {"Text": "focus_text"}


@pytest.fixture
def window(qtbot, data_dir):
    return open_window(qtbot)


def controls(window: QWidget) -> list[QWidget]:
    """What a person operates: not scroll bars, Qt's own helpers or a combo box's popup."""
    found = []
    for widget in window.findChildren(QWidget):
        if not isinstance(widget, CONTROLS) or isinstance(widget, QScrollBar):
            continue
        if widget.objectName().startswith("qt_"):
            continue
        parent = widget.parentWidget()
        while parent is not None and not isinstance(parent, QComboBox):
            parent = parent.parentWidget()
        if parent is None:
            found.append(widget)
    return found


def mnemonic(text: str) -> str:
    return QKeySequence.mnemonic(text).toString()


def own_keys(window: QWidget, widget: QWidget) -> list[str]:
    """The Alt+letter keys that focus or press ``widget`` itself (a label's buddy, a button's
    underlined letter)."""
    keys = [mnemonic(label.text()) for label in window.findChildren(QLabel)
            if label.buddy() is widget]
    if isinstance(widget, QAbstractButton):
        keys += [mnemonic(widget.text()), widget.shortcut().toString()]
    return [key for key in keys if key]


def action_of(widget: QWidget) -> QAction | None:
    return widget.defaultAction() if isinstance(widget, QToolButton) else None


def test_every_action_and_control_has_a_name_and_a_key_and_no_key_clashes(window):
    missing = []
    owners: dict[str, set[str]] = defaultdict(set)
    for action in window.actions():
        name = action.text().replace("&", "").strip()
        keys = [key.toString() for key in action.shortcuts()]
        if not name or not keys:
            missing.append(f"action {action.objectName()!r} ({name!r}): shortcuts {keys}")
        for key in keys:
            owners[key].add(f"action {action.objectName()}")
    for menu_action in window.menuBar().actions():
        owners[mnemonic(menu_action.text())].add(f"menu {menu_action.text()}")

    for widget in controls(window):
        name = widget.accessibleName()
        keys = own_keys(window, widget)
        action = action_of(widget)
        if action is None and name in FOCUSED_BY_ACTION:
            action = window.actions_by_name[FOCUSED_BY_ACTION[name]]
        if action is not None:
            keys += [key.toString() for key in action.shortcuts()]
        if not name or not keys:
            missing.append(f"{type(widget).__name__} {name!r}: keys {keys}")
        for key in own_keys(window, widget):  # an action's own keys are counted above
            owners[key].add(f"control {name}")

    assert not missing, "\n".join(missing)
    clashes = {key: sorted(who) for key, who in owners.items() if len(who) > 1}
    assert not clashes, clashes


def test_the_keys_reach_the_text_and_the_voice_picker(window, qtbot):
    combo = window.voice_panel.combo
    qtbot.keyClick(window, Qt.Key.Key_V, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(combo.hasFocus, timeout=2000)
    qtbot.keyClick(combo, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(window.editor.hasFocus, timeout=2000)
