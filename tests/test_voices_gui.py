"""The Voice Profiles dialog with real widgets on Xvfb (pytest-qt), a real store on disk, and for
the recording the real microphone path: PortAudio reading the PulseAudio null sink's monitor."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAccessible, QColor, QPalette
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QWidget,
)
from window_helpers import show_active

from voxdesk.engine import SynthesisParams
from voxdesk.gui.main_window import MainWindow
from voxdesk.gui.voices import AddVoiceDialog, RecordDialog, VoiceProfilesDialog
from voxdesk.settings import Settings
from voxdesk.testing.signals import speech_like, tone, write_clip
from voxdesk.voices import VoiceStore

pytestmark = pytest.mark.gui


@pytest.fixture
def store(data_dir: Path) -> VoiceStore:
    return VoiceStore()  # the user's store, in the test's private data folder


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    return write_clip(tmp_path / "anna.wav", speech_like(3.0, seed=1))


@pytest.fixture
def previews() -> list:
    return []


@pytest.fixture
def dialog(qtbot, store, previews) -> VoiceProfilesDialog:
    d = VoiceProfilesDialog(store, previews.append)
    qtbot.addWidget(d)
    show_active(qtbot, d)  # mnemonics and shortcuts need the active window
    return d


def drive_modal(cls: type[QDialog], action: Callable[[QDialog], None],
                errors: list[BaseException], timeout_s: float = 20) -> None:
    """Run ``action`` on the next modal ``cls`` dialog once it is open (its exec() blocks the
    test). A failure is kept in ``errors`` and the dialog closed, so the test never hangs."""
    deadline = time.monotonic() + timeout_s

    def poll() -> None:
        widget = QApplication.activeModalWidget()
        if not isinstance(widget, cls):
            if time.monotonic() < deadline:
                QTimer.singleShot(20, poll)
            else:
                errors.append(AssertionError(f"no {cls.__name__} was opened"))
            return
        try:
            action(widget)
        except BaseException as exc:  # noqa: BLE001 - re-raised by the test
            errors.append(exc)
            widget.reject()

    QTimer.singleShot(0, poll)


def raise_first(errors: list[BaseException]) -> None:
    if errors:
        raise errors[0]


def snapshot(store: VoiceStore, name: str) -> tuple:
    """Everything a voice is, including its audio bytes (not where it is kept)."""
    p = store.get(name)
    return (p.name, p.transcript, p.mode, p.language, p.params, p.created, p.duration,
            p.audio_sha256, hashlib.sha256(p.audio_path.read_bytes()).hexdigest())


# -- the list -------------------------------------------------------------------------------


def test_search_filters_by_name_transcript_and_language(dialog, store, clip, qtbot):
    store.add("Anna", clip, transcript="Hello, I am Anna.", language="en")
    store.add("Bernd", clip, language="de")
    store.add("Carla", clip)
    dialog.refresh()
    assert dialog.names() == ["Anna", "Bernd", "Carla"] and dialog.empty_label.isHidden()

    qtbot.keySequence(dialog, "Ctrl+F")
    assert dialog.focusWidget() is dialog.search
    qtbot.keyClicks(dialog.search, "DE")  # case does not matter
    assert dialog.names() == ["Bernd"] and dialog.selected().name == "Bernd"
    assert dialog.name_label.text() == "Bernd" and dialog.language.text() == "de"
    dialog.search.setText("i am")  # every word, in the transcript
    assert dialog.names() == ["Anna"]
    dialog.search.setText("nobody")
    assert dialog.names() == [] and dialog.selected() is None
    assert not dialog.details.isEnabled()  # nothing to rename or delete
    dialog.search.clear()
    assert dialog.names() == ["Anna", "Bernd", "Carla"] and dialog.selected() is not None


def test_an_empty_store_says_how_to_start(dialog):
    assert dialog.names() == [] and dialog.empty_label.isVisible()
    assert not dialog.details.isEnabled()


# -- adding -----------------------------------------------------------------------------------


def test_add_from_file_keeps_the_dialog_open_on_a_bad_file(dialog, store, clip, tmp_path,
                                                           qtbot):
    silent = write_clip(tmp_path / "silent.wav", np.zeros(44100 * 2, np.float32))
    changed: list[None] = []
    dialog.profilesChanged.connect(lambda: changed.append(None))
    errors: list[BaseException] = []

    def fill_in(add: AddVoiceDialog) -> None:
        qtbot.keyClicks(add.name, "Anna")
        add.audio.setText(str(silent))
        qtbot.keyClicks(add.transcript, "Hello, I am Anna.")
        add.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save).click()
        # Refused: the message says why, and what was typed is still there.
        qtbot.waitUntil(lambda: add.message_box is not None and add.message_box.isVisible())
        assert "silent" in add.message_box.text()
        assert add.isVisible() and add.name.text() == "Anna"
        add.message_box.close()
        add.audio.setText(str(clip))
        add.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save).click()

    drive_modal(AddVoiceDialog, fill_in, errors)
    dialog.import_audio_button.click()
    raise_first(errors)
    assert dialog.names() == ["Anna"] and dialog.selected().name == "Anna"
    assert store.get("Anna").transcript == "Hello, I am Anna."
    assert dialog.transcript.toPlainText() == "Hello, I am Anna."
    assert changed == [None]


def test_adding_with_a_name_in_use_is_refused(dialog, store, clip, qtbot):
    assert dialog.add_from_audio(clip, name="Anna").name == "Anna"
    before = snapshot(store, "Anna")
    assert dialog.add_from_audio(clip, name="anna") is None  # names ignore case
    qtbot.waitUntil(lambda: dialog.message_box is not None and dialog.message_box.isVisible())
    assert "already a voice called “Anna”" in dialog.message_box.text()
    assert dialog.names() == ["Anna"] and snapshot(store, "Anna") == before


# -- changing ---------------------------------------------------------------------------------


def test_rename_delete_and_undo_restores_the_voice_intact(dialog, store, clip, qtbot):
    store.add("Anna", clip, transcript="Hello.", language="en",
              params=SynthesisParams(cfg_value=1.5, seed=3))
    store.add("Bob", clip)
    dialog.refresh(select="Anna")

    assert dialog.rename_selected("Anna B").name == "Anna B"
    assert dialog.names() == ["Anna B", "Bob"] and dialog.selected().name == "Anna B"
    assert dialog.rename_selected("bob") is None  # taken: refused, nothing changes
    qtbot.waitUntil(lambda: dialog.message_box is not None)
    assert "already a voice called “Bob”" in dialog.message_box.text()
    dialog.message_box.close()
    assert dialog.names() == ["Anna B", "Bob"]
    before = snapshot(store, "Anna B")

    # Delete from the keyboard (the list has the focus), then undo with Ctrl+Z.
    dialog.list.setFocus()
    qtbot.keyClick(dialog.list, Qt.Key.Key_Delete)
    assert dialog.names() == ["Bob"]
    assert dialog.undo_bar.isVisible() and "Anna B" in dialog.undo_label.text()
    assert [p.name for p in store.list()] == ["Bob"]
    qtbot.keySequence(dialog, "Ctrl+Z")
    assert dialog.names() == ["Anna B", "Bob"] and dialog.selected().name == "Anna B"
    assert snapshot(store, "Anna B") == before
    assert not dialog.undo_bar.isVisible()


def test_editing_details_saves_them(dialog, store, clip, qtbot):
    store.add("Anna", clip)
    dialog.refresh()
    assert not dialog.save_button.isEnabled()
    qtbot.keyClicks(dialog.transcript, "Some words.")
    qtbot.keyClicks(dialog.language, "en")
    assert dialog.save_button.isEnabled()
    dialog.save_button.click()
    saved = store.get("Anna")
    # With a transcript the voice continues the recording (as `voxdesk voices set --text`)...
    assert (saved.transcript, saved.language, saved.mode) == ("Some words.", "en",
                                                              "continuation")
    assert dialog.mode.currentData() == "continuation" and not dialog.save_button.isEnabled()
    # ...unless another mode is chosen; and without one it clones from the sound alone again.
    dialog.mode.setCurrentIndex(dialog.mode.findData("reference"))
    dialog.save_button.click()
    assert store.get("Anna").mode == "reference"
    dialog.transcript.clear()
    dialog.mode.setCurrentIndex(dialog.mode.findData("continuation"))
    dialog.save_button.click()  # continuation needs a transcript: refused, nothing changes
    qtbot.waitUntil(lambda: dialog.message_box is not None)
    assert "needs the transcript" in dialog.message_box.text()
    assert store.get("Anna").transcript == "Some words."


def test_export_and_import_back_gets_a_new_name_and_keeps_the_original(dialog, store, clip,
                                                                      tmp_path):
    store.add("Anna", clip, transcript="Hello.")
    dialog.refresh()
    original = store.get("Anna")
    path = dialog.export_selected(tmp_path / "anna.voxvoice")
    assert path == tmp_path / "anna.voxvoice" and path.is_file()

    imported = dialog.import_voice_file(path)
    assert imported.name == "Anna (2)"
    assert dialog.names() == ["Anna", "Anna (2)"] and dialog.selected().name == "Anna (2)"
    assert store.get("Anna") == original  # untouched, not overwritten
    assert snapshot(store, "Anna (2)")[1:] == snapshot(store, "Anna")[1:]
    assert imported.folder != original.folder


def test_preview_hands_the_selected_voice_to_the_window(dialog, store, clip, previews, qtbot):
    store.add("Anna", clip)
    dialog.refresh()
    store.add("Bob", clip)
    dialog.refresh(select="Anna")
    dialog.preview_button.click()
    dialog.list.setFocus()
    qtbot.keyClick(dialog.list, Qt.Key.Key_Down)
    qtbot.keyClick(dialog.list, Qt.Key.Key_Return)
    assert [p.name for p in previews] == ["Anna", "Bob"]
    item = dialog.list.visualItemRect(dialog.list.item(0)).center()
    qtbot.mouseClick(dialog.list.viewport(), Qt.MouseButton.LeftButton, pos=item)
    assert dialog.selected().name == "Anna" and len(previews) == 2  # selecting is silent
    qtbot.mouseDClick(dialog.list.viewport(), Qt.MouseButton.LeftButton, pos=item)
    assert [p.name for p in previews] == ["Anna", "Bob", "Anna"]  # once per double-click


def test_damaged_profiles_are_reported_readably_on_a_dark_theme(qtbot, store, clip):
    store.add("Anna", clip)
    (store.root / "broken-1234").mkdir()  # no profile.json
    app = QApplication.instance()
    light = app.palette()
    dark = QPalette(light)
    for role, colour in ((QPalette.ColorRole.Window, "#202020"),
                         (QPalette.ColorRole.WindowText, "#f0f0f0"),
                         (QPalette.ColorRole.Base, "#181818"),
                         (QPalette.ColorRole.Text, "#f0f0f0")):
        dark.setColor(role, QColor(colour))
    app.setPalette(dark)
    try:
        d = VoiceProfilesDialog(store, lambda _: None)
        qtbot.addWidget(d)
        with qtbot.waitExposed(d):
            d.show()
        assert d.names() == ["Anna"] and d.problems_label.isVisible()
        assert "broken-1234" in d.problems_label.text()
        # No colour is fixed anywhere: everything follows the theme...
        for widget in [d, *d.findChildren(QWidget)]:
            assert "color" not in widget.styleSheet(), widget
        # ...so the message is light text on the dark window.
        image = d.problems_label.grab().toImage()
        lightness = [image.pixelColor(x, y).lightness() for x in range(image.width())
                     for y in range(image.height())]
        assert max(lightness) > 180 and np.median(lightness) < 60
    finally:
        app.setPalette(light)


# -- the window's voice picker ------------------------------------------------------------------


def test_the_windows_voice_picker_follows_the_dialog(qtbot, store, clip, data_dir):
    window = MainWindow(Settings(), voice_store=store)
    qtbot.addWidget(window)
    combo = window.voice_panel.combo

    def picker() -> list[str]:
        return [combo.itemText(i) for i in range(combo.count())]

    assert picker() == ["Model default voice", "Reference clip…"]
    errors: list[BaseException] = []

    def manage(d: VoiceProfilesDialog) -> None:
        d.add_from_audio(clip, "Hello.", name="Zed")
        assert "Profile: Zed" in picker()  # while the dialog is still open
        d.rename_selected("Zoe")
        assert "Profile: Zoe" in picker() and "Profile: Zed" not in picker()
        d.delete_selected()
        assert "Profile: Zoe" not in picker()
        d.undo_delete()
        assert "Profile: Zoe" in picker()
        d.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Close).click()

    drive_modal(VoiceProfilesDialog, manage, errors)
    window.actions_by_name["manage_voices"].trigger()  # Voice ▸ Manage voice profiles…
    raise_first(errors)
    assert picker() == ["Model default voice", "Profile: Zoe", "Reference clip…"]
    combo.setCurrentIndex(1)
    combo.activated.emit(1)
    assert window.voice_panel.voice().prompt_wav == store.get("Zoe").audio_path


# -- recording --------------------------------------------------------------------------------


def test_record_a_voice_with_the_microphone(dialog, store, sink_recorder, monkeypatch, qtbot):
    from voxdesk.audio.player import Player

    # The sink's monitor stands in for the microphone (see tests/test_recorder.py).
    monkeypatch.setenv("PULSE_SOURCE", f"{sink_recorder().sink}.monitor")
    errors: list[BaseException] = []
    meter: list[int] = []
    sentence: list[str] = []

    def record(rec: RecordDialog) -> None:
        ok = rec.buttons.button(QDialogButtonBox.StandardButton.Ok)
        assert rec.device.currentData() is None and not ok.isEnabled()  # system default
        sentence.append(rec.transcript)
        assert rec.sentence.text() == rec.transcript
        rec.record_button.click()
        assert rec.recording and rec.record_button.text() == "&Stop"
        qtbot.waitUntil(lambda: rec._recorder.seconds > 0.2, timeout=5000)  # audio flows
        qtbot.wait(150)  # a few meter updates of silence
        meter.append(rec.meter.value())
        player = Player()
        player.begin(48000)
        player.write(tone(440.0, 1.5))
        player.end_of_input()
        try:
            def heard() -> bool:
                meter.append(rec.meter.value())
                return player.wait(timeout=0)
            qtbot.waitUntil(heard, timeout=10000)
        finally:
            player.close()
        qtbot.wait(300)
        rec.record_button.click()  # Stop
        assert not rec.recording and rec.status.text().startswith("Recorded ")
        assert ok.isEnabled()
        drive_modal(AddVoiceDialog, name_it, errors)
        ok.click()

    def name_it(add: AddVoiceDialog) -> None:
        assert add.audio.isReadOnly() and Path(add.audio.text()).is_file()
        assert add.transcript.text() == sentence[0]
        qtbot.keyClicks(add.name, "Me")
        add.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save).click()

    drive_modal(RecordDialog, record, errors)
    dialog.record_button.click()
    raise_first(errors)
    # The meter rested at the bottom, then showed the tone (-6 dBFS is 540 of 600).
    assert meter[0] < 100 and max(meter[1:]) > 500
    me = store.get("Me")
    assert me.transcript == sentence[0] and me.mode == "continuation"
    assert 1.2 < me.duration < 2.1  # silence around it trimmed (a busy machine may add pauses)
    assert dialog.names() == ["Me"] and dialog.selected().name == "Me"


# -- accessibility and keyboard -----------------------------------------------------------------


CONTROLS = (QAbstractButton, QLineEdit, QPlainTextEdit, QComboBox, QListWidget)


def controls(dialog: QWidget) -> list[QWidget]:
    """The controls a person operates (not Qt's internals such as a combo box's popup)."""
    found = []
    for widget in dialog.findChildren(QWidget):
        if not isinstance(widget, CONTROLS) or widget.objectName().startswith("qt_"):
            continue
        if isinstance(widget.parent(), (QLineEdit, QComboBox)):
            continue  # the search field's clear button, a combo's parts
        found.append(widget)
    return found


def mnemonic(text: str) -> str | None:
    index = text.replace("&&", "").find("&")
    return text.replace("&&", "")[index + 1].lower() if index >= 0 else None


def check_names_and_keys(dialog: QWidget) -> None:
    labels = {label.buddy(): label.text() for label in dialog.findChildren(QLabel)
              if label.buddy() is not None}
    box_buttons = {b for box in dialog.findChildren(QDialogButtonBox) for b in box.buttons()}
    letters: list[str] = []
    for widget in controls(dialog):
        iface = QAccessible.queryAccessibleInterface(widget)
        name = iface.text(QAccessible.Text.Name)
        if isinstance(widget, QComboBox):
            # On Linux a combo box's name is its value; its label comes as a relation.
            assert widget.accessibleName(), widget
            assert iface.relations(QAccessible.Relation.Label), widget.accessibleName()
        else:
            assert name, widget
        if isinstance(widget, QAbstractButton):
            key = mnemonic(widget.text())
            # Buttons of the dialog's button box answer Enter (accept) and Esc (reject).
            assert key or widget in box_buttons, name
        else:
            key = mnemonic(labels.get(widget, ""))
            assert key or widget.accessibleName() == "Search voices", name  # Ctrl+F
        if key:
            letters.append(key)
    assert len(letters) == len(set(letters)), sorted(letters)


def test_every_control_has_a_name_and_a_keyboard_path(dialog, store, clip, qtbot):
    store.add("Anna", clip)
    dialog.refresh()
    check_names_and_keys(dialog)
    check_names_and_keys(AddVoiceDialog(store, parent=dialog))
    check_names_and_keys(RecordDialog(dialog))
    # The mnemonics really move the focus (Alt+letter) in the running dialog.
    for keys, widget in (("Alt+V", dialog.list), ("Alt+M", dialog.mode),
                         ("Alt+G", dialog.language), ("Alt+T", dialog.transcript),
                         ("Ctrl+F", dialog.search)):
        qtbot.keySequence(dialog, keys)
        assert dialog.focusWidget() is widget, keys
