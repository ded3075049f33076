"""The README's screenshots: the window reading a document with its outline, light and dark.

``packaging/screenshots.sh`` runs ``python -m voxdesk.testing.screenshots docs`` (under Xvfb
and a null sound sink when there is no display); tests/test_gui_app.py takes the same pictures
and checks nothing in them is clipped or overlapping. The tiny random-weight model speaks
(noise): the figures in the latency readout and the position are real.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SIZE = (1100, 750)
DOCUMENT = """# The lighthouse keeper

Every evening, Mara climbed the hundred and twelve steps of the lighthouse. The lamp was \
electric now, and it needed no one; she climbed anyway, because the view was hers.

# A letter from the mainland

On the first of March a letter came with the supply boat. It was from her brother, who \
wrote rarely and briefly. "They are closing the station," it said. "You will have a year."

She read it twice, folded it into her coat, and went up the steps as usual. The sea was \
calm. Far off, the lights of the harbour came on one after another, like a sentence being \
read aloud.

# The last winter

The storms came early that year. She kept a log of every ship she saw, and there were fewer \
each week.

# Spring
"""


def dark_palette() -> Any:
    """What a dark desktop theme hands the application."""
    from PySide6.QtGui import QColor, QPalette

    palette = QPalette()
    role = QPalette.ColorRole
    colours = {
        role.Window: "#2b2b2e", role.WindowText: "#e8e8e8", role.Base: "#1e1e20",
        role.AlternateBase: "#2b2b2e", role.Text: "#e8e8e8", role.Button: "#38383c",
        role.ButtonText: "#e8e8e8", role.Highlight: "#3d7bd9", role.HighlightedText: "#ffffff",
        role.ToolTipBase: "#38383c", role.ToolTipText: "#e8e8e8",
        role.PlaceholderText: "#8a8a8f", role.Light: "#4a4a4f", role.Midlight: "#404045",
        role.Mid: "#5a5a60", role.Dark: "#18181a", role.Shadow: "#000000", role.Link: "#7fb0ff",
    }
    for name, colour in colours.items():
        palette.setColor(name, QColor(colour))
    for name in (role.WindowText, role.Text, role.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, name, QColor("#77777c"))
    return palette


def _wait(condition: Any, timeout_s: float) -> bool:
    """Process events until ``condition()`` or the timeout. Through a QEventLoop, not
    QTest.qWait: PySide6's qWait keeps the GIL while it waits, which starved the engine's
    threads (a 6-step warm-up of the tiny model took over a minute instead of 2 s)."""
    from PySide6.QtCore import QEventLoop, QTimer

    deadline = time.monotonic() + timeout_s
    while not condition() and time.monotonic() < deadline:
        loop = QEventLoop()
        QTimer.singleShot(20, loop.quit)
        loop.exec()
    return bool(condition())


def stage(engine: Any, folder: Path, theme: str) -> Any:
    """A window on ``engine`` reading DOCUMENT's second chapter, paused, with the outline shown
    (the caller closes it). The document is written to ``folder/theme``."""
    from PySide6.QtWidgets import QApplication

    from voxdesk.gui.main_window import MainWindow
    from voxdesk.settings import Settings

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    app.setPalette(dark_palette() if theme == "dark" else app.style().standardPalette())
    window = MainWindow(Settings(), engine=engine)
    window.resize(*SIZE)
    window.show()
    _wait(window.isVisible, 5)
    controller = window.controller
    params = controller.params
    # A few short utterances, so the latency readout and its history show real figures.
    window.params_panel.set_max_steps(3)
    for text in ("One.", "Two words.", "Three more words."):
        controller.speak_text(text)
        _wait(lambda: controller.speaking, 20)
        _wait(lambda: not controller.speaking, 30)
    window.params_panel.set_params(params)
    window.params_panel.set_max_steps(8)
    (folder / theme).mkdir(parents=True, exist_ok=True)
    document = folder / theme / "The lighthouse keeper.md"
    document.write_text(DOCUMENT, encoding="utf-8")
    window.open_text_file(document)
    shown = window.editor.toPlainText()  # as the window lays it out (headings without "#")
    controller.read(shown, shown.index("On the first of March"))
    _wait(lambda: controller.position().sentence >= 1, 60)
    _wait(lambda: controller.played_seconds() > 1.5, 30)
    controller.pause()
    window.statusBar().clearMessage()
    _wait(lambda: False, 0.3)
    return window


def take(engine: Any, folder: Path, work: Path, theme: str) -> Path:
    window = stage(engine, work, theme)
    path = folder / f"window-{theme}.png"
    try:
        if not window.grab().save(str(path)):
            raise OSError(f"could not write {path}")
    finally:
        window.controller.stop()
        window.close()
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="where window-light.png and -dark.png go")
    args = parser.parse_args(argv)
    from voxdesk.engine import Engine
    from voxdesk.gui.app import application
    from voxdesk.testing import tiny_model

    application()
    args.folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="voxdesk-screenshots-") as work:
        import os

        for name in ("CONFIG", "DATA", "CACHE"):  # never the user's own settings or voices
            os.environ[f"VOXDESK_{name}_DIR"] = str(Path(work) / name.lower())
        model = tiny_model.build(Path(work) / "model", stop_never=True)
        engine = Engine.load(str(model), device="cpu")
        for theme in ("light", "dark"):
            # Data of its own per shot: the second is not offered the first one's position.
            os.environ["VOXDESK_DATA_DIR"] = str(Path(work) / f"data-{theme}")
            print(take(engine, args.folder, Path(work) / "documents", theme))
    return 0


if __name__ == "__main__":
    sys.exit(main())
