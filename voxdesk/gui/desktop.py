"""Everything that makes VoxDesk part of the desktop rather than just a window: the tray icon,
the global shortcuts, commands from other `voxdesk` processes, autostart."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QApplication

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
        self.read_aloud = ReadAloud(window, self.tray)
        self.read_aloud.notice.connect(self.notify)
        self.server = InstanceServer(self._handle, self)
        if self.tray is not None:
            self._connect_tray(app)
            window.speechStarted.connect(lambda _n: self.tray.set_speaking(True))
            window.speechEnded.connect(lambda _m: self.tray.set_speaking(False))
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
        tray.pauseToggled.connect(self.window.toggle_pause)
        tray.stopRequested.connect(self.window.stop)
        tray.openWindow.connect(self.window.show_and_raise)
        tray.quitRequested.connect(self._quit)
        store = self.window.voice_store
        names = [p.name for p in store.list()] if store is not None else []
        tray.set_voices(names, self.settings.voice.profile if self.settings.voice.kind ==
                        "profile" else "")
        tray.voiceChosen.connect(self._choose_voice)

    def _choose_voice(self, name: str) -> None:
        panel = self.window.voice_panel
        if hasattr(panel, "select_profile"):
            panel.select_profile(name)

    def _quit(self) -> None:
        self.window.keep_in_tray = False
        self.window.close()
        QApplication.quit()


def set_autostart(enabled: bool) -> Path:
    """Write or remove the XDG autostart entry (Linux): VoxDesk starts in the tray at login."""
    from voxdesk import paths

    folder = Path(paths.platformdirs.user_config_path("autostart", appauthor=False))
    entry = folder / AUTOSTART_FILE
    if not enabled:
        entry.unlink(missing_ok=True)
        return entry
    from voxdesk.atomic import atomic_write_text

    atomic_write_text(entry, "[Desktop Entry]\nType=Application\nName=VoxDesk\n"
                      f"Exec={sys.executable} -m voxdesk --tray\nIcon=io.github.voxdesk.VoxDesk\n"
                      "X-GNOME-Autostart-enabled=true\nComment=Read text aloud\n")
    return entry
