"""System-wide keyboard shortcuts, one backend per platform.

``open_backend()`` picks X11 (XGrabKey), Windows (RegisterHotKey) or macOS (event tap). On
Wayland no program may grab keys for itself: there the xdg-desktop-portal GlobalShortcuts
interface asks the user to bind them (portal.py); where the desktop lacks it, the user binds
``voxdesk read-clipboard`` in the desktop's own keyboard settings (the running instance
receives it), and ``open_backend`` says so with a :class:`HotkeyError` instead of failing
silently.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Protocol

from voxdesk.hotkeys.shortcut import HotkeyError, Shortcut

WAYLAND_HINT = (
    "Bind `voxdesk read-clipboard` (and `voxdesk stop`) to a key in your desktop's keyboard "
    "settings; the running VoxDesk will read aloud when it is pressed."
)


class HotkeyBackend(Protocol):
    name: str
    #: Whether binding asks the person (a desktop dialog): then register() may block for long.
    interactive: bool

    def register(self, shortcut: Shortcut, callback: Callable[[], None], *,
                 shortcut_id: str | None = None, description: str | None = None) -> object:
        """Bind ``shortcut``; ``shortcut_id`` and ``description`` name it where the desktop
        shows or remembers bindings (the portal). Raises HotkeyError."""

    def unregister_all(self) -> None: ...

    def close(self) -> None: ...


def open_backend() -> HotkeyBackend:
    """The global-shortcut backend for this session; HotkeyError where there is none."""
    if sys.platform == "win32":
        from voxdesk.hotkeys.windows import WindowsHotkeys

        return WindowsHotkeys()
    if sys.platform == "darwin":
        from voxdesk.hotkeys.macos import MacHotkeys

        return MacHotkeys()
    if os.environ.get("WAYLAND_DISPLAY"):
        # Wayland lets no program grab keys (under Xwayland, X11 grabs only see keys typed
        # into X11 windows); the desktop portal can ask the user to bind them instead.
        from voxdesk.hotkeys.portal import PortalHotkeys

        try:
            return PortalHotkeys()
        except HotkeyError as exc:
            raise HotkeyError("Global shortcuts cannot be grabbed in a Wayland session. "
                              f"{exc.message}", WAYLAND_HINT) from exc
    if os.environ.get("DISPLAY"):
        from voxdesk.hotkeys.x11 import X11Hotkeys

        return X11Hotkeys()
    raise HotkeyError("This session offers no way to register global shortcuts.", WAYLAND_HINT)


__all__ = ["HotkeyBackend", "HotkeyError", "Shortcut", "WAYLAND_HINT", "open_backend"]
