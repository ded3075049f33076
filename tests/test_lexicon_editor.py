"""Settings > Pronunciation lexicon in the real window under Xvfb: a bad regular expression
shows its reason and saves nothing; an entry added from the keyboard is written to the lexicon
file; "Hear it" and the window's own reading give the model the replacement while the window
keeps its text; entries are edited and removed."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from window_helpers import activate

from voxdesk.engine import SynthesisParams
from voxdesk.gui.main_window import MainWindow
from voxdesk.gui.settings_dialog import SettingsDialog
from voxdesk.lexicon import LexiconEntry, LexiconStore
from voxdesk.settings import Settings

pytestmark = pytest.mark.gui
ALT = Qt.KeyboardModifier.AltModifier


def test_lexicon_editor_refuses_bad_regex_saves_entries_and_hears_them(
        qtbot, warm_engine, data_dir, model_inputs, sink_recorder):
    window = MainWindow(Settings(params=SynthesisParams(max_len=4, seed=3)), engine=warm_engine)
    qtbot.addWidget(window)
    window.show()
    settings = SettingsDialog(window.settings.output_device, window,
                              hear=window.controller.hear)
    qtbot.addWidget(settings)
    with qtbot.waitExposed(settings):
        settings.show()
    assert settings.lexicon_button.accessibleName() == "Pronunciation lexicon"
    activate(qtbot, settings, timeout_ms=3000)
    qtbot.keyClick(settings.device, Qt.Key.Key_N, ALT)  # Pro&nunciation lexicon…
    qtbot.waitUntil(lambda: settings.lexicon_editor is not None
                    and settings.lexicon_editor.isVisible(), timeout=3000)
    editor = settings.lexicon_editor
    activate(qtbot, editor, timeout_ms=3000)
    for widget in (editor.table, editor.pattern, editor.replacement, editor.kind,
                   editor.match_case, editor.scope, editor.scope_value, editor.sample,
                   editor.add_button, editor.update_button, editor.remove_button,
                   editor.hear_button):
        assert widget.accessibleName(), widget
    for button in (editor.add_button, editor.update_button, editor.remove_button,
                   editor.hear_button):
        assert "&" in button.text()  # an Alt+letter shortcut
    store = LexiconStore()

    # A bad regular expression: refused with Python's reason, nothing written.
    editor.pattern.setFocus()
    qtbot.keyClicks(editor.pattern, "(Ngu")
    editor.kind.setCurrentIndex(editor.kind.findData("regex"))
    qtbot.keyClicks(editor.replacement, "Win")
    qtbot.keyClick(editor.pattern, Qt.Key.Key_D, ALT)  # Add (a mnemonic clicks on a timer)
    qtbot.waitUntil(editor.error.isVisible, timeout=3000)
    assert "missing )" in editor.error.text()
    assert not store.path.exists() and editor.table.rowCount() == 0

    # A whole word: added from the keyboard, written to the lexicon file.
    editor.pattern.clear()
    qtbot.keyClicks(editor.pattern, "Nguyen")
    editor.kind.setCurrentIndex(editor.kind.findData("word"))
    qtbot.keyClick(editor.pattern, Qt.Key.Key_D, ALT)
    qtbot.waitUntil(lambda: not editor.error.isVisible(), timeout=3000)
    assert store.load().entries == (LexiconEntry("Nguyen", "Win"),)
    assert editor.table.rowCount() == 1 and editor.table.item(0, 0).text() == "Nguyen"

    controller = window.controller
    with sink_recorder():
        # Hear it: the sample reaches the model with the replacement.
        qtbot.keyClicks(editor.sample, "Ask Nguyen.")
        with qtbot.waitSignal(controller.speechEnded, timeout=30000):
            qtbot.keyClick(editor.sample, Qt.Key.Key_H, ALT)
        assert model_inputs[-1] == "Ask Win."
        editor.reject()
        settings.reject()

        # The window's own reading uses the saved lexicon; its text and highlight do not.
        text = "Dr. Nguyen is here."
        window.editor.setPlainText(text)
        with qtbot.waitSignal(controller.sentenceChanged, timeout=30000,
                              check_params_cb=lambda i, start, end: i == 0) as heard:
            window.play()
        with qtbot.waitSignal(controller.speechEnded, timeout=30000):
            pass
    assert model_inputs[-1] == "Dr. Win is here."
    assert text[heard.args[1]:heard.args[2]] == text and window.editor.toPlainText() == text

    # Edit the selected entry, then remove it.
    editor = settings.open_lexicon()
    editor.table.selectRow(0)
    assert editor.pattern.text() == "Nguyen" and editor.replacement.text() == "Win"
    editor.replacement.setText("Nwin")
    editor.match_case.setChecked(True)
    editor.update_button.click()
    assert store.load().entries == (LexiconEntry("Nguyen", "Nwin", match_case=True),)
    editor.scope.setCurrentIndex(editor.scope.findData("voice"))
    editor.update_button.click()  # a voice scope without a voice: refused, nothing changed
    assert "which voice" in editor.error.text()
    assert store.load().entries == (LexiconEntry("Nguyen", "Nwin", match_case=True),)
    editor.remove_button.click()
    assert store.load().entries == () and editor.table.rowCount() == 0
    editor.reject()
