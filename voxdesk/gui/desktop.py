"""Everything that makes VoxDesk part of the desktop rather than just a window: the tray icon,
the global shortcuts, commands from other `voxdesk` processes, autostart."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QApplication

from voxdesk.audio.tempo import SPEED_STEP
from voxdesk.gui.controller import State
from voxdesk.gui.desktop_settings import AUTOSTART_SUPPORTED
from voxdesk.gui.main_window import MainWindow
from voxdesk.gui.read_aloud import ReadAloud
from voxdesk.gui.single_instance import InstanceServer
from voxdesk.gui.tray import Tray
from voxdesk.settings import Settings

log = logging.getLogger(__name__)

AUTOSTART_FILE = "io.github.voxdesk.VoxDesk.desktop"


class Desktop(QObject):
    """Wires tray, shortcuts and the instance socket to one main window."""

    def __init__(self, app: QApplication, window: MainWindow, settings: Settings) -> None:
        super().__init__(window)
        self.window = window
        self.settings = settings
        self.last_notice = ""
        self.tray: Tray | None = Tray(self) if Tray.available() else None
        self.controller = window.controller
        self.read_aloud = ReadAloud(self.controller, window.show_and_raise, self.tray)
        self.read_aloud.notice.connect(self.notify)
        self.server = InstanceServer(self._handle, self)
        window.desktopSettingsChanged.connect(self.apply_settings)
        window.settingsDialogOpen.connect(self._settings_dialog_open)
        self._keys_released = False  # while Settings is open
        if self.tray is not None:
            self._connect_tray(app)
            window.keep_in_tray = settings.desktop.close_to_tray

    def start(self, hidden: bool) -> bool:
        """Listen for commands and grab the shortcuts; False if VoxDesk already runs."""
        if not self.server.listen():
            return False
        if self.tray is not None:
            self.tray.show()
        if hidden and self.tray is not None:
            self.window.hide()
        else:
            if hidden:
                self.notify("No system tray", "This desktop has no system tray: VoxDesk stays "
                            "in its window.")
            self.window.show()
        desktop = self.settings.desktop
        self.read_aloud.register_hotkeys(desktop.read_clipboard_hotkey,
                                         desktop.read_selection_hotkey)
        return True

    def _settings_dialog_open(self, is_open: bool) -> None:
        # Our own grabs would swallow the keys a person presses to record a shortcut (even the
        # current one, to put it back): let go of them while Settings is open.
        if is_open:
            self.read_aloud.close_hotkeys()
            self._keys_released = True
        elif self._keys_released:  # cancelled: the old shortcuts again
            desktop = self.window.settings.desktop
            self.read_aloud.register_hotkeys(desktop.read_clipboard_hotkey,
                                             desktop.read_selection_hotkey)
            self._keys_released = False

    def apply_settings(self) -> None:
        """Apply the window's desktop settings now (the Settings dialog was accepted): grab the
        new shortcuts, follow the tray choice, write or remove the login entry. What cannot be
        applied is reported, and a login entry that could not be written is not kept as on."""
        desktop = self.window.settings.desktop  # what the dialog edited and what gets saved
        if self.tray is not None:
            self.window.keep_in_tray = desktop.close_to_tray
            QApplication.setQuitOnLastWindowClosed(not desktop.close_to_tray)  # as run_app does
        # With the window open (the dialog was just accepted) a message box answers; hidden,
        # the tray's notices do.
        visible = self.window.isVisible()
        problems: list[str] = []
        self._keys_released = False
        error = self.read_aloud.register_hotkeys(
            desktop.read_clipboard_hotkey, desktop.read_selection_hotkey, announce=not visible)
        if error:
            problems.append(error)
        if AUTOSTART_SUPPORTED:
            try:
                set_autostart(desktop.autostart)
            except OSError as exc:
                wanted = desktop.autostart
                desktop.autostart = autostart_entry().exists()  # saved as it really is
                problem = (f"The login entry {autostart_entry()} could not be "
                           f"{'written' if wanted else 'removed'}: {exc.strerror}.")
                problems.append(problem)
                if not visible:
                    self.notify("Start at login unchanged", problem)
        if problems and visible:
            self.last_notice = "Settings not fully applied: " + " ".join(problems)
            log.warning("%s", self.last_notice)
            self.window.show_error("Some settings could not be applied.", "\n\n".join(problems))

    def close(self) -> None:
        self.read_aloud.close_hotkeys()
        self.server.close()
        if self.tray is not None:
            self.tray.hide()

    def notify(self, title: str, message: str) -> None:
        self.last_notice = f"{title}: {message}"
        log.info("notice: %s", self.last_notice)
        if self.tray is not None:
            self.tray.notify(title, message)
        else:
            self.window.statusBar().showMessage(self.last_notice, 8000)

    def _handle(self, command: dict[str, Any]) -> dict[str, Any]:
        reply = self.read_aloud.handle(command)
        if command.get("command") == "status":
            reply["last_notice"] = self.last_notice
            reply["tray"] = self.tray is not None
        return reply

    def _connect_tray(self, app: QApplication) -> None:
        tray = self.tray
        assert tray is not None
        tray.readClipboard.connect(lambda: self.read_aloud.handle({"command": "read-clipboard"}))
        tray.readSelection.connect(lambda: self.read_aloud.handle({"command": "read-selection"}))
        controller = self.controller
        tray.pauseToggled.connect(controller.toggle_pause)
        tray.stopRequested.connect(controller.stop)
        tray.navigate.connect(lambda method: getattr(controller, method)())
        tray.speedStep.connect(lambda step: controller.set_speed(controller.speed
                                                                 + step * SPEED_STEP))
        tray.openWindow.connect(self.window.show_and_raise)
        tray.quitRequested.connect(self._quit)
        tray.set_voices(controller.profile_names(), _tray_voice(controller.voice))
        tray.voiceChosen.connect(controller.choose_profile)
        controller.profilesChanged.connect(tray.set_voices)
        controller.voiceChanged.connect(lambda voice: tray.set_current_voice(_tray_voice(voice)))
        controller.stateChanged.connect(lambda state: tray.set_speaking(
            state in (State.SPEAKING, State.PAUSED), paused=state is State.PAUSED))

    def _quit(self) -> None:
        self.window.keep_in_tray = False
        self.window.close()
        QApplication.quit()


def _tray_voice(voice: object) -> str:
    """The tray's name for a voice choice: a profile's name, "" for the model's own voice (a
    reference clip has no entry in the tray)."""
    kind = getattr(voice, "kind", "default")
    return getattr(voice, "profile", "") if kind == "profile" else "" if kind == "default" \
        else "\0clip"


def autostart_entry() -> Path:
    """The XDG autostart entry: $XDG_CONFIG_HOME/autostart/<app id>.desktop."""
    from voxdesk import paths

    folder = Path(paths.platformdirs.user_config_path("autostart", appauthor=False))
    return folder / AUTOSTART_FILE


def autostart_command() -> list[str]:
    """`voxdesk --tray` as the login session can run it: a virtual environment's launcher is not
    on the session's PATH, so it is named by its path (or the bundle itself, or this Python)."""
    if getattr(sys, "frozen", False):
        return [sys.executable, "--tray"]
    launcher = Path(sys.executable).with_name("voxdesk")
    if launcher.is_file() and os.access(launcher, os.X_OK):
        return [str(launcher), "--tray"]
    return [sys.executable, "-m", "voxdesk", "--tray"]


def _exec_quote(argument: str) -> str:
    """One Exec= argument, quoted as the Desktop Entry spec asks (then escaped as a string)."""
    if any(c in argument for c in ' \t\n"\'\\><~|&;$*?#()`'):
        for c in '\\"`$':
            argument = argument.replace(c, "\\" + c)
        argument = f'"{argument}"'
    return argument.replace("\\", "\\\\").replace("%", "%%")


def set_autostart(enabled: bool) -> Path:
    """Write or remove the XDG autostart entry (Linux): VoxDesk starts in the tray at login."""
    entry = autostart_entry()
    if not enabled:
        entry.unlink(missing_ok=True)
        return entry
    from voxdesk.atomic import atomic_write_text

    command = " ".join(_exec_quote(a) for a in autostart_command())
    atomic_write_text(entry, "[Desktop Entry]\nType=Application\nName=VoxDesk\n"
                      f"Exec={command}\nIcon=io.github.voxdesk.VoxDesk\n"
                      "X-GNOME-Autostart-enabled=true\nComment=Read text aloud\n")
    return entry
