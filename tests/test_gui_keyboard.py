"""Keyboard first: every action and every control of the real window has an accessible name and a
key that reaches it, and no two keys clash (one key, one thing)."""

from __future__ import annotations

from collections import defaultdict

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAccessible, QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSlider,
    QAbstractSpinBox,
    QComboBox,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPlainTextEdit,
    QScrollBar,
    QTextEdit,
    QToolButton,
    QWidget,
)
from window_helpers import open_window

from voxdesk.gui.main_window import MainWindow

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
        parent = widget.parentWidget()  # a combo box's popup, a line edit's clear button
        while parent is not None and not isinstance(parent, (QComboBox, QLineEdit)):
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


def spoken_name(widget: QWidget) -> str:
    """The name a screen reader announces (a button's text when it has no accessible name)."""
    interface = QAccessible.queryAccessibleInterface(widget)
    return interface.text(QAccessible.Text.Name).replace("&", "").strip() if interface else ""


def dialog_keys(widget: QWidget) -> list[str]:
    """Enter presses a dialog's accepting button and Esc its rejecting one."""
    box = widget.parentWidget()
    if not isinstance(box, QDialogButtonBox) or not isinstance(widget, QAbstractButton):
        return []
    role = box.buttonRole(widget)
    return {QDialogButtonBox.ButtonRole.AcceptRole: ["Return"],
            QDialogButtonBox.ButtonRole.RejectRole: ["Esc"]}.get(role, [])


def action_of(widget: QWidget) -> QAction | None:
    return widget.defaultAction() if isinstance(widget, QToolButton) else None


def keyboard_problems(top: QWidget, focused_by: dict[str, QAction]) -> tuple[list[str], dict]:
    """What lacks a name or a key in ``top`` (a window or dialog), and the keys that two
    things share. ``focused_by``: controls reached by an action's key instead of their own."""
    missing = []
    owners: dict[str, set[str]] = defaultdict(set)
    for action in top.actions():
        name = action.text().replace("&", "").strip()
        keys = [key.toString() for key in action.shortcuts()]
        if not name or not keys:
            missing.append(f"action {action.objectName()!r} ({name!r}): shortcuts {keys}")
        for key in keys:
            owners[key].add(f"action {action.objectName()}")
    if isinstance(top, QMainWindow):
        for menu_action in top.menuBar().actions():
            owners[mnemonic(menu_action.text())].add(f"menu {menu_action.text()}")

    for widget in controls(top):
        name = spoken_name(widget)
        keys = own_keys(top, widget) + dialog_keys(widget)
        action = action_of(widget) or focused_by.get(name)
        if action is not None:
            keys += [key.toString() for key in action.shortcuts()]
        if not name or not keys:
            missing.append(f"{type(widget).__name__} {name!r}: keys {keys}")
        for key in own_keys(top, widget):  # an action's own keys are counted above
            owners[key].add(f"control {name}")
    clashes = {key: sorted(who) for key, who in owners.items() if len(who) > 1}
    return missing, clashes


def test_every_action_and_control_has_a_name_and_a_key_and_no_key_clashes(window):
    focused_by = {name: window.actions_by_name[key] for name, key in FOCUSED_BY_ACTION.items()}
    missing, clashes = keyboard_problems(window, focused_by)
    assert not missing, "\n".join(missing)
    assert not clashes, clashes


def test_the_keys_reach_the_text_and_the_voice_picker(window, qtbot):
    combo = window.voice_panel.combo
    qtbot.keyClick(window, Qt.Key.Key_V, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(combo.hasFocus, timeout=2000)
    qtbot.keyClick(combo, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(window.editor.hasFocus, timeout=2000)


def dialogs(window: MainWindow) -> list[tuple[QWidget, dict[str, QAction]]]:
    """The dialogs a person opens from the window, each with the actions that focus a control
    of it that has no label."""
    from voxdesk.gui.first_run import FirstRunDialog
    from voxdesk.gui.settings_dialog import SettingsDialog
    from voxdesk.gui.voice_design import VoiceDesignDialog
    from voxdesk.gui.voices import VoiceProfilesDialog
    from voxdesk.gui.voices.add_dialog import AddVoiceDialog
    from voxdesk.gui.voices.record_dialog import RecordDialog

    store = window.controller.voice_store
    profiles = VoiceProfilesDialog(store, lambda _profile: None, window)
    return [(profiles, {"Search voices": profiles.find_action}),
            (SettingsDialog("", window), {}),
            (FirstRunDialog(window, tasks=window.controller.tasks), {}),
            (VoiceDesignDialog(store, None, window), {}),
            (AddVoiceDialog(store, None, None, window), {}),
            (RecordDialog(window), {})]


def test_every_dialog_control_has_a_name_and_a_key_and_no_key_clashes(window, qtbot):
    found = {}
    for dialog, focused_by in dialogs(window):
        dialog.show()
        missing, clashes = keyboard_problems(dialog, focused_by)
        if missing or clashes:
            found[type(dialog).__name__] = (missing, clashes)
        if hasattr(dialog, "shutdown"):
            dialog.shutdown()
        if hasattr(dialog, "discard"):
            dialog.discard()
        dialog.close()
    assert not found, found
