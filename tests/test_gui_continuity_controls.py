"""The Advanced section's continuity switch and pause lengths: reached from the keyboard in the
real window, seen by the controller (so by every utterance it starts), and kept in the settings."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget
from window_helpers import show_active

from voxdesk.engine import SynthesisParams
from voxdesk.gui.main_window import MainWindow
from voxdesk.settings import Settings

pytestmark = pytest.mark.gui

DEFAULTS = SynthesisParams()


def by_name(window: QWidget, name: str) -> QWidget:
    found = [w for w in window.findChildren(QWidget) if w.accessibleName() == name]
    assert len(found) == 1, (name, found)
    return found[0]


def type_value(qtbot, text: str) -> None:
    """Replace the focused spin box's value as a person does: select all, type, Enter."""
    focused = qtbot_focus()
    qtbot.keyClick(focused, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(focused, text)
    qtbot.keyClick(focused, Qt.Key.Key_Return)


def qtbot_focus() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None
    return widget


def test_continuity_and_pauses_from_the_keyboard_reach_the_controller_and_are_kept(
        qtbot, warm_engine, data_dir):
    window = MainWindow(Settings(), engine=warm_engine)
    qtbot.addWidget(window)
    show_active(qtbot, window)
    window.advanced.set_expanded(True)
    panel = window.params_panel
    qtbot.waitUntil(lambda: panel.continuity.isVisible() and window.isActiveWindow())
    names = ("Keep one voice through the text", "Pause between sentences",
             "Pause between paragraphs")
    assert [by_name(window, n) for n in names] == [
        panel.continuity, panel.sentence_pause, panel.paragraph_pause]
    # The defaults, as the engine has them.
    assert panel.continuity.isChecked() == DEFAULTS.continuity
    assert window.controller.params.sentence_pause == DEFAULTS.sentence_pause

    window.editor.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_K, Qt.KeyboardModifier.AltModifier)  # the mnemonic
    qtbot.waitUntil(lambda: not panel.continuity.isChecked(), timeout=5000)
    qtbot.keyClick(window, Qt.Key.Key_B, Qt.KeyboardModifier.AltModifier)
    assert qtbot_focus() is panel.sentence_pause.lineEdit() or \
        qtbot_focus() is panel.sentence_pause
    type_value(qtbot, "0.5")
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.AltModifier)
    type_value(qtbot, "1.25")

    # What the controller will ask the engine for, for any text the window speaks.
    request = window.controller.request("One sentence. Another.\n\nA new paragraph.")
    assert request.params.continuity is False
    assert request.params.sentence_pause == 0.5 and request.params.paragraph_pause == 1.25
    # The other settings are untouched.
    assert request.params.cfg_value == DEFAULTS.cfg_value

    window.close()
    saved = Settings.load().params
    assert (saved.continuity, saved.sentence_pause, saved.paragraph_pause) == (False, 0.5, 1.25)
    again = MainWindow(Settings.load(), engine=warm_engine)
    qtbot.addWidget(again)
    assert not again.params_panel.continuity.isChecked()
    assert again.params_panel.sentence_pause.value() == 0.5
    assert again.params_panel.paragraph_pause.value() == 1.25
    again.close()
