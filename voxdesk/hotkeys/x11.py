"""Global shortcuts on X11: XGrabKey on the root window (python-xlib), events on a thread.

All X requests happen on the backend's own thread (python-xlib connections are not meant to
be shared between threads); ``register`` hands its work to that thread and waits for the result.
Callbacks run on that thread too: a GUI must forward them to its own thread (a Qt signal does).
"""

from __future__ import annotations

import queue
import select
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from voxdesk.hotkeys.shortcut import HotkeyError, Shortcut

_EXTRA_MASKS_NAMES = ("LockMask", "Mod2Mask")  # Caps Lock, Num Lock: must not disable the key
# Key names as Qt writes them (the Settings dialog records shortcuts with Qt) -> X keysym names.
_KEYSYM_NAMES = {
    "pgup": "Prior", "pgdown": "Next", "ins": "Insert", "del": "Delete", "esc": "Escape",
    "backspace": "BackSpace", "enter": "KP_Enter", ",": "comma", ".": "period", "/": "slash",
    ";": "semicolon", "'": "apostrophe", "[": "bracketleft", "]": "bracketright",
    "\\": "backslash", "`": "grave", "=": "equal",
}


class X11Hotkeys:
    name = "X11"
    interactive = False

    def __init__(self, display_name: str | None = None) -> None:
        try:
            from Xlib import XK, X, display, error
        except ImportError as exc:
            raise HotkeyError("python-xlib is not installed.", "Reinstall VoxDesk.") from exc
        self._X, self._XK, self._error = X, XK, error
        try:
            self._display = display.Display(display_name)
        except Exception as exc:  # Xlib raises several unrelated types for "no display"
            raise HotkeyError(f"Cannot reach the X server ({exc}).",
                              "Global shortcuts need an X11 session.") from exc
        self._root = self._display.screen().root
        self._bindings: dict[tuple[int, int], Callable[[], None]] = {}
        self._jobs: queue.Queue[tuple[Callable[[], Any], Future[Any]]] = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="voxdesk-x11-hotkeys", daemon=True)
        self._thread.start()

    # -- public, any thread ---------------------------------------------------------------------

    def register(self, shortcut: Shortcut, callback: Callable[[], None], *,
                 shortcut_id: str | None = None, description: str | None = None) -> None:
        """Grab ``shortcut`` for the whole desktop; HotkeyError if another program holds it."""
        self._call(lambda: self._grab(shortcut, callback))

    def unregister_all(self) -> None:
        self._call(self._ungrab_all)

    def close(self) -> None:
        if self._thread.is_alive():
            self.unregister_all()
            self._stop.set()
            self._thread.join(2)
        self._display.close()

    # -- the X thread -----------------------------------------------------------------------

    def _call(self, job: Callable[[], Any]) -> Any:
        if not self._thread.is_alive():
            raise HotkeyError("The X11 shortcut listener has stopped.")
        future: Future[Any] = Future()
        self._jobs.put((job, future))
        return future.result(timeout=5)

    def _masks(self, shortcut: Shortcut) -> int:
        X = self._X
        table = {"ctrl": X.ControlMask, "shift": X.ShiftMask, "alt": X.Mod1Mask,
                 "super": X.Mod4Mask}
        mask = 0
        for modifier in shortcut.modifiers:
            mask |= table[modifier]
        return mask

    def _keycode(self, shortcut: Shortcut) -> int:
        for name in (_KEYSYM_NAMES.get(shortcut.key, shortcut.key), shortcut.key.capitalize(),
                     shortcut.key.upper()):
            keysym = self._XK.string_to_keysym(name)
            if keysym:
                keycode = self._display.keysym_to_keycode(keysym)
                if keycode:
                    return keycode
        raise HotkeyError(f"The key {shortcut.key!r} does not exist on this keyboard.")

    def _variants(self, mask: int) -> list[int]:
        lock, numlock = (getattr(self._X, n) for n in _EXTRA_MASKS_NAMES)
        return [mask, mask | lock, mask | numlock, mask | lock | numlock]

    def _grab(self, shortcut: Shortcut, callback: Callable[[], None]) -> None:
        keycode, mask = self._keycode(shortcut), self._masks(shortcut)
        catch = self._error.CatchError(self._error.BadAccess)
        X = self._X
        for variant in self._variants(mask):
            self._root.grab_key(keycode, variant, True, X.GrabModeAsync, X.GrabModeAsync,
                                onerror=catch)
        self._display.sync()
        if catch.get_error():
            for variant in self._variants(mask):
                self._root.ungrab_key(keycode, variant)
            self._display.sync()
            raise HotkeyError(f"{shortcut} is already used by another program.",
                              "Choose another shortcut in Settings, or bind `voxdesk "
                              "read-clipboard` in your desktop's keyboard settings.")
        self._bindings[(keycode, mask)] = callback

    def _ungrab_all(self) -> None:
        for keycode, mask in self._bindings:
            for variant in self._variants(mask):
                self._root.ungrab_key(keycode, variant)
        self._bindings.clear()
        self._display.sync()

    def _loop(self) -> None:
        ignored = 0
        for name in _EXTRA_MASKS_NAMES:
            ignored |= getattr(self._X, name)
        while not self._stop.is_set():
            while not self._jobs.empty():
                job, future = self._jobs.get()
                try:
                    future.set_result(job())
                except BaseException as exc:  # handed back to the caller's thread
                    future.set_exception(exc)
            readable, _, _ = select.select([self._display.fileno()], [], [], 0.05)
            if not readable and not self._display.pending_events():
                continue
            for _ in range(self._display.pending_events()):
                event = self._display.next_event()
                if event.type == self._X.KeyPress:
                    callback = self._bindings.get((event.detail, event.state & ~ignored))
                    if callback is not None:
                        callback()
