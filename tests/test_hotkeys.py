"""Global shortcuts on a real X server (Xvfb), pressed with xdotool like a person would."""

import os
import shutil
import subprocess
import time

import pytest

from voxdesk.hotkeys import HotkeyError, Shortcut, open_backend
from voxdesk.hotkeys.x11 import X11Hotkeys

pytestmark = pytest.mark.skipif(
    not os.environ.get("DISPLAY") or not shutil.which("xdotool"),
    reason="needs an X display and xdotool: run through packaging/test-env.sh",
)


def press(keys: str) -> None:
    subprocess.run(["xdotool", "key", keys], check=True)


def wait_for(condition, timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return condition()


@pytest.mark.parametrize("text, expected", [
    ("Ctrl+Alt+R", "Ctrl+Alt+R"), ("control-alt-r", "Ctrl+Alt+R"), ("super+f5", "Super+F5"),
])
def test_shortcuts_are_parsed_as_people_write_them(text, expected):
    assert str(Shortcut.parse(text)) == expected


@pytest.mark.parametrize("text", ["", "R", "Ctrl+", "Hyper+R", "Ctrl+Alt"])
def test_invalid_shortcuts_are_refused_with_a_reason(text):
    with pytest.raises(HotkeyError):
        Shortcut.parse(text)


def test_pressing_the_shortcut_anywhere_calls_back():
    backend = open_backend()
    pressed: list[str] = []
    try:
        backend.register(Shortcut.parse("Ctrl+Alt+R"), lambda: pressed.append("read"))
        backend.register(Shortcut.parse("Ctrl+Alt+S"), lambda: pressed.append("selection"))
        press("ctrl+alt+r")
        press("ctrl+alt+s")
        assert wait_for(lambda: len(pressed) == 2)
        assert pressed == ["read", "selection"]
        press("ctrl+r")  # not ours: nothing happens
        time.sleep(0.2)
        assert len(pressed) == 2
    finally:
        backend.close()


def test_shortcut_held_by_another_program_is_reported():
    other = X11Hotkeys()  # another X client grabbing the key first
    ours = X11Hotkeys()
    try:
        other.register(Shortcut.parse("Ctrl+Alt+R"), lambda: None)
        with pytest.raises(HotkeyError, match="already used by another program"):
            ours.register(Shortcut.parse("Ctrl+Alt+R"), lambda: None)
        # ...and ours still works for a free one.
        pressed: list[bool] = []
        ours.register(Shortcut.parse("Ctrl+Alt+T"), lambda: pressed.append(True))
        press("ctrl+alt+t")
        assert wait_for(lambda: pressed)
    finally:
        ours.close()
        other.close()


def test_wayland_session_explains_the_fallback(monkeypatch, tmp_path):
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    # No session bus, so no desktop portal (tests/test_hotkeys_portal.py covers one).
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    with pytest.raises(HotkeyError, match="voxdesk read-clipboard"):
        open_backend()
