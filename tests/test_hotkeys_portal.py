"""Wayland global shortcuts through the xdg-desktop-portal GlobalShortcuts interface.

Each test gets a private dbus-daemon and, where it wants one, tests/fake_portal.py owning
org.freedesktop.portal.Desktop on it: our backend talks real D-Bus to a separate process.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

jeepney = pytest.importorskip("jeepney")
from jeepney import DBusAddress, new_method_call  # noqa: E402
from jeepney.io.blocking import open_dbus_connection  # noqa: E402

from voxdesk.hotkeys import HotkeyError, Shortcut, open_backend  # noqa: E402
from voxdesk.hotkeys.portal import PortalHotkeys, preferred_trigger  # noqa: E402

pytestmark = pytest.mark.skipif(not shutil.which("dbus-daemon"),
                                reason="needs dbus-daemon: run through packaging/test-env.sh")

FAKE_PORTAL = Path(__file__).with_name("fake_portal.py")
# A session bus with no service files: nothing gets D-Bus-activated behind the test's back.
BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={dir}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


@pytest.fixture
def bus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A private session bus; DBUS_SESSION_BUS_ADDRESS points at it for the test."""
    config = tmp_path / "bus.conf"
    config.write_text(BUS_CONFIG.format(dir=tmp_path))
    daemon = subprocess.Popen(["dbus-daemon", f"--config-file={config}", "--print-address",
                               "--nofork"], stdout=subprocess.PIPE, text=True)
    try:
        assert daemon.stdout is not None
        address = daemon.stdout.readline().strip()
        assert address.startswith("unix:"), address
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
        yield address
    finally:
        daemon.terminate()
        daemon.wait(5)


class Portal:
    """The fake portal process and the test's own line to it."""

    def __init__(self, address: str, *args: str) -> None:
        env = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": address}
        self.process = subprocess.Popen([sys.executable, str(FAKE_PORTAL), *args], env=env,
                                        stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        assert self.process.stdout.readline().strip() == "ready"
        self.conn = open_dbus_connection(address)
        self.control = DBusAddress("/org/voxdesk/test", "org.freedesktop.portal.Desktop",
                                   "org.voxdesk.test.FakePortal")

    def _call(self, method: str, signature: str | None = None, body: tuple[Any, ...] = ()) -> Any:
        reply = self.conn.send_and_get_reply(
            new_method_call(self.control, method, signature, body), timeout=5)
        return reply.body

    def configure(self, **config: Any) -> None:
        self._call("Configure", "s", (json.dumps(config),))

    def calls(self, member: str | None = None) -> list[dict[str, Any]]:
        calls = json.loads(self._call("Calls")[0])
        return [c for c in calls if member is None or c["member"] == member]

    def release(self) -> int:
        """Answer the held shortcut dialogs (after ``configure(hold=True)``)."""
        return self._call("Release")[0]

    def activate(self, shortcut_id: str) -> int:
        return self._call("Activate", "s", (shortcut_id,))[0]

    def stop(self) -> None:
        self.conn.close()
        self.process.terminate()
        self.process.wait(5)


@pytest.fixture
def portal(bus: str) -> Iterator[Portal]:
    fake = Portal(bus)
    yield fake
    fake.stop()


def wait_for(condition: Callable[[], Any], timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return bool(condition())


@pytest.mark.parametrize("text, trigger", [
    ("Ctrl+Alt+R", "CTRL+ALT+r"), ("super+f5", "LOGO+F5"), ("Ctrl+Shift+Space", "CTRL+SHIFT+space"),
    ("Alt+PgUp", "ALT+Page_Up"), ("Ctrl+Alt+.", "CTRL+ALT+period"), ("Ctrl+Home", "CTRL+Home"),
])
def test_shortcuts_are_written_as_the_shortcuts_spec_wants(text: str, trigger: str) -> None:
    assert preferred_trigger(Shortcut.parse(text)) == trigger


def test_bound_shortcuts_call_back_when_the_portal_activates_them(portal: Portal) -> None:
    backend = PortalHotkeys(response_timeout=5)  # a regression fails fast, not in 300 s
    pressed: list[str] = []
    try:
        assert backend.version == 1
        trigger = backend.register(Shortcut.parse("Ctrl+Alt+R"), lambda: pressed.append("read"),
                                   shortcut_id="read-clipboard", description="Read the clipboard")
        assert trigger == "CTRL+ALT+r"
        backend.register(Shortcut.parse("Ctrl+Alt+S"), lambda: pressed.append("selection"))

        sessions = portal.calls("CreateSession")
        assert [c["signature"] for c in sessions] == ["a{sv}", "a{sv}"]
        binds = portal.calls("BindShortcuts")
        assert [c["signature"] for c in binds] == ["oa(sa{sv})sa{sv}"] * 2
        assert binds[0]["body"][1] == [["read-clipboard", {
            "description": ["s", "Read the clipboard"],
            "preferred_trigger": ["s", "CTRL+ALT+r"]}]]
        assert binds[1]["body"][1][0][1]["preferred_trigger"] == ["s", "CTRL+ALT+s"]
        # One session per shortcut: the spec allows only one BindShortcuts per session.
        assert binds[0]["body"][0] != binds[1]["body"][0]
        assert backend.bound == {"read-clipboard": "CTRL+ALT+r",
                                 "voxdesk-ctrl-alt-s": "CTRL+ALT+s"}

        assert portal.activate("voxdesk-ctrl-alt-s") == 1
        assert portal.activate("read-clipboard") == 1
        assert wait_for(lambda: len(pressed) == 2)
        assert pressed == ["selection", "read"]

        backend.unregister_all()
        closed = {c["path"] for c in portal.calls("Close")}
        assert closed == {c["body"][0] for c in binds}
        assert portal.activate("read-clipboard") == 0  # the portal forgot the sessions
    finally:
        backend.close()
    backend.close()  # a second close is harmless (the GUI may close on several paths)


def test_trigger_changed_by_the_user_is_reported(portal: Portal) -> None:
    portal.configure(triggers={"read-clipboard": "Super+R"})
    backend = PortalHotkeys(response_timeout=5)  # a regression fails fast, not in 300 s
    try:
        trigger = backend.register(Shortcut.parse("Ctrl+Alt+R"), lambda: None,
                                   shortcut_id="read-clipboard")
        assert trigger == "Super+R" and backend.bound == {"read-clipboard": "Super+R"}
    finally:
        backend.close()


def test_cancelled_dialog_is_a_clear_failure_with_the_fallback(portal: Portal) -> None:
    portal.configure(bind_response=1)  # 1: the user cancelled the dialog
    backend = PortalHotkeys(response_timeout=5)  # a regression fails fast, not in 300 s
    try:
        with pytest.raises(HotkeyError, match="Ctrl\\+Alt\\+R was not bound: the dialog was "
                                              "cancelled") as caught:
            backend.register(Shortcut.parse("Ctrl+Alt+R"), lambda: None)
        assert "voxdesk read-clipboard" in caught.value.hint
        assert backend.bound == {}
        # The failed session is closed rather than left open on the portal.
        session = portal.calls("BindShortcuts")[0]["body"][0]
        assert [c["path"] for c in portal.calls("Close")] == [session]
    finally:
        backend.close()


def test_shortcut_left_out_in_the_dialog_is_reported(portal: Portal) -> None:
    portal.configure(refuse=["voxdesk-ctrl-alt-r"])
    backend = PortalHotkeys(response_timeout=5)  # a regression fails fast, not in 300 s
    try:
        with pytest.raises(HotkeyError, match="left out"):
            backend.register(Shortcut.parse("Ctrl+Alt+R"), lambda: None)
        backend.register(Shortcut.parse("Ctrl+Alt+T"), lambda: None)  # the other one is fine
        assert list(backend.bound) == ["voxdesk-ctrl-alt-t"]
    finally:
        backend.close()


def test_wayland_session_uses_the_portal(portal: Portal, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    backend = open_backend()
    try:
        assert isinstance(backend, PortalHotkeys)
    finally:
        backend.close()


def test_wayland_without_a_portal_explains_the_fallback(
        bus: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    with pytest.raises(HotkeyError, match="voxdesk read-clipboard") as caught:
        open_backend()
    assert "desktop portal offers no global shortcuts" in caught.value.message


def test_portal_without_global_shortcuts_explains_the_fallback(
        bus: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = Portal(bus, "--without-global-shortcuts")
    try:
        monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
        with pytest.raises(HotkeyError, match="voxdesk read-clipboard") as caught:
            open_backend()
        assert "UnknownInterface" in caught.value.message
    finally:
        fake.stop()


def test_no_session_bus_explains_the_fallback(monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))  # no "bus" socket in there
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    with pytest.raises(HotkeyError, match="voxdesk read-clipboard"):
        open_backend()


def test_the_window_stays_usable_while_the_desktop_asks_to_confirm(
        portal: Portal, qtbot: Any, engine: Any, data_dir: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Binding waits for a person to answer the desktop's dialog: it must not freeze the GUI."""
    from PySide6.QtGui import QGuiApplication

    from voxdesk.gui.main_window import MainWindow
    from voxdesk.gui.read_aloud import ReadAloud
    from voxdesk.settings import Settings

    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    portal.configure(hold=True)
    window = MainWindow(Settings(), engine=engine)
    qtbot.addWidget(window)
    read_aloud = ReadAloud(window.controller, window.show_and_raise)
    notices: list[str] = []
    read_aloud.notice.connect(lambda _title, message: notices.append(message))
    try:
        # Returns at once although no dialog has been answered (blocking would hang here).
        assert read_aloud.register_hotkeys("Ctrl+Alt+R", "Ctrl+Alt+S") is None
        qtbot.waitUntil(lambda: len(portal.calls("BindShortcuts")) == 1)
        portal.configure(bind_response=1)  # the person will cancel the second dialog...
        assert portal.release() == 1  # ...after confirming the first
        qtbot.waitUntil(lambda: len(portal.calls("BindShortcuts")) == 2)
        assert portal.release() == 1
        qtbot.waitUntil(lambda: bool(notices))
        assert "Ctrl+Alt+S was not bound: the dialog was cancelled" in notices[0]
        assert "voxdesk read-clipboard" in notices[0]  # and the way around it

        # A desktop-side press of the confirmed one reads the clipboard in the window.
        QGuiApplication.clipboard().setText("Read from the portal.")
        qtbot.waitUntil(lambda: portal.activate("read-clipboard") == 1)
        qtbot.waitUntil(lambda: window.controller.speaking, timeout=10000)
        window.controller.stop()
    finally:
        read_aloud.close_hotkeys()
