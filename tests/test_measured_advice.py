"""Advice from measurement: what each model does on this computer, in the dialog and the CLI.

The tests feed the advice figures (as earlier measurements on this machine would have left
them), and run one real background measurement of the tiny model in the real dialog.
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import replace

import pytest
from PySide6.QtCore import Qt, QTimer

from voxdesk.gui.first_run import FirstRunDialog
from voxdesk.models import catalog, hardware, measured

GB = 1024**3
CPU = hardware.HardwareInfo("cpu", "CPU (x86_64, 8 cores)", None, 64 * GB)


def figure(model: str, rtf: float, info: hardware.HardwareInfo = CPU,
           dtype: str = "bfloat16") -> measured.Measurement:
    return measured.Measurement(model, measured.machine_key(info), info.device, dtype, rtf,
                                0.4, measured.MEASURE_STEPS, "2026-12-01T09:00:00+00:00")


def figures(**rtfs: float) -> dict[str, measured.Measurement]:
    names = {"v2": "VoxCPM2", "v15": "VoxCPM1.5", "v05": "VoxCPM-0.5B"}
    return {names[k]: figure(names[k], v) for k, v in rtfs.items()}


@pytest.fixture
def cache(tmp_path, monkeypatch):
    path = tmp_path / "cache"
    monkeypatch.setenv("VOXDESK_CACHE_DIR", str(path))
    return path


def test_the_recommendation_follows_the_measured_speed():
    # Nothing measured: the hardware rule (on a CPU, the fastest of the three).
    assert measured.recommend(CPU, {}) == hardware.recommended_model(CPU)
    # The best-sounding model that keeps up...
    assert measured.recommend(CPU, figures(v2=0.8, v15=0.3, v05=0.2)).id == "VoxCPM2"
    assert measured.recommend(CPU, figures(v2=2.5, v15=0.9, v05=0.4)).id == "VoxCPM1.5"
    assert measured.recommend(CPU, figures(v2=2.5, v15=1.2, v05=0.6)).id == "VoxCPM-0.5B"
    # ...else the fastest.
    assert measured.recommend(CPU, figures(v2=4.0, v15=1.9, v05=1.6)).id == "VoxCPM-0.5B"
    assert measured.recommend(CPU, figures(v2=4.0, v15=1.3, v05=1.6)).id == "VoxCPM1.5"
    # A model that does not fit in memory is never recommended, however fast it was.
    small = replace(CPU, ram_bytes=6 * GB)  # VoxCPM2 needs ~9 GB
    assert measured.recommend(small, figures(v2=0.5, v15=1.3, v05=1.6)).id == "VoxCPM1.5"


def test_the_advice_says_the_expected_real_time_factor_and_dtype():
    entry = catalog.lookup("VoxCPM2")
    slow = measured.advise(entry, CPU, figures(v2=2.4))
    assert slow.rtf == 2.4 and not slow.realtime and slow.dtype == "bfloat16"
    assert "expected real-time factor 2.40 (bfloat16 on the CPU" in slow.message
    assert "slower than speech" in slow.message
    quick = measured.advise(entry, CPU, figures(v2=0.6))
    assert quick.realtime and "faster than real time" in quick.message
    unmeasured = measured.advise(entry, CPU, {})
    assert unmeasured.rtf is None and unmeasured.message == hardware.advice(entry, CPU).message


def test_figures_are_kept_per_machine_atomically_and_survive_damage(cache):
    path = measured.store_path()
    measured.record(figure("VoxCPM2", 3.0))
    measured.record(figure("VoxCPM2", 2.0))  # replaces this machine's earlier figure
    other = hardware.HardwareInfo("cuda", "NVIDIA RTX 4090", 24 * GB, 64 * GB, (8, 9))
    measured.record(figure("VoxCPM2", 0.2, other))
    assert measured.load_figures(CPU)["VoxCPM2"].rtf == 2.0  # another GPU's does not apply
    assert measured.load_figures(other)["VoxCPM2"].rtf == 0.2
    assert len(json.loads(path.read_text())["measurements"]) == 2
    assert not list(path.parent.glob("*.tmp*"))  # written atomically, nothing left over
    path.write_text('{"measurements": [{"model": "VoxCPM2", "rtf": "fast"}, 7]')  # torn file
    assert measured.load_figures(CPU) == {}
    path.write_text(json.dumps({"measurements": [{"model": "VoxCPM2", "rtf": -1}]}))
    assert measured.load_figures(CPU) == {}
    measured.record(figure("VoxCPM1.5", 1.1))  # a damaged file is replaced, not fatal
    assert set(measured.load_figures(CPU)) == {"VoxCPM1.5"}


@pytest.fixture
def make_dialog(qtbot):
    """A real first-run dialog on the test display; its threads are ended afterwards."""
    made: list[FirstRunDialog] = []

    def make(**kwargs) -> FirstRunDialog:
        dialog = FirstRunDialog(**kwargs)
        qtbot.addWidget(dialog)
        made.append(dialog)
        dialog.show()
        return dialog

    yield make
    for dialog in made:
        assert dialog.shutdown(20000)


def _choice(dialog: FirstRunDialog, name: str):
    return next(c for c in dialog.choices if c.entry.id == name)


@pytest.mark.gui
def test_the_dialog_shows_measured_figures_and_follows_new_ones(qtbot, cache, isolated,
                                                                make_dialog):
    here = hardware.detect()
    for name, rtf in (("VoxCPM2", 2.5), ("VoxCPM1.5", 1.4), ("VoxCPM-0.5B", 0.7)):
        measured.record(figure(name, rtf, here))
    dialog = make_dialog()
    qtbot.waitUntil(lambda: dialog.info is not None, timeout=30000)
    small = _choice(dialog, "VoxCPM-0.5B")
    assert "(recommended)" in small.radio.text() and small.radio.isChecked()
    assert "expected real-time factor 0.70" in small.details.text()
    assert "expected real-time factor 2.50" in _choice(dialog, "VoxCPM2").details.text()
    assert "VoxCPM-0.5B keeps up with speech here: expected real-time factor 0.70" in \
        dialog.hardware_label.text()
    assert "Measured on this computer" in dialog.speed_label.text()
    assert not dialog.measure_button.isEnabled()  # nothing left to measure

    # A new figure (say, after an upgrade) changes the advice and the pre-selection.
    dialog._on_measured(figure("VoxCPM2", 0.9, here))
    best = _choice(dialog, "VoxCPM2")
    assert "(recommended)" in best.radio.text() and best.radio.isChecked()
    assert "(recommended)" not in small.radio.text()
    assert "expected real-time factor 0.90" in dialog.hardware_label.text()
    # Once the person has chosen, a figure no longer moves the selection.
    small.radio.click()
    dialog._on_measured(figure("VoxCPM2", 0.5, here))
    assert small.radio.isChecked() and "(recommended)" in best.radio.text()


@pytest.mark.gui
def test_measuring_runs_in_the_background_and_can_be_skipped(qtbot, cache, isolated,
                                                             make_dialog):
    dialog = make_dialog(measure_speed=True, measure_args=("--tiny", "--steps", "1"))
    qtbot.waitUntil(lambda: dialog.measurer is not None, timeout=30000)
    assert dialog.skip_button.isVisible() and not dialog.measure_button.isVisible()
    ticks: list[float] = []
    timer = QTimer(dialog)
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start(50)
    # The smallest model first: its figure arrives while the window keeps running.
    qtbot.waitUntil(lambda: "VoxCPM-0.5B" in dialog.figures, timeout=240000)
    timer.stop()
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    assert len(ticks) > 10 and max(gaps) < 2.0  # the event loop never waited for it
    assert "expected real-time factor" in _choice(dialog, "VoxCPM-0.5B").details.text()
    assert dialog.figures["VoxCPM-0.5B"].dtype == "float32"  # the tiny model's, as loaded
    dialog.skip_button.click()
    assert dialog.measurer is not None and dialog.measurer.wait(15)
    assert "skipped" in dialog.speed_label.text()
    assert dialog.measure_button.isVisible() and not dialog.skip_button.isVisible()
    assert "VoxCPM2" not in dialog.figures
    # A tiny-model figure is kept apart: it never poses as this computer's real speed.
    assert measured.load_figures(hardware.detect()) == {}


@pytest.mark.gui
def test_the_window_s_first_run_dialog_measures_on_its_own_and_follows_the_figures(
        qtbot, cache, isolated):
    from voxdesk.gui.main_window import MainWindow
    from voxdesk.settings import Settings

    here = hardware.detect()
    for name, rtf in (("VoxCPM2", 2.5), ("VoxCPM1.5", 1.4)):  # earlier runs here
        measured.record(figure(name, rtf, here))
    window = MainWindow(Settings())  # the default: the dialog measures by itself
    qtbot.addWidget(window)
    window.speed_measure_args = ("--tiny", "--steps", "1")
    window.show()
    try:
        dialog = window.show_first_run("cpu")
        ticks: list[float] = []
        timer = QTimer(dialog)
        timer.timeout.connect(lambda: ticks.append(time.monotonic()))
        timer.start(50)
        # Nobody pressed "Measure": only the model without a figure is measured, at once.
        qtbot.waitUntil(lambda: dialog.measurer is not None and dialog.measurer.running(),
                        timeout=30000)
        assert dialog.measurer is not None and dialog.measurer.names == ["VoxCPM-0.5B"]
        assert dialog.skip_button.isVisible() and dialog.skip_button.isEnabled()
        assert "Measuring VoxCPM-0.5B" in dialog.speed_label.text()
        # Neither measured model keeps up: the fastest measured is advised, with its figure.
        assert "VoxCPM1.5 is the fastest measured here: expected real-time factor 1.40" in \
            dialog.hardware_label.text()
        assert "(recommended)" in _choice(dialog, "VoxCPM1.5").radio.text()
        # A figure arriving from the measurement changes the advice shown.
        dialog.measurer.measured.emit(figure("VoxCPM-0.5B", 0.7, here))
        small = _choice(dialog, "VoxCPM-0.5B")
        assert "(recommended)" in small.radio.text() and small.radio.isChecked()
        assert "VoxCPM-0.5B keeps up with speech here: expected real-time factor 0.70" in \
            dialog.hardware_label.text()
        assert "expected real-time factor 0.70" in small.details.text()
        # The window's event loop keeps running while the measurement does.
        qtbot.waitUntil(lambda: len(ticks) >= 10, timeout=10000)
        timer.stop()
        assert dialog.measurer.running()
        assert max(b - a for a, b in itertools.pairwise(ticks)) < 2.0
        qtbot.keyClick(dialog.skip_button, Qt.Key.Key_Space)  # Skip, from the keyboard
        assert dialog.measurer.wait(15)
        assert "skipped" in dialog.speed_label.text() and dialog.measure_button.isVisible()
    finally:
        window.close()


def test_models_list_says_what_each_model_does_here(cli, cache, isolated):
    here = hardware.detect()
    measured.record(figure("VoxCPM2", 0.6, here))
    measured.record(figure("VoxCPM1.5", 0.3, here))
    done = cli("models", "list", env={"VOXDESK_CACHE_DIR": str(cache)})
    assert done.returncode == 0, done.stderr
    assert "VoxCPM2: Measured on this computer: expected real-time factor 0.60" in done.stdout
    assert "Advice: VoxCPM2." in done.stdout
    listing = json.loads(cli("models", "list", "--json",
                             env={"VOXDESK_CACHE_DIR": str(cache)}).stdout)
    assert listing["recommended"] == "VoxCPM2"
    by_id = {m["id"]: m for m in listing["models"]}
    assert by_id["VoxCPM1.5"]["measured_rtf"] == 0.3 and by_id["VoxCPM-0.5B"]["measured_rtf"] is None
    assert by_id["VoxCPM2"]["dtype"] == "bfloat16"
