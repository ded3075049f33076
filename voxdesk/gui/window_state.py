"""The window's layout between runs: geometry, dock/toolbar state, the outline splitter, whether
the outline and the Advanced section are shown (kept in settings.window as base64)."""

from __future__ import annotations

import base64
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QByteArray

MainWindow = Any  # the main window (not imported: it imports this module)

DEFAULT_SIZE = (1100, 750)


def _b64(data: QByteArray) -> str:
    return base64.b64encode(bytes(data.data())).decode("ascii")


def _unb64(text: str) -> QByteArray:
    try:
        return QByteArray(base64.b64decode(text.encode("ascii"), validate=True))
    except ValueError:
        return QByteArray()


def restore(window: MainWindow) -> None:
    saved = window.settings.window
    if not (saved.geometry and window.restoreGeometry(_unb64(saved.geometry))):
        window.resize(*DEFAULT_SIZE)
    if saved.state:
        window.restoreState(_unb64(saved.state))
    if saved.splitter:
        window.splitter.restoreState(_unb64(saved.splitter))
    window.actions_by_name["outline"].setChecked(saved.outline_visible)
    window.outline_panel.setVisible(saved.outline_visible)
    window.actions_by_name["advanced"].setChecked(saved.advanced_open)


def capture(window: MainWindow) -> None:
    """Put the window's layout into its settings (the caller saves them)."""
    window.settings.window = replace(
        window.settings.window, geometry=_b64(window.saveGeometry()),
        state=_b64(window.saveState()), splitter=_b64(window.splitter.saveState()),
        outline_visible=window.actions_by_name["outline"].isChecked(),
        advanced_open=window.advanced.expanded)
