"""Global shortcuts on Windows: RegisterHotKey on a thread with its own message loop."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from voxdesk.hotkeys.shortcut import HotkeyError, Shortcut

_MOD = {"alt": 0x1, "ctrl": 0x2, "shift": 0x4, "super": 0x8}
_MOD_NOREPEAT = 0x4000
_WM_HOTKEY, _WM_APP = 0x0312, 0x8000
_NAMED_KEYS = {"space": 0x20, "enter": 0x0D, "escape": 0x1B, "tab": 0x09}


def _virtual_key(key: str) -> int:
    if len(key) == 1 and key.isalnum():
        return ord(key.upper())
    if key.startswith("f") and key[1:].isdigit() and 1 <= int(key[1:]) <= 24:
        return 0x70 + int(key[1:]) - 1
    if key in _NAMED_KEYS:
        return _NAMED_KEYS[key]
    raise HotkeyError(f"The key {key!r} is not supported for global shortcuts on Windows.")


class WindowsHotkeys:
    name = "Windows"
    interactive = False

    def __init__(self) -> None:
        import ctypes
        from ctypes import wintypes

        self._user32 = ctypes.windll.user32  # type: ignore[attr-defined]
        self._kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
        self._msg = wintypes.MSG()
        self._byref = ctypes.byref
        self._callbacks: dict[int, Callable[[], None]] = {}
        self._pending: list[tuple[Shortcut, Callable[[], None], Future[None]]] = []
        self._lock = threading.Lock()
        self._thread_id = 0
        started = threading.Event()
        self._thread = threading.Thread(target=self._loop, args=(started,), daemon=True,
                                        name="voxdesk-win-hotkeys")
        self._thread.start()
        started.wait(2)

    def register(self, shortcut: Shortcut, callback: Callable[[], None], *,
                 shortcut_id: str | None = None, description: str | None = None) -> None:
        # RegisterHotKey binds to the calling thread's message queue: do it on our thread.
        future: Future[None] = Future()
        with self._lock:
            self._pending.append((shortcut, callback, future))
        self._user32.PostThreadMessageW(self._thread_id, _WM_APP, 0, 0)
        future.result(timeout=5)

    def unregister_all(self) -> None:
        future: Future[None] = Future()
        with self._lock:
            self._pending.append((None, None, future))  # type: ignore[arg-type]
        self._user32.PostThreadMessageW(self._thread_id, _WM_APP, 0, 0)
        future.result(timeout=5)

    def close(self) -> None:
        self.unregister_all()
        self._user32.PostThreadMessageW(self._thread_id, 0x0012, 0, 0)  # WM_QUIT
        self._thread.join(2)

    def _handle_pending(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, []
        for shortcut, callback, future in pending:
            try:
                if shortcut is None:
                    for hotkey_id in list(self._callbacks):
                        self._user32.UnregisterHotKey(None, hotkey_id)
                    self._callbacks.clear()
                else:
                    self._register_here(shortcut, callback)
                future.set_result(None)
            except BaseException as exc:
                future.set_exception(exc)

    def _register_here(self, shortcut: Shortcut, callback: Callable[[], None]) -> None:
        modifiers = _MOD_NOREPEAT
        for modifier in shortcut.modifiers:
            modifiers |= _MOD[modifier]
        hotkey_id = len(self._callbacks) + 1
        if not self._user32.RegisterHotKey(None, hotkey_id, modifiers, _virtual_key(shortcut.key)):
            raise HotkeyError(f"{shortcut} is already used by another program.",
                              "Choose another shortcut in Settings.")
        self._callbacks[hotkey_id] = callback

    def _loop(self, started: threading.Event) -> None:
        self._thread_id = self._kernel32.GetCurrentThreadId()
        # Create the message queue before anyone posts to it.
        self._user32.PeekMessageW(self._byref(self._msg), None, 0, 0, 0)
        started.set()
        while self._user32.GetMessageW(self._byref(self._msg), None, 0, 0) > 0:
            if self._msg.message == _WM_APP:
                self._handle_pending()
            elif self._msg.message == _WM_HOTKEY:
                callback: Any = self._callbacks.get(self._msg.wParam)
                if callback is not None:
                    callback()
