"""The Desktop part of the Settings dialog, applied live: global shortcuts, tray, autostart.

The real window and Desktop (tray, X11 key grabs, instance socket) run in this process on Xvfb;
the dialog is filled in by typing on the X keyboard (xdotool), the clipboard is owned by xclip,
and the settings and the autostart entry are real files in private folders.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from desktop_helpers import needs_x_tools, press, set_clipboard
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QCheckBox,
    QDialogButtonBox,
    QKeySequenceEdit,
    QLabel,
    QWidget,
)

from voxdesk.gui.desktop import AUTOSTART_FILE, Desktop
from voxdesk.gui.main_window import MainWindow
from voxdesk.gui.settings_dialog import SettingsDialog
from voxdesk.hotkeys import Shortcut
from voxdesk.hotkeys.x11 import X11Hotkeys
from voxdesk.settings import Settings

pytestmark = [pytest.mark.gui, needs_x_tools]

CLIPBOARD_TEXT = "Read from the clipboard."


@pytest.fixture
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """$XDG_CONFIG_HOME of this test: the autostart entry must never land in the real one."""
    path = tmp_path / "xdg-config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(path))
    return path


class Running:
    """One VoxDesk as run_app builds it: settings from the config folder, window, Desktop."""

    def __init__(self, qtbot, engine) -> None:
        self.settings = Settings.load()
        self.window = MainWindow(self.settings, engine=engine)
        qtbot.addWidget(self.window)
        self.window.params_panel.set_max_steps(4)  # short: the tests only see speech start
        self.desktop = Desktop(QApplication.instance(), self.window, self.settings)
        assert self.desktop.start(hidden=False)
        qtbot.waitUntil(self.window.isVisible)

    def close(self) -> None:
        self.desktop.close()
        self.window.keep_in_tray = False
        self.window.close()


@pytest.fixture
def start(qtbot, warm_engine, data_dir, config_home) -> Iterator[Callable[[], Running]]:
    """Starts VoxDesk (again: a restart) on the same config folder; all are closed at the end."""
    quit_on_close = QApplication.quitOnLastWindowClosed()
    started: list[Running] = []

    def start_one() -> Running:
        for previous in started:
            previous.close()  # a restart: the old one lets go of its keys and socket first
        started.append(Running(qtbot, warm_engine))
        return started[-1]

    yield start_one
    for running in started:
        running.close()
    QApplication.setQuitOnLastWindowClosed(quit_on_close)


def edit_settings(qtbot, window: MainWindow, fill: Callable[[SettingsDialog], None],
                  accept: bool = True) -> SettingsDialog:
    """Open Settings from the window as a person does, let ``fill`` change it, press OK."""
    seen: list[SettingsDialog] = []
    failed: list[BaseException] = []

    def in_dialog() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, SettingsDialog)
        seen.append(dialog)
        try:
            qtbot.waitUntil(dialog.isActiveWindow)
            fill(dialog)
            if accept:
                click(qtbot, dialog.findChild(QDialogButtonBox).button(
                    QDialogButtonBox.StandardButton.Ok))
        except BaseException as exc:  # raised again below, outside Qt's event loop
            failed.append(exc)
        if dialog.isVisible():
            dialog.reject()  # never leave the modal loop hanging

    QTimer.singleShot(0, in_dialog)
    window.open_settings()
    if failed:
        raise failed[0]
    return seen[0]


def click(qtbot, widget: QWidget) -> None:
    # A check box reacts to its box and label only, at its left end; it may be wider.
    pos = QPoint(8, widget.height() // 2) if isinstance(widget, QCheckBox) else \
        widget.rect().center()
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton, pos=pos)


def record(qtbot, dialog: SettingsDialog, field: str, keys: str) -> None:
    """Click into a shortcut field and press ``keys`` on the X keyboard."""
    edit = getattr(dialog.desktop_section, field).edit
    edit.setFocus()
    qtbot.waitUntil(edit.hasFocus)
    press(keys)
    qtbot.waitUntil(lambda: edit.keySequence().toString().lower() == keys)


def hotkey_reads_clipboard(qtbot, window: MainWindow, keys: str, wait_ms: int = 3000) -> bool:
    """Whether pressing ``keys`` anywhere starts reading the clipboard aloud."""
    owner = set_clipboard(CLIPBOARD_TEXT)
    try:
        with qtbot.waitSignal(window.controller.requested, timeout=wait_ms,
                              raising=False) as blocker:
            press(keys)
        if not blocker.signal_triggered:
            return False
        (request,) = blocker.args
        assert request.text == CLIPBOARD_TEXT
        window.controller.stop()
        return True
    finally:
        owner.terminate()


def test_new_clipboard_shortcut_works_at_once_and_the_old_one_is_released(qtbot, start):
    voxdesk = start()
    assert hotkey_reads_clipboard(qtbot, voxdesk.window, "ctrl+alt+r")  # the default

    dialog = edit_settings(qtbot, voxdesk.window,
                           lambda d: record(qtbot, d, "read_clipboard", "ctrl+alt+k"))

    assert dialog.result() == SettingsDialog.DialogCode.Accepted
    assert voxdesk.settings.desktop.read_clipboard_hotkey == "Ctrl+Alt+K"
    assert voxdesk.desktop.read_aloud.hotkey_error is None
    assert hotkey_reads_clipboard(qtbot, voxdesk.window, "ctrl+alt+k")
    assert not hotkey_reads_clipboard(qtbot, voxdesk.window, "ctrl+alt+r", wait_ms=1000)
    # Nobody holds Ctrl+Alt+R any more: another program may now take it.
    other = X11Hotkeys()
    try:
        other.register(Shortcut.parse("Ctrl+Alt+R"), lambda: None)
    finally:
        other.close()


def test_settings_are_saved_and_used_again_after_a_restart(qtbot, start, config_home):
    voxdesk = start()

    def change(dialog: SettingsDialog) -> None:
        record(qtbot, dialog, "read_clipboard", "ctrl+alt+k")
        click(qtbot, dialog.desktop_section.read_selection.clear)
        click(qtbot, dialog.desktop_section.autostart)

    edit_settings(qtbot, voxdesk.window, change)
    saved = Settings.load(Settings.path())  # the file in VOXDESK_CONFIG_DIR, as written
    assert (saved.desktop.read_clipboard_hotkey, saved.desktop.read_selection_hotkey,
            saved.desktop.autostart) == ("Ctrl+Alt+K", "", True)

    again = start()  # a new VoxDesk reading the same config folder
    assert again.settings.desktop == saved.desktop
    assert hotkey_reads_clipboard(qtbot, again.window, "ctrl+alt+k")

    def check(dialog: SettingsDialog) -> None:
        section = dialog.desktop_section
        assert section.read_clipboard.keys().toString() == "Ctrl+Alt+K"
        assert section.read_selection.keys().isEmpty()
        assert section.autostart.isChecked()

    edit_settings(qtbot, again.window, check, accept=False)
    # Cancelled: the keys let go of while the dialog was open are grabbed again.
    assert hotkey_reads_clipboard(qtbot, again.window, "ctrl+alt+k")


def test_autostart_entry_is_written_valid_and_removed(qtbot, start, config_home):
    voxdesk = start()
    entry = config_home / "autostart" / AUTOSTART_FILE
    assert not entry.exists()

    edit_settings(qtbot, voxdesk.window,
                  lambda d: click(qtbot, d.desktop_section.autostart))

    assert voxdesk.settings.desktop.autostart
    text = entry.read_text()
    if shutil.which("desktop-file-validate"):
        check = subprocess.run(["desktop-file-validate", str(entry)], capture_output=True,
                               text=True)
        assert check.returncode == 0 and not check.stdout.strip(), check.stdout + check.stderr
    exec_line = next(line for line in text.splitlines() if line.startswith("Exec="))
    command = shlex.split(exec_line.removeprefix("Exec="))
    assert command[-1] == "--tray"
    assert Path(command[0]).name == "voxdesk" or command[-3:-1] == ["-m", "voxdesk"]
    # The same program, asked for its version, really is VoxDesk.
    version = subprocess.run([*command[:-1], "--version"], capture_output=True, text=True,
                             timeout=60)
    assert version.returncode == 0 and version.stdout.startswith("voxdesk "), version.stderr

    edit_settings(qtbot, voxdesk.window,
                  lambda d: click(qtbot, d.desktop_section.autostart))
    assert not entry.exists()
    assert not Settings.load(Settings.path()).desktop.autostart


def test_unusable_shortcuts_are_refused_in_the_dialog(qtbot, start):
    voxdesk = start()
    problems: list[str] = []

    def fill(dialog: SettingsDialog) -> None:
        section = dialog.desktop_section
        ok = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
        record(qtbot, dialog, "read_clipboard", "ctrl+alt+s")  # the selection's shortcut
        click(qtbot, ok)
        assert dialog.isVisible()
        problems.append(section.problem.text())
        assert section.read_selection.edit.hasFocus()  # where it can be fixed
        section.read_clipboard.edit.clear()
        record(qtbot, dialog, "read_clipboard", "k")  # no modifier: would steal a letter
        click(qtbot, ok)
        assert dialog.isVisible()
        problems.append(section.problem.text())

    edit_settings(qtbot, voxdesk.window, fill)
    assert "both" in problems[0] and "Ctrl+Alt+S" in problems[0]
    assert "no modifier" in problems[1] and problems[1].startswith("Read clipboard")
    assert voxdesk.settings.desktop.read_clipboard_hotkey == "Ctrl+Alt+R"  # nothing changed


def test_shortcut_taken_by_another_program_is_reported_with_the_fallback(qtbot, start):
    voxdesk = start()
    other = X11Hotkeys()

    def fill(dialog: SettingsDialog) -> None:
        record(qtbot, dialog, "read_clipboard", "ctrl+alt+k")
        # Another program takes the key before OK (typed while it held it, the key would
        # have gone to that program, not into the dialog).
        other.register(Shortcut.parse("Ctrl+Alt+K"), lambda: None)

    try:
        edit_settings(qtbot, voxdesk.window, fill)
        qtbot.waitUntil(lambda: voxdesk.window.message_box is not None)
        box = voxdesk.window.message_box
        details = box.informativeText()
        assert "Ctrl+Alt+K is already used by another program" in details
        assert "voxdesk read-clipboard" in details
        assert "Ctrl+Alt+K" in voxdesk.desktop.last_notice
        box.close()
        # The read-selection shortcut was still grabbed: Ctrl+Alt+S is ours, not free.
        probe = X11Hotkeys()
        try:
            with pytest.raises(Exception, match="already used"):
                probe.register(Shortcut.parse("Ctrl+Alt+S"), lambda: None)
        finally:
            probe.close()
    finally:
        other.close()


def test_keep_in_tray_choice_applies_to_closing_the_window(qtbot, start, tray_host):
    voxdesk = start()
    assert voxdesk.desktop.tray is not None
    assert voxdesk.window.keep_in_tray

    edit_settings(qtbot, voxdesk.window,
                  lambda d: click(qtbot, d.desktop_section.close_to_tray))

    assert not voxdesk.settings.desktop.close_to_tray
    assert not voxdesk.window.keep_in_tray
    assert QApplication.quitOnLastWindowClosed()  # closing the window now quits


def test_every_desktop_control_is_named_and_has_its_own_mnemonic(qtbot):
    defaults = Settings()
    dialog = SettingsDialog("", desktop=defaults.desktop, server=defaults.server)  # as the window
    qtbot.addWidget(dialog)
    section = dialog.desktop_section
    controls = [section.read_clipboard.edit, section.read_clipboard.clear,
                section.read_selection.edit, section.read_selection.clear,
                section.close_to_tray, section.autostart]
    assert all(c.accessibleName() or c.text() for c in controls)
    # Alt+letter reaches every control (a label's mnemonic focuses its buddy), no letter twice
    # in the whole dialog.
    texts = [w.text() for w in dialog.findChildren(QLabel) + dialog.findChildren(QAbstractButton)]
    letters = [m.lower() for t in texts for m in re.findall(r"(?<!&)&([^&])", t)]
    assert len(letters) == len(set(letters)), sorted(letters)
    buddies = {label.buddy() for label in dialog.findChildren(QLabel) if "&" in label.text()}
    assert all(c in buddies if isinstance(c, QKeySequenceEdit) else "&" in c.text()
               for c in controls)
