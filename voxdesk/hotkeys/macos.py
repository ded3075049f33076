"""Global shortcuts on macOS through pynput (a Quartz event tap; needs the Accessibility
permission, which macOS asks the user for on first use)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from voxdesk.hotkeys.shortcut import HotkeyError, Shortcut

_PYNPUT_MODIFIERS = {"ctrl": "<ctrl>", "alt": "<alt>", "shift": "<shift>", "super": "<cmd>"}


class MacHotkeys:
    name = "macOS"
    interactive = False

    def __init__(self) -> None:
        try:
            from pynput import keyboard
        except ImportError as exc:
            raise HotkeyError("pynput is not installed.", "Reinstall VoxDesk.") from exc
        self._keyboard = keyboard
        self._hotkeys: dict[str, Callable[[], None]] = {}
        self._listener: Any = None

    def register(self, shortcut: Shortcut, callback: Callable[[], None], *,
                 shortcut_id: str | None = None, description: str | None = None) -> None:
        key = shortcut.key if len(shortcut.key) == 1 else f"<{shortcut.key}>"
        combo = "+".join([*(_PYNPUT_MODIFIERS[m] for m in sorted(shortcut.modifiers)), key])
        self._hotkeys[combo] = callback
        self._restart()

    def unregister_all(self) -> None:
        self._hotkeys.clear()
        self._restart()

    def close(self) -> None:
        self._hotkeys.clear()
        self._restart()

    def _restart(self) -> None:
        if self._listener is not None:
            self._listener.stop()
            self._listener = None
        if self._hotkeys:
            self._listener = self._keyboard.GlobalHotKeys(dict(self._hotkeys))
            self._listener.start()
