"""First run without a model (issue 8): the window opens the first-run dialog, which downloads
a model from a real HTTP hub on 127.0.0.1 (voxdesk.testing.fake_hub) with progress, cancel and
resume, or takes a model folder; then the window loads it and speaks a test sentence. Also what
came with it: the model chosen with `voxdesk models use` is the one the window loads, errors
name the next step, Help > Copy diagnostics, the denoiser from VoxDesk's model folder, and a
`voxdesk` command line that does not import FastAPI."""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QAbstractButton, QApplication, QMessageBox, QWidget

from voxdesk import models
from voxdesk.engine import VoiceReference
from voxdesk.errors import ModelNotFoundError
from voxdesk.gui.app import model_to_load
from voxdesk.gui.first_run import FirstRunDialog
from voxdesk.gui.main_window import MainWindow
from voxdesk.settings import Settings
from voxdesk.testing.fake_hub import FakeHub

pytestmark = pytest.mark.gui

REPO = "openbmb/VoxCPM2"
NO_MODEL = argparse.Namespace(model=None)


@pytest.fixture
def window(qtbot, isolated):
    settings = Settings()
    settings.desktop.measure_speed = False  # these tests are about downloads and loading
    w = MainWindow(settings)
    qtbot.addWidget(w)
    w.params_panel.set_max_steps(3)  # the tiny model speaks max_len steps per sentence
    with qtbot.waitExposed(w):
        w.show()
    yield w
    if w.first_run is not None:
        w.first_run.close()


def open_dialog(window: MainWindow, qtbot) -> FirstRunDialog:
    dialog = window.show_first_run("cpu")
    qtbot.waitUntil(dialog.isActiveWindow)  # mnemonics work in the active window
    qtbot.waitUntil(lambda: dialog.info is not None, timeout=30000)  # hardware detected
    return dialog


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- the window opens it, and honours the chosen model -------------------------------------------


@pytest.fixture
def own_instance(isolated, monkeypatch, tmp_path):
    """run_app as a private instance: own socket name, no global shortcuts, no tray."""
    monkeypatch.setenv("VOXDESK_INSTANCE", f"voxdesk-first-run-{os.getpid()}-{tmp_path.name}")
    Settings.path().parent.mkdir(parents=True, exist_ok=True)
    Settings.path().write_text(json.dumps({"desktop": {
        "read_clipboard_hotkey": "", "read_selection_hotkey": "", "close_to_tray": False,
        "measure_speed": False,
    }}), encoding="utf-8")


def run_app_until(condition) -> list[MainWindow]:
    """Run `voxdesk` (the window) until ``condition(window)`` holds, then close it."""
    from voxdesk.cli import main

    seen: list[MainWindow] = []

    def check() -> None:
        windows = [w for w in QApplication.topLevelWidgets()
                   if isinstance(w, MainWindow) and w.isVisible()]
        if windows and condition(windows[0]):
            seen.append(windows[0])
            windows[0].close()
        else:
            QTimer.singleShot(50, check)

    QTimer.singleShot(50, check)
    assert main(["--device", "cpu"]) == 0
    return seen


def test_without_a_model_the_window_opens_the_first_run_dialog(qtbot, own_instance):
    assert model_to_load(NO_MODEL, Settings()) is None
    window = run_app_until(lambda w: w.first_run is not None and w.first_run.isVisible())[0]
    # Nothing was loading.
    assert window.controller.model_spec == "" and window.controller.models_loaded == 0
    assert not window.first_run.busy_in_background()  # its work ended with the window


def test_the_model_chosen_with_voxdesk_models_use_is_loaded(qtbot, own_instance, cli,
                                                            tiny_model_dir, tmp_path):
    done = cli("models", "use", str(tiny_model_dir))
    assert done.returncode == 0, done.stderr
    chosen = str(tiny_model_dir.resolve())
    older = Settings(model=str(tmp_path))  # a folder an older VoxDesk kept in its settings
    assert model_to_load(NO_MODEL, older) == chosen
    assert model_to_load(argparse.Namespace(model="elsewhere"), older) == "elsewhere"
    window = run_app_until(lambda w: w.controller.engine is not None)[0]
    assert window.controller.model_spec == chosen and window.first_run is None


# -- download, cancel, resume, load, test sentence -----------------------------------------------


def test_download_with_progress_cancel_and_resume_then_load_and_speak(
        window, qtbot, hub, tiny_model_dir, sink_recorder):
    dialog = open_dialog(window, qtbot)
    if dialog.info.device == "cpu":
        assert "slower than real time" in dialog.hardware_label.text()
    qtbot.keyClick(dialog, Qt.Key.Key_2, Qt.KeyboardModifier.AltModifier)  # VoxCPM&2
    qtbot.waitUntil(lambda: dialog.chosen() is models.lookup("VoxCPM2"))  # (an animated click)
    assert dialog.download_button.text().replace("&", "").startswith("Download VoxCPM2")

    values: list[int] = []
    dialog.progress.valueChanged.connect(values.append)
    hub.rate = 3e6  # slow enough to cancel mid-file
    qtbot.mouseClick(dialog.download_button, Qt.MouseButton.LeftButton)
    assert dialog.cancel_button.isVisible() and not dialog.folder_button.isEnabled()
    qtbot.waitUntil(lambda: dialog.progress.value() > 150, timeout=20000)
    assert "Downloading VoxCPM2" in dialog.status.text()
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.downloading is None, timeout=10000)

    assert len(set(values)) > 2 and values == sorted(values), "the bar moved forward"
    assert "stopped" in dialog.status.text() and "continue" in dialog.status.text()
    kept = models.partial_bytes("VoxCPM2")
    assert kept > 0 and not models.is_downloaded("VoxCPM2")
    assert dialog.download_button.text().replace("&", "").startswith("Resume download")
    assert "already downloaded" in dialog.choices[0].details.text()

    hub.rate = None
    before = len(hub.file_requests())
    qtbot.mouseClick(dialog.download_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.ready, timeout=60000)  # downloaded, then loaded
    resumed = [r for r in hub.file_requests()[before:] if r.range]
    assert len(resumed) == 1 and int(resumed[0].range[6:-1]) > 0
    assert models.chosen_model() == REPO and models.is_downloaded("VoxCPM2")
    assert window.controller.engine is not None and window.controller.model_spec == REPO
    assert "Ready" in dialog.status.text() and dialog.test_button.isVisible()

    with sink_recorder() as rec:
        with qtbot.waitSignal(window.controller.speechEnded, timeout=30000) as ended:
            qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    assert ended.args[0] is not None and not ended.args[0].cancelled
    assert np.abs(rec.samples).max() > 0.01, "the test sentence was heard"
    # The next start loads it without asking.
    assert model_to_load(NO_MODEL, Settings()) == REPO


def test_a_local_folder_is_used_without_a_download(window, qtbot, isolated, tiny_model_dir):
    dialog = open_dialog(window, qtbot)
    assert not dialog.use_folder(str(isolated))  # not a model folder: said so, nothing loads
    assert "not a VoxCPM model folder" in dialog.status.text()
    assert window.controller.model_spec == ""
    with qtbot.waitSignal(window.controller.engineReady, timeout=60000):
        assert dialog.use_folder(str(tiny_model_dir))
    assert dialog.ready and models.chosen_model() == str(tiny_model_dir.resolve())
    assert model_to_load(NO_MODEL, Settings()) == str(tiny_model_dir.resolve())


# -- errors, with the next step; the window keeps working -----------------------------------------


@pytest.mark.parametrize("case", ["no network", "hub refused", "disk full"])
def test_download_errors_name_the_next_step(case, window, qtbot, tiny_model_dir, monkeypatch):
    with FakeHub({REPO: tiny_model_dir}) as fake:
        if case == "no network":
            monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{closed_port()}")
        else:
            monkeypatch.setenv("HF_ENDPOINT", fake.url)
        fake.token = "hf_secret" if case == "hub refused" else None
        if case == "disk full":
            fake.advertise_size["model.safetensors"] = 10**16  # more than any disk
        dialog = open_dialog(window, qtbot)
        dialog.choose("VoxCPM2")
        qtbot.mouseClick(dialog.download_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: dialog.downloading is None, timeout=30000)
    message, _, hint = dialog.status.text().partition("\n")
    expected = {"no network": ("Cannot reach", "Use a local folder"),
                "hub refused": ("access", "HF_TOKEN"),
                "disk full": ("disk space", "VOXDESK_MODELS_DIR")}[case]
    assert expected[0] in message and expected[1] in hint
    assert dialog.download_button.isEnabled() and dialog.folder_button.isEnabled()
    assert not models.is_downloaded("VoxCPM2") and window.controller.engine is None

    dialog.close()  # the window keeps working without a model
    window.editor.setPlainText("Anyone there?")
    window.play()
    box = window.message_box
    assert isinstance(box, QMessageBox) and box.text() == "No model is loaded."
    assert "Download a model" in box.informativeText()
    box.close()
    window.show_first_run()  # File > Download a model… brings it back
    assert dialog.isVisible() and window.first_run is dialog


# -- accessibility ------------------------------------------------------------------------------


def test_every_control_has_a_name_and_its_own_mnemonic(window, qtbot, hub):
    sys.path.insert(0, str(Path(__file__).parent))
    from test_gui_app import layout_problems

    dialog = open_dialog(window, qtbot)
    keys = []
    for widget in dialog.findChildren(QAbstractButton):
        assert widget.accessibleName(), widget.text()
        assert "&" in widget.text(), widget.text()
        keys.append(widget.text()[widget.text().index("&") + 1].lower())
    assert len(keys) == len(set(keys)) == 10, keys  # 3 models and 7 buttons
    for name in ("Download progress", "Download status", "This computer", "Speed measurement"):
        assert [w for w in dialog.findChildren(QWidget) if w.accessibleName() == name]
    recommended = [c for c in dialog.choices if "recommended" in c.radio.text()]
    assert len(recommended) == 1 and recommended[0].radio.isChecked()
    for choice in dialog.choices:
        details = choice.details.text()
        assert "GB download" in details and "kHz" in details and "GB of GPU memory" in details
    # It grows to fit the hardware advice once that arrives (on the next turn of the loop).
    qtbot.waitUntil(lambda: layout_problems(dialog) == [], timeout=5000)


# -- Help > Copy diagnostics -------------------------------------------------------------------


def test_copy_diagnostics_puts_the_report_on_the_clipboard(window, qtbot):
    action = next(a for a in window.actions() if a.text() == "Copy &diagnostics")
    QGuiApplication.clipboard().setText("")
    with qtbot.waitSignal(window.diagnosticsCopied, timeout=30000):
        action.trigger()
    text = QGuiApplication.clipboard().text()
    assert text.startswith("# VoxDesk diagnostics") and "## Models" in text


# -- the denoiser comes from VoxDesk's model folder ---------------------------------------------


def test_denoise_without_the_denoiser_names_the_download_command(engine, isolated):
    clip = isolated / "voice.wav"
    sf.write(clip, np.sin(np.linspace(0, 2000, 16000)).astype(np.float32) * 0.3, 16000)
    assert models.denoiser_path() is None
    with pytest.raises(ModelNotFoundError, match="denoiser") as missing:
        engine.prepare_voice(VoiceReference(reference_wav=clip), denoise=True)
    assert "voxdesk models download denoiser" in missing.value.hint
    assert engine.prepare_voice(VoiceReference(reference_wav=clip)) is False  # without: fine


# -- the command line does not pay for FastAPI --------------------------------------------------


def test_building_the_command_line_does_not_import_fastapi():
    done = subprocess.run(
        [sys.executable, "-c", "import voxdesk.cli, sys; voxdesk.cli.build_parser(); "
         "print('fastapi' in sys.modules)"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_serve_defaults_match_the_server():
    from voxdesk.cli import build_parser, serve
    from voxdesk.server import DEFAULT_PORT
    from voxdesk.server.app import ServerLimits

    limits = ServerLimits()
    assert serve.DEFAULT_PORT == DEFAULT_PORT
    args = build_parser().parse_args(["serve"])
    assert (args.port, args.max_text_chars, args.queue) == (
        DEFAULT_PORT, limits.max_text_chars, limits.max_waiting)
    assert int(args.max_upload_mb * 1024 * 1024) == limits.max_upload_bytes
