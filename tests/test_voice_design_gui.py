"""The voice-design dialog under Xvfb: describe, generate in the background, keep."""

from __future__ import annotations

from voxdesk.gui.voice_design import VoiceDesignDialog
from voxdesk.voices.store import VoiceStore


def test_design_dialog_generates_candidates_and_keeps_one(qtbot, engine, data_dir, monkeypatch):
    monkeypatch.setattr("voxdesk.voices.design.DESIGN_MAX_STEPS", 8)  # a short sample
    store = VoiceStore()
    dialog = VoiceDesignDialog(store, engine)
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.keep_button.isEnabled()  # nothing to keep yet
    dialog.name.setText("Designed")
    dialog.description.setPlainText("a bright young voice")
    dialog.seed.setValue(9)
    dialog.count.setValue(2)
    dialog.generate_button.click()
    qtbot.waitUntil(lambda: len(dialog.candidates) == 2 and dialog.generate_button.isEnabled(),
                    timeout=200_000)
    assert [c.seed for c in dialog.candidates] == [9, 10]
    dialog.list.setCurrentRow(1)
    dialog.keep_button.click()
    profile = store.get("Designed")
    assert profile.description == "a bright young voice" and profile.mode == "continuation"


def test_design_dialog_refuses_an_empty_description(qtbot, engine, data_dir, monkeypatch):
    shown = []
    monkeypatch.setattr("voxdesk.gui.voice_design.QMessageBox.warning",
                        lambda *args: shown.append(args[2]))
    dialog = VoiceDesignDialog(VoiceStore(), engine)
    qtbot.addWidget(dialog)
    dialog.generate_button.click()
    assert shown and "empty" in shown[0] and dialog.generate_button.isEnabled()
