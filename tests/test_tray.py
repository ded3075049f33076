"""The everyday path: copy text anywhere, press Ctrl+Alt+R, hear it - from the tray.

A real VoxDesk process (`voxdesk --tray`) under Xvfb with a real system tray (trayer), real X
key events (xdotool), a real clipboard owner (xclip) and real audio into the null sink.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from desktop_helpers import needs_x_tools, set_clipboard, wait_for

from voxdesk.gui.single_instance import send_command
from voxdesk.testing.sink import non_silent_span

pytestmark = needs_x_tools
VOXDESK = [sys.executable, "-m", "voxdesk"]


class App:
    """A running `voxdesk --tray` and the commands a second process would send it."""

    def __init__(self, model: Path, home: Path, env_extra: dict[str, str] | None = None):
        config = home / "config"
        config.mkdir(parents=True)
        # Short utterances: the tiny model runs every sentence to max_len steps of 160 ms.
        (config / "settings.json").write_text(json.dumps({"params": {"max_len": 12}}))
        self.env = {**os.environ, "VOXDESK_CONFIG_DIR": str(config),
                    "VOXDESK_DATA_DIR": str(home / "data"),
                    "VOXDESK_INSTANCE": f"voxdesk-tray-test-{os.getpid()}-{home.name}",
                    **(env_extra or {})}
        self.log = open(home / "app.log", "w")
        self.process = subprocess.Popen(
            [*VOXDESK, "--tray", "--model", str(model), "--device", "cpu"],
            env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
        )
        assert wait_for(lambda: (self.status() or {}).get("model_loaded"), 90), self.output()

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*VOXDESK, *args], env=self.env, capture_output=True, text=True,
                              timeout=60)

    def status(self) -> dict | None:
        # In-process, for speed; the commands that must come from another process use run().
        previous = os.environ.get("VOXDESK_INSTANCE")
        os.environ["VOXDESK_INSTANCE"] = self.env["VOXDESK_INSTANCE"]
        try:
            return send_command({"command": "status"})
        finally:
            os.environ["VOXDESK_INSTANCE"] = previous or ""

    def output(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text()

    def close(self):
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


@pytest.fixture
def app(tiny_model_dir, tmp_path, tray_host):
    running = App(tiny_model_dir, tmp_path)
    yield running
    running.close()


def test_hotkey_reads_the_clipboard_and_pressing_again_stops(app, sink_recorder):
    owner = set_clipboard("Read this aloud, please. And this second sentence too.")
    try:
        with sink_recorder() as rec:
            subprocess.run(["xdotool", "key", "ctrl+alt+r"], check=True)
            assert wait_for(lambda: app.status()["played_seconds"] > 0.8, 20), app.output()
            subprocess.run(["xdotool", "key", "ctrl+alt+r"], check=True)
            assert wait_for(lambda: not app.status()["speaking"], 5)
            stopped_at = time.monotonic()
            time.sleep(0.5)
        start, end = non_silent_span(rec.samples)
        assert end - start > 0.3 * 48000, "nothing was heard"
        # Two sentences of 12 steps are 3.84 s: stopping cut it well short.
        assert (end - start) / 48000 < 3.0
        assert stopped_at  # (the stop itself is measured in test_playback)
    finally:
        owner.terminate()


def test_second_process_command_uses_the_running_model(app, sink_recorder):
    owner = set_clipboard("Sent from another process.")
    try:
        with sink_recorder() as rec:
            result = app.run("read-clipboard")
            assert result.returncode == 0, result.stderr
            assert wait_for(lambda: app.status()["speaking"], 20), app.output()
            assert wait_for(lambda: not app.status()["speaking"], 30)
        assert non_silent_span(rec.samples)[1] > 0
        status = app.status()
        assert status["models_loaded"] == 1  # no second model was loaded
        assert "Loading" not in result.stderr
    finally:
        owner.terminate()


def test_empty_or_image_clipboard_speaks_nothing(app, tmp_path, sink_recorder):
    image = tmp_path / "pixel.png"
    subprocess.run(["convert", "-size", "4x4", "xc:red", str(image)], check=True)
    owner = subprocess.Popen(["xclip", "-selection", "clipboard", "-t", "image/png", "-i",
                              str(image), "-quiet"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    time.sleep(0.3)
    try:
        with sink_recorder() as rec:
            result = app.run("read-clipboard")
            time.sleep(0.5)
        assert result.returncode != 0 and "image" in result.stderr
        assert "image" in app.status()["last_notice"]
        assert non_silent_span(rec.samples) == (0, 0)
    finally:
        owner.terminate()


def test_hotkey_taken_by_another_program_is_reported_and_app_keeps_running(
    tiny_model_dir, tmp_path, tray_host
):
    grabber = subprocess.Popen(
        [sys.executable, "-c",
         "import time; from voxdesk.hotkeys.x11 import X11Hotkeys; "
         "from voxdesk.hotkeys import Shortcut; h = X11Hotkeys(); "
         "h.register(Shortcut.parse('Ctrl+Alt+R'), lambda: None); print('ok', flush=True); "
         "time.sleep(120)"],
        stdout=subprocess.PIPE, text=True,
    )
    assert grabber.stdout.readline().strip() == "ok"
    running = App(tiny_model_dir, tmp_path)
    try:
        status = running.status()
        assert "already used by another program" in status["hotkey_error"]
        assert running.process.poll() is None
        assert "Ctrl+Alt+R" in status["last_notice"]
    finally:
        running.close()
        grabber.terminate()


# -- the tray in this process, on the window's controller ------------------------------------


@pytest.fixture
def desktop(qtbot, warm_engine, data_dir, tray_host, tmp_path):
    import numpy as np
    import soundfile
    from PySide6.QtWidgets import QApplication

    from voxdesk.engine import SynthesisParams
    from voxdesk.gui.desktop import Desktop
    from voxdesk.gui.main_window import MainWindow
    from voxdesk.settings import Settings
    from voxdesk.voices.store import VoiceStore

    clip = tmp_path / "ada.wav"
    soundfile.write(clip, (0.2 * np.sin(np.arange(48000) / 9)).astype(np.float32), 48000)
    store = VoiceStore()
    store.add("Ada", clip, "Hello, I am Ada.", SynthesisParams(max_len=4, seed=1))
    settings = Settings(params=SynthesisParams(max_len=6))
    window = MainWindow(settings, engine=warm_engine, voice_store=store)
    qtbot.addWidget(window)
    running = Desktop(QApplication.instance(), window, settings)
    assert running.tray is not None, "trayer gave no system tray"
    running.store = store  # type: ignore[attr-defined]
    yield running
    running.close()
    window.keep_in_tray = False


def tray_voices(tray) -> list[tuple[str, bool]]:
    return [(a.text(), a.isChecked()) for a in tray.voice_menu.actions()]


def test_tray_voice_menu_switches_the_voice_of_the_next_utterance(desktop, qtbot, tmp_path,
                                                                  sink_recorder):
    from voxdesk.gui.controller import State

    tray, window = desktop.tray, desktop.window
    assert tray_voices(tray) == [("Model default voice", True), ("Ada", False)]
    tray.voice_menu.actions()[1].trigger()  # as a click on "Ada"
    assert tray_voices(tray) == [("Model default voice", False), ("Ada", True)]
    assert window.voice_panel.choice() == ("profile", "Ada")  # the window follows
    ada = desktop.store.get("Ada")
    window.editor.setPlainText("Who is speaking?")
    with sink_recorder():
        with qtbot.waitSignal(window.controller.requested, timeout=5000) as asked:
            window.play()
        with qtbot.waitSignal(window.controller.speechEnded, timeout=30000) as ended:
            pass
    assert asked.args[0].voice == ada.voice_reference() and ended.args[0].voice_cache_hit

    # Choosing in the window ticks the tray; a new profile appears in the tray's menu.
    combo = window.voice_panel.combo
    combo.setCurrentIndex(0)
    combo.activated.emit(0)
    assert tray_voices(tray) == [("Model default voice", True), ("Ada", False)]
    desktop.store.duplicate("Ada", "Bo")
    window.controller.refresh_profiles()
    assert tray_voices(tray) == [("Model default voice", True), ("Ada", False), ("Bo", False)]
    assert window.controller.state is State.READY


def test_tray_shows_speaking_paused_and_resumes(desktop, qtbot, sink_recorder):
    tray, window = desktop.tray, desktop.window
    assert tray.state == "ready" and not tray.pause_action.isEnabled()
    window.editor.setPlainText(" ".join(f"Sentence {i}." for i in range(30)))
    with sink_recorder():
        with qtbot.waitSignal(window.controller.speechStarted, timeout=20000):
            window.play()
        assert tray.state == "speaking" and tray.pause_action.text() == "&Pause"
        tray.pause_action.trigger()
        assert tray.state == "paused" and tray.pause_action.text() == "&Resume"
        assert "paused" in tray.icon.toolTip()
        assert window.transport.position.text().startswith("Paused")
        tray.pause_action.trigger()
        assert tray.state == "speaking"
        with qtbot.waitSignal(window.controller.speechEnded, timeout=5000):
            tray.stop_action.trigger()
    assert tray.state == "ready" and not tray.stop_action.isEnabled()


def test_tray_moves_by_sentence_and_changes_the_speed(desktop, qtbot, sink_recorder):
    tray, window = desktop.tray, desktop.window
    controller = window.controller
    actions = {a.text(): a for a in tray.menu.actions()}
    assert not actions["&Next sentence"].isEnabled()  # nothing to move while idle
    speed = controller.speed
    actions["&Faster"].trigger()
    assert controller.speed == pytest.approx(speed + 0.05)
    actions["S&lower"].trigger()
    assert controller.speed == pytest.approx(speed)
    window.editor.setPlainText("One is first. Two comes next.\n\nThree starts a paragraph. "
                               "Four is last.")
    with sink_recorder():
        with qtbot.waitSignal(controller.speechStarted, timeout=20000):
            window.play()
        assert actions["&Next sentence"].isEnabled()
        with qtbot.waitSignal(controller.requested, timeout=5000) as asked:
            actions["&Next sentence"].trigger()
        assert asked.args[0].text == "Two comes next.\n\nThree starts a paragraph. Four is last."
        with qtbot.waitSignal(controller.requested, timeout=5000) as asked:
            actions["Ne&xt paragraph"].trigger()
        assert asked.args[0].text == "Three starts a paragraph. Four is last."
        with qtbot.waitSignal(controller.speechEnded, timeout=5000):
            controller.stop()
