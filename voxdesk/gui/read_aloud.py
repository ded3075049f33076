"""Reading the clipboard or the selection aloud: global shortcuts, tray, remote commands.

This is how most people use VoxDesk every day: copy text anywhere, press Ctrl+Alt+R, hear it.
The same actions arrive from three places - a global shortcut, the tray menu, and another
`voxdesk` process (`voxdesk read-clipboard`, bound in a desktop's own shortcut settings where
programs may not grab keys) - and all end up in :meth:`ReadAloud.handle`, on the GUI thread,
speaking through the app's one :class:`~voxdesk.gui.controller.SpeechController`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QClipboard, QGuiApplication

from voxdesk.audio.tempo import validate_speed
from voxdesk.clipboard_text import clipboard_text, parts
from voxdesk.errors import VoxDeskError
from voxdesk.gui.controller import SpeechController, State
from voxdesk.hotkeys import HotkeyBackend, HotkeyError, Shortcut, open_backend

if TYPE_CHECKING:
    from voxdesk.gui.tray import Tray

log = logging.getLogger(__name__)

_DESCRIPTIONS = {"read-clipboard": "Read the clipboard aloud (again: stop)",
                 "read-selection": "Read the selected text aloud (again: stop)"}
FALLBACK_HINT = ("Choose another shortcut in Settings, or bind `voxdesk read-clipboard` in your "
                 "desktop's keyboard settings.")


class _HotkeyBridge(QObject):
    # Hotkey backends call back on their own thread; a signal queues the call onto the GUI thread.
    pressed = Signal(str)


class ReadAloud(QObject):
    """Owns the global shortcuts and turns commands into speech through ``controller``;
    ``show_window`` brings the window forward (the "show" command)."""

    notice = Signal(str, str)  # title, message: shown by the tray (or the status bar)

    def __init__(self, controller: SpeechController, show_window: Callable[[], None],
                 tray: Tray | None = None) -> None:
        super().__init__(controller)
        self.controller = controller
        self.show_window = show_window
        self.tray = tray
        self.clipboard = QGuiApplication.clipboard()
        self._backend: HotkeyBackend | None = None
        self._bridge = _HotkeyBridge(self)
        self._bridge.pressed.connect(lambda command: self.handle({"command": command}))
        self._remaining: Iterator[str] | None = None  # later parts of a very long clipboard
        self.hotkey_error: str | None = None
        controller.speechEnded.connect(self._continue_long_text)

    # -- global shortcuts -------------------------------------------------------------------

    def register_hotkeys(self, read_clipboard: str, read_selection: str,
                         announce: bool = True) -> str | None:
        """(Re)bind the shortcuts ("" = none); returns a message if any could not be registered
        (also sent as a notice unless ``announce`` is False: the caller reports it itself).

        Each shortcut is tried on its own: one taken by another program does not cost the other.
        Where the desktop asks the person to confirm shortcuts (the Wayland portal's dialog),
        binding goes on in the background and problems arrive later as a notice.
        """
        self.close_hotkeys()
        wanted = [(text, command) for text, command in ((read_clipboard, "read-clipboard"),
                                                         (read_selection, "read-selection"))
                  if text]
        if not wanted:
            return self._report([], announce)
        try:
            backend = open_backend()
        except HotkeyError as exc:
            return self._report([str(exc)], announce)  # its hint already names the fallback
        self._backend = backend
        if backend.interactive:
            self.controller.tasks.run(lambda: self._bind(backend, wanted),
                                      lambda problems: self._bound_in_background(backend,
                                                                                 problems))
            return None
        return self._report(self._bind(backend, wanted), announce)

    def _bind(self, backend: HotkeyBackend, wanted: list[tuple[str, str]]) -> list[str]:
        problems: list[str] = []
        def pressed(command: str) -> Callable[[], None]:
            return lambda: self._bridge.pressed.emit(command)

        for text, command in wanted:
            try:
                backend.register(Shortcut.parse(text), pressed(command),
                                 shortcut_id=command, description=_DESCRIPTIONS[command])
            except HotkeyError as exc:
                problems.append(exc.message)
        if problems:
            problems.append(FALLBACK_HINT)
        return problems

    def _bound_in_background(self, backend: object, problems: list[str]) -> None:
        if backend is self._backend:  # not replaced meanwhile by newer settings
            self._report(problems, announce=True)

    def _report(self, problems: list[str], announce: bool) -> str | None:
        self.hotkey_error = " ".join(problems) or None
        if self.hotkey_error is not None:
            log.warning("global shortcut: %s", self.hotkey_error)
            if announce:
                self.notice.emit("Global shortcut unavailable", self.hotkey_error)
        return self.hotkey_error

    def close_hotkeys(self) -> None:
        if self._backend is not None:
            self._backend.close()
            self._backend = None

    # -- commands ---------------------------------------------------------------------------

    def handle(self, command: dict[str, Any]) -> dict[str, Any]:
        """Carry out one command; the reply goes back to a remote caller."""
        name = command.get("command")
        if name == "read-clipboard":
            return self.toggle_read(QClipboard.Mode.Clipboard)
        if name == "read-selection":
            return self.toggle_read(QClipboard.Mode.Selection)
        if name == "speak":
            text = command.get("text")
            if not isinstance(text, str):
                return {"ok": False, "error": "speak needs a text"}
            if "speed" in command:  # `voxdesk speak --speed X`: the window reads at X
                try:
                    self.controller.set_speed(validate_speed(command["speed"]))
                except VoxDeskError as exc:
                    return {"ok": False, "error": str(exc)}
            return self.read_text(text)
        if name == "stop":
            self._remaining = None
            self.controller.stop()
            return {"ok": True}
        if name in ("next", "previous"):
            # Where a person is reading (the window's document or the clipboard's text).
            unit = ("chapter" if command.get("chapter") else
                    "paragraph" if command.get("paragraph") else "sentence")
            moved = getattr(self.controller, f"{name}_{unit}")()
            return {"ok": True, "moved": bool(moved)}
        if name == "pause":
            self.controller.toggle_pause()
            return {"ok": True}
        if name == "show":
            self.show_window()
            return {"ok": True}
        if name == "status":
            controller = self.controller
            engine = controller.engine
            return {"ok": True, "pid": os.getpid(), "speaking": controller.speaking,
                    "paused": controller.state is State.PAUSED,
                    "played_seconds": controller.played_seconds(),
                    "model_loaded": engine is not None,
                    "model": engine.info.model_id if engine else None,
                    "models_loaded": controller.models_loaded,
                    "hotkey_error": self.hotkey_error}
        return {"ok": False, "error": f"unknown command {name!r}"}

    def toggle_read(self, mode: QClipboard.Mode) -> dict[str, Any]:
        """Pressing the shortcut again while speaking stops."""
        if self.controller.speaking:
            self._remaining = None
            self.controller.stop()
            return {"ok": True, "stopped": True}
        if mode == QClipboard.Mode.Selection and not self.clipboard.supportsSelection():
            self.notice.emit("Nothing to read", "This system has no primary selection.")
            return {"ok": False, "error": "no selection support"}
        mime = self.clipboard.mimeData(mode)
        text = ""
        if mime is not None:
            text = clipboard_text(mime.text() if mime.hasText() else None,
                                  mime.html() if mime.hasHtml() else None)
        if not text:
            what = "an image" if mime is not None and mime.hasImage() else "no text"
            where = "selection" if mode == QClipboard.Mode.Selection else "clipboard"
            self.notice.emit("Nothing to read", f"The {where} holds {what}.")
            return {"ok": False, "error": f"the {where} holds {what}"}
        return self.read_text(text)

    def read_text(self, text: str) -> dict[str, Any]:
        """Speak ``text``; very long text is spoken part by part."""
        pieces = parts(text)
        first = next(pieces, "")
        self._remaining = pieces
        if not self.controller.speak_text(first):
            self._remaining = None
            return {"ok": False, "error": "could not start speaking"}
        return {"ok": True, "characters": len(text)}

    def _continue_long_text(self, metrics: object) -> None:
        # The next part starts only when the previous one played through, not when stopped.
        if self._remaining is None or metrics is None or getattr(metrics, "cancelled", True):
            self._remaining = None
            return
        following = next(self._remaining, None)
        if following is None:
            self._remaining = None
        else:
            self.controller.speak_text(following)
