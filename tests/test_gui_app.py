"""Starting the window (`voxdesk`, `voxdesk gui`), its look (light, dark, 200 %) and screenshots."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLabel,
    QLineEdit,
    QWidget,
)

from voxdesk.engine import SynthesisParams
from voxdesk.gui.main_window import MainWindow
from voxdesk.settings import Settings

pytestmark = pytest.mark.gui

DOCS = Path(__file__).resolve().parent.parent / "docs"
SIZE = (1100, 750)
SAMPLE = (
    "VoxDesk reads text aloud as soon as you press Play. The sentence you hear is highlighted, "
    "and the window stays responsive while the model works.\n\n"
    "Paste an article, open a text or Markdown file, or drop one here. Pick a voice on the "
    "right: the model's own, a saved profile, or a short recording of anyone who agreed to it."
)


def layout_problems(window: QWidget) -> list[str]:
    """Controls drawn smaller than they need (clipped text) or overlapping a sibling."""
    problems: list[str] = []
    kinds = (QLabel, QAbstractButton, QComboBox, QAbstractSpinBox, QLineEdit)
    visible = [w for w in window.findChildren(QWidget)
               if isinstance(w, kinds) and w.isVisibleTo(window)
               and not w.objectName().startswith("qt_")
               and not isinstance(w.parentWidget(), (QComboBox, QAbstractSpinBox))]
    for widget in visible:
        name = widget.accessibleName() or getattr(widget, "text", lambda: "")() or \
            type(widget).__name__
        need = widget.minimumSizeHint()
        if isinstance(widget, QLabel) and widget.wordWrap():
            need.setHeight(widget.heightForWidth(widget.width()))
            need.setWidth(0)
        if widget.width() < need.width() or widget.height() < need.height():
            problems.append(f"{name!r} is {widget.width()}x{widget.height()}, needs "
                            f"{need.width()}x{need.height()}")
    for i, a in enumerate(visible):
        for b in visible[i + 1:]:
            if a.parentWidget() is b.parentWidget() and a.geometry().intersects(b.geometry()):
                problems.append(f"{a.accessibleName() or a} overlaps {b.accessibleName() or b}")
    return problems


def dark_palette() -> QPalette:
    """What a dark desktop theme hands the application."""
    palette = QPalette()
    colours = {
        QPalette.ColorRole.Window: "#2b2b2e", QPalette.ColorRole.WindowText: "#e8e8e8",
        QPalette.ColorRole.Base: "#1e1e20", QPalette.ColorRole.AlternateBase: "#2b2b2e",
        QPalette.ColorRole.Text: "#e8e8e8", QPalette.ColorRole.Button: "#38383c",
        QPalette.ColorRole.ButtonText: "#e8e8e8", QPalette.ColorRole.Highlight: "#3d7bd9",
        QPalette.ColorRole.HighlightedText: "#ffffff", QPalette.ColorRole.ToolTipBase: "#38383c",
        QPalette.ColorRole.ToolTipText: "#e8e8e8", QPalette.ColorRole.PlaceholderText: "#8a8a8f",
        QPalette.ColorRole.Light: "#4a4a4f", QPalette.ColorRole.Midlight: "#404045",
        QPalette.ColorRole.Mid: "#5a5a60", QPalette.ColorRole.Dark: "#18181a",
        QPalette.ColorRole.Shadow: "#000000", QPalette.ColorRole.Link: "#7fb0ff",
    }
    for role, colour in colours.items():
        palette.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text,
                 QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#77777c"))
    return palette


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_screenshot_has_nothing_clipped_or_overlapping(theme, qtbot, warm_engine, data_dir,
                                                      tmp_path):
    """The window as a person sees it; VOXDESK_UPDATE_SCREENSHOTS=1 refreshes docs/*.png."""
    app = QApplication.instance()
    original = app.palette()
    if theme == "dark":
        app.setPalette(dark_palette())
    try:
        window = MainWindow(Settings(), engine=warm_engine)
        qtbot.addWidget(window)
        window.resize(*SIZE)
        window.show()
        qtbot.waitExposed(window)
        # A real utterance, so the latency readout and its history show real figures.
        window.params_panel.set_max_steps(3)
        for text in ("One.", "Two words.", "Three more words."):
            window.editor.setPlainText(text)
            with qtbot.waitSignal(window.controller.speechEnded, timeout=30000):
                window.play()
        window.params_panel.set_params(SynthesisParams())
        window.editor.setPlainText(SAMPLE)
        window.editor.set_highlight(SAMPLE.index("The sentence"), SAMPLE.index("works.") + 6)
        window.statusBar().clearMessage()
        qtbot.wait(50)
        assert layout_problems(window) == []
        folder = DOCS if os.environ.get("VOXDESK_UPDATE_SCREENSHOTS") else tmp_path
        path = folder / f"window-{theme}.png"
        assert window.grab().save(str(path))
        assert path.stat().st_size > 10_000
        if theme == "dark":  # the window follows the palette: dark background, light text
            assert window.editor.palette().color(QPalette.ColorRole.Base).lightness() < 60
            image = window.grab().toImage()
            assert QColor(image.pixel(SIZE[0] // 3, SIZE[1] // 2)).lightness() < 60
    finally:
        app.setPalette(original)


SCALED_CHECK = """
import json, sys
sys.path.insert(0, {tests!r})
from PySide6.QtWidgets import QApplication
app = QApplication([])
from test_gui_app import layout_problems
from voxdesk.gui.main_window import MainWindow
from voxdesk.settings import Settings
window = MainWindow(Settings())
hint = window.minimumSizeHint()
window.resize(960, 540)  # a 1920x1080 screen at 200 %
window.show()
app.processEvents()
problems = layout_problems(window)
window.grab().save({shot!r})
print(json.dumps({{"ratio": window.devicePixelRatio(), "problems": problems,
                  "minimum": [hint.width(), hint.height()]}}))
window.close()
"""


def test_window_fits_and_is_unclipped_at_200_percent(tmp_path, data_dir):
    tests = str(Path(__file__).resolve().parent)
    shot = str(tmp_path / "scaled.png")
    env = {**os.environ, "QT_SCALE_FACTOR": "2"}
    done = subprocess.run([sys.executable, "-c", SCALED_CHECK.format(tests=tests, shot=shot)],
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["ratio"] == 2.0
    assert result["problems"] == []
    assert result["minimum"][0] <= 960 and result["minimum"][1] <= 540


def close_when(condition) -> list[MainWindow]:
    """Close the VoxDesk window run_app opened once ``condition(window)`` holds, which ends
    run_app's event loop; returns (a list holding) the window."""
    seen: list[MainWindow] = []

    def check() -> None:
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)
                   and w.isVisible()]
        if windows and condition(windows[0]):
            seen.append(windows[0])
            if windows[0].message_box is not None:
                windows[0].message_box.close()
            windows[0].close()
        else:
            QTimer.singleShot(50, check)

    QTimer.singleShot(50, check)
    return seen


@pytest.fixture
def own_instance(data_dir, monkeypatch, tmp_path):
    """run_app as a private instance: its own socket name, no global shortcuts grabbed on the
    shared display, and closing the window quits (even if some tray host is running)."""
    monkeypatch.setenv("VOXDESK_INSTANCE", f"voxdesk-gui-test-{os.getpid()}-{tmp_path.name}")
    Settings.path().write_text(json.dumps({"desktop": {
        "read_clipboard_hotkey": "", "read_selection_hotkey": "", "close_to_tray": False,
    }}), encoding="utf-8")


def test_bare_voxdesk_opens_the_window_and_reports_a_missing_model(qtbot, own_instance,
                                                                   tmp_path):
    from voxdesk.cli import main

    seen = close_when(lambda w: w.load_model_button.isVisible()
                      and not w.model_progress.isVisible())
    missing = str(tmp_path / "missing-model")
    assert main(["--model", missing, "--device", "cpu"]) == 0
    window = seen[0]
    assert window.controller.model_spec == missing
    assert window.model_status.text().startswith(f"No model: No model directory at {missing}")
    assert Settings.path().is_file()  # settings were saved on the way out


def test_voxdesk_gui_loads_the_given_model(qtbot, own_instance, tiny_model_dir):
    from voxdesk.cli import main

    seen = close_when(lambda w: w.controller.engine is not None)
    assert main(["gui", "--model", str(tiny_model_dir), "--device", "cpu"]) == 0
    info = seen[0].controller.engine.info
    assert (info.device_name, Path(info.model_id)) == ("CPU", tiny_model_dir)


def test_python_dash_m_voxdesk_knows_the_gui_command():
    done = subprocess.run([sys.executable, "-m", "voxdesk", "gui", "--help"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "--model" in done.stdout and "--device" in done.stdout

