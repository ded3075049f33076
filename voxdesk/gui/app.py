"""`voxdesk` / `voxdesk gui`: the Qt application around the main window."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from voxdesk import models
from voxdesk.gui.desktop import Desktop
from voxdesk.gui.main_window import MainWindow
from voxdesk.gui.single_instance import send_command
from voxdesk.settings import Settings

log = logging.getLogger(__name__)


def application() -> QApplication:
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication([sys.argv[0] if sys.argv else "voxdesk"])
    app.setApplicationName("VoxDesk")
    app.setApplicationDisplayName("VoxDesk")
    app.setDesktopFileName("voxdesk")
    return app


def model_to_load(args: argparse.Namespace, settings: Settings) -> str | None:
    """The model the window loads at start; None when there is none on this computer (the
    first-run dialog then offers a download).

    --model wins (and is loaded, or its error shown, as asked). Then the choice made with
    `voxdesk models use`, the first-run dialog or File > Load model; then a folder an older
    VoxDesk kept in its settings; then the first downloaded catalogue model.
    """
    given = getattr(args, "model", None)
    if given:
        return given
    spec = models.chosen_model() or settings.model or models.selected_model()
    return spec if models.local_path(spec) is not None else None


def quit_on_signals(app: QApplication) -> None:
    """Ctrl+C in the terminal, `kill` and a closed terminal quit the window as its Quit does
    (settings saved, model stopped). Qt's event loop runs no Python code by itself, so a timer
    lets Python's signal handlers run."""
    def quit_app(_signum: int, _frame: object) -> None:
        app.quit()

    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), quit_app)
    timer = QTimer(app)
    timer.timeout.connect(lambda: None)
    timer.start(200)


def run_app(args: argparse.Namespace) -> int:
    if send_command({"command": "show"}) is not None:
        print("VoxDesk is already running: its window was brought forward.", file=sys.stderr)
        return 0
    app = application()
    settings = Settings.load()
    window = MainWindow(settings)
    desktop = Desktop(app, window, settings)
    if not desktop.start(hidden=getattr(args, "tray", False)):
        return 0  # another instance started at the same moment and won
    app.setQuitOnLastWindowClosed(desktop.tray is None or not window.keep_in_tray)
    device = getattr(args, "device", None) or "auto"
    model = model_to_load(args, settings)
    if model is None:
        window.show_first_run(device)  # nothing to load: download a model or pick a folder
    else:
        # Loading starts once the window is on screen; it runs on the loader thread.
        window.load_model(model, device)
    document = getattr(args, "document", None)
    if document:
        window.open_path(document, read=getattr(args, "read", False))
    quit_on_signals(app)
    code = app.exec()
    desktop.close()
    if not window.shutdown():
        # The model is still loading (maybe downloading) and cannot be interrupted. Settings are
        # saved; leave without waiting for it rather than hang after the window closed.
        log.info("exiting while the model loader is busy")
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code
