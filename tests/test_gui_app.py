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

from voxdesk.gui.controller import State
from voxdesk.gui.main_window import MainWindow
from voxdesk.settings import Settings
from voxdesk.testing import screenshots
from voxdesk.testing.screenshots import SIZE

pytestmark = pytest.mark.gui

DOCS = Path(__file__).resolve().parent.parent / "docs"


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


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_screenshot_has_nothing_clipped_or_overlapping(theme, qtbot, warm_engine, data_dir,
                                                      tmp_path):
    """The window as a person sees it, reading a document with its outline (the pictures
    packaging/screenshots.sh takes for the README); VOXDESK_UPDATE_SCREENSHOTS=1 refreshes
    docs/*.png from here too."""
    app = QApplication.instance()
    original = app.palette()
    try:
        window = screenshots.stage(warm_engine, tmp_path, theme)
        qtbot.addWidget(window)
        assert window.controller.state is State.PAUSED
        assert window.outline_panel.titles()[1] == "A letter from the mainland"
        # The highlight follows the playhead on a timer: give it a moment on a loaded machine.
        qtbot.waitUntil(lambda: window.editor.highlighted is not None, timeout=10000)
        assert window.transport.position.text().startswith("Paused · Sentence ")
        assert layout_problems(window) == []
        folder = DOCS if os.environ.get("VOXDESK_UPDATE_SCREENSHOTS") else tmp_path
        path = folder / f"window-{theme}.png"
        assert window.grab().save(str(path))
        assert path.stat().st_size > 10_000
        if theme == "dark":  # the window follows the palette: dark background, light text
            assert window.editor.palette().color(QPalette.ColorRole.Base).lightness() < 60
            image = window.grab().toImage()
            assert QColor(image.pixel(SIZE[0] // 3, SIZE[1] // 2)).lightness() < 60
            # The transport icons are drawn in the palette's text colour, visible on dark.
            button = window.play_button
            icon = button.icon().pixmap(32, 32).toImage()
            lightest = max(QColor(icon.pixel(x, y)).lightness() for x in range(32)
                           for y in range(32) if QColor.fromRgba(icon.pixel(x, y)).alpha() > 200)
            assert lightest > 150
        window.controller.stop()
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

