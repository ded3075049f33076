"""The window serves the HTTP API with its loaded model: a real MainWindow on Xvfb, its real
settings dialog, real HTTP requests to 127.0.0.1."""

from __future__ import annotations

import socket
import threading
import time

import pytest
import requests
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QWidget

from voxdesk.gui.main_window import MainWindow
from voxdesk.gui.settings_dialog import SettingsDialog
from voxdesk.server import DEFAULT_PORT, free_port
from voxdesk.settings import ServerSettings, Settings

pytestmark = pytest.mark.gui


def make_window(qtbot, engine, settings: Settings) -> MainWindow:
    window = MainWindow(settings, engine=engine)
    qtbot.addWidget(window)
    window.show()
    return window


def by_name(parent: QWidget, name: str) -> QWidget:
    found = [w for w in parent.findChildren(QWidget) if w.accessibleName() == name]
    assert len(found) == 1, (name, found)
    return found[0]


def in_settings(window: MainWindow, change) -> None:
    """Open File > Settings, let ``change(dialog)`` edit it, press OK."""
    def edit() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, SettingsDialog)
        change(dialog)
        dialog.accept()

    QTimer.singleShot(50, edit)
    window.open_settings()


def answers(url: str) -> bool:
    try:
        return requests.get(f"{url}/health", timeout=5).status_code == 200
    except requests.ConnectionError:
        return False


def test_settings_start_the_api_and_stopping_never_blocks_the_window(qtbot, warm_engine,
                                                                     data_dir):
    window = make_window(qtbot, warm_engine, Settings())
    port = free_port()
    url = f"http://127.0.0.1:{port}"

    def enable(dialog: SettingsDialog) -> None:
        checkbox, spin = by_name(dialog, "Serve the HTTP API"), by_name(dialog, "API port")
        assert "&A" in checkbox.text() and not spin.isEnabled()  # mnemonic; port greyed out
        checkbox.setChecked(True)
        spin.setValue(port)
        assert by_name(dialog, "API address").text() == f"Address: {url}"

    with qtbot.waitSignal(window.api_server.changed, timeout=15000) as started:
        in_settings(window, enable)
    assert started.args == [url]
    label = by_name(window, "API server")
    assert label.isVisible() and label.text() == f"API: {url}"
    health = requests.get(f"{url}/health", timeout=10).json()
    assert health["model_loaded"] and health["sample_rate"] == warm_engine.sample_rate
    spoken = requests.post(f"{url}/api/tts", data={"text": "From the window.", "max_len": "2"},
                           timeout=60)
    assert spoken.status_code == 200 and spoken.content[:4] == b"RIFF"
    assert Settings.load().server == ServerSettings(enabled=True, port=port)

    # A request still being generated holds the server for uvicorn's 2 s grace period when it
    # stops: the window must keep running meanwhile.
    def post_long() -> None:
        try:
            requests.post(f"{url}/api/tts", data={"text": "Long text. " * 30, "max_len": "40"},
                          timeout=60)
        except requests.RequestException:
            pass  # cut off by the stop: expected

    pending = threading.Thread(target=post_long)
    pending.start()
    qtbot.waitUntil(lambda: warm_engine.busy, timeout=10000)
    ticks: list[float] = []
    timer = QTimer(interval=50)
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    with qtbot.waitSignal(window.api_server.changed, timeout=15000) as stopped:
        in_settings(window, lambda d: by_name(d, "Serve the HTTP API").setChecked(False))
        returned = time.monotonic()  # the dialog has applied the change and closed
        timer.start()
    timer.stop()
    assert stopped.args == [""] and not label.isVisible()
    assert time.monotonic() - returned > 1  # stopping really waited for the request...
    gaps = [b - a for a, b in zip(ticks, ticks[1:])]
    assert len(ticks) > 10 and max(gaps) < 0.5  # ...while the window's loop kept turning
    assert not answers(url)
    pending.join(10)
    assert not Settings.load().server.enabled


def test_port_in_use_is_explained_and_the_window_keeps_working(qtbot, warm_engine, data_dir):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        settings = Settings(server=ServerSettings(enabled=True, port=taken))
        window = make_window(qtbot, warm_engine, settings)  # enabled: starts with the model
        failures: list[tuple[str, str]] = []
        window.api_server.failed.connect(lambda *args: failures.append(args))
        qtbot.waitUntil(lambda: window.message_box is not None, timeout=15000)
        assert len(failures) == 1
        box = window.message_box
        assert box.text() == (f"The API server cannot listen on 127.0.0.1:{taken}: Address "
                              "already in use.")
        assert box.informativeText() == (f"Another program uses port {taken}: choose another "
                                         "port in File > Settings…")
        assert not by_name(window, "API server").isVisible()
        box.close()

        # The window still speaks, and another port serves.
        window.editor.setPlainText("Still working.")
        window.params_panel.set_max_steps(2)
        with qtbot.waitSignal(window.controller.speechEnded, timeout=30000) as ended:
            window.play()
        assert ended.args[0] is not None and not ended.args[0].cancelled
        port = free_port()
        with qtbot.waitSignal(window.api_server.changed, timeout=15000):
            in_settings(window, lambda d: by_name(d, "API port").setValue(port))
        assert answers(f"http://127.0.0.1:{port}")
    window.close()
    assert not answers(f"http://127.0.0.1:{port}")  # closing the window stopped it


def test_enabled_api_starts_once_the_model_is_loaded_and_stops_with_the_window(
        qtbot, warm_engine, data_dir):
    assert ServerSettings().port == DEFAULT_PORT  # the window serves where `voxdesk serve` does
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    window = make_window(qtbot, None, Settings(server=ServerSettings(enabled=True, port=port)))
    qtbot.wait(300)
    assert window.api_server.url == "" and not answers(url)  # nothing to serve yet
    window.controller.set_engine(warm_engine)  # what the model loader does when it is done
    qtbot.waitUntil(lambda: window.api_server.url == url, timeout=15000)
    assert answers(url)
    assert window.api_server.label.text() == f"API: {url}"
    window.close()
    assert not answers(url)


def test_serving_to_the_network_needs_a_key_and_then_asks_for_it(qtbot, warm_engine, data_dir):
    window = make_window(qtbot, warm_engine, Settings())
    port = free_port()

    def to_the_network(dialog: SettingsDialog) -> None:
        by_name(dialog, "Serve the HTTP API").setChecked(True)
        by_name(dialog, "API port").setValue(port)
        by_name(dialog, "Serve to the network").setChecked(True)
        dialog.accept()  # refused: no key yet, the dialog stays open at the key field
        assert dialog.isVisible() and "needs an API key" in by_name(dialog, "API address").text()
        by_name(dialog, "API key").setText("s3cret")

    with qtbot.waitSignal(window.api_server.changed, timeout=15000) as started:
        in_settings(window, to_the_network)
    assert started.args == [f"http://0.0.0.0:{port}"]
    saved = Settings.load().server
    assert (saved.host, saved.api_key) == ("0.0.0.0", "s3cret")
    url = f"http://127.0.0.1:{port}/api/tts"
    form = {"text": "Keyed.", "max_len": "2"}
    assert requests.post(url, data=form, timeout=60).status_code == 401
    keyed = requests.post(url, data=form, headers={"Authorization": "Bearer s3cret"}, timeout=60)
    assert keyed.status_code == 200 and keyed.content[:4] == b"RIFF"
    with qtbot.waitSignal(window.api_server.changed, timeout=15000):
        in_settings(window, lambda d: by_name(d, "Serve the HTTP API").setChecked(False))
