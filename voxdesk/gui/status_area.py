"""The window's status bar: the model (loading, loaded, failed - with Load model… then), export
progress with its Cancel, and the local API's address. It follows the controller."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel, QProgressBar, QSizePolicy, QStatusBar, QToolButton

from voxdesk.engine import Engine
from voxdesk.gui.controller import SpeechController


def model_name(engine: Engine) -> str:
    """A model folder is shown by its name (the full path is in the tooltip)."""
    model_id = engine.info.model_id
    return Path(model_id).name if Path(model_id).expanduser().is_dir() else model_id


def _action_button(action: QAction, name: str) -> QToolButton:
    button = QToolButton()
    button.setDefaultAction(action)
    button.setAccessibleName(name)
    button.setFocusPolicy(button.focusPolicy() | Qt.FocusPolicy.TabFocus)
    return button


class StatusArea(QObject):
    def __init__(self, bar: QStatusBar, controller: SpeechController,
                 load_model: QAction, cancel_export: QAction) -> None:
        super().__init__(bar)
        self.bar = bar
        self.controller = controller
        metrics = bar.fontMetrics()
        self.model_status = QLabel()
        self.model_status.setAccessibleName("Model status")
        self.model_status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.model_progress = QProgressBar()
        self.model_progress.setRange(0, 0)  # busy: loading has no measurable progress
        self.model_progress.setAccessibleName("Model loading")
        self.model_progress.setMaximumWidth(metrics.horizontalAdvance("M" * 8))
        # The buttons show the window's actions, so they share their shortcuts.
        self.load_model_button = _action_button(load_model, "Load model")
        self.export_progress = QProgressBar()
        self.export_progress.setAccessibleName("Export progress")
        self.export_progress.setFormat("Exporting %p%")
        self.export_progress.setMaximumWidth(metrics.horizontalAdvance("M" * 12))
        self._cancel_export = cancel_export
        cancel_export.setEnabled(False)
        self.export_cancel = _action_button(cancel_export, "Cancel export")
        bar.addWidget(self.model_progress)
        bar.addWidget(self.model_status, 1)
        bar.addWidget(self.load_model_button)
        bar.addPermanentWidget(self.export_progress)
        bar.addPermanentWidget(self.export_cancel)
        self.export_progress.hide()
        self.export_cancel.hide()
        controller.engineReady.connect(self._on_engine)
        controller.engineFailed.connect(
            lambda message, hint: self.show_model(f"No model: {message} {hint}".strip(),
                                                  busy=False, failed=True))
        controller.exportProgress.connect(self._on_export_progress)
        controller.exportFinished.connect(lambda path, seconds: bar.showMessage(
            f"Exported {seconds:.1f} s of speech to {path}.", 10000))
        controller.exportEnded.connect(self._on_export_ended)
        controller.bookProgress.connect(self._on_book_progress)
        self.show_model("No model loaded yet.", busy=False, failed=False)

    def show_model(self, text: str, busy: bool, failed: bool) -> None:
        self.model_status.setText(text)
        self.model_status.setToolTip(text)
        self.model_progress.setVisible(busy)
        self.load_model_button.setVisible(failed or (self.controller.engine is None and not busy))

    def _on_engine(self, engine: Engine) -> None:
        info = engine.info
        self.show_model(f"Model: {model_name(engine)} on {info.device_name} ({info.dtype})",
                        busy=False, failed=False)
        self.model_status.setToolTip(f"{info.model_id}\n{info.path}\n{info.architecture}, "
                                     f"{info.sample_rate} Hz")

    def export_started(self) -> None:
        self.export_progress.setRange(0, 0)
        self.export_progress.setValue(0)
        self.export_progress.show()
        self._cancel_export.setEnabled(True)
        self.export_cancel.show()

    def _on_export_progress(self, index: int, total: int) -> None:
        self.export_progress.setRange(0, max(total, 1))
        self.export_progress.setValue(index)

    def _on_export_ended(self, outcome: str) -> None:
        self.export_progress.hide()
        self._cancel_export.setEnabled(False)
        self.export_cancel.hide()
        self._reset_export_progress()
        if outcome == "cancelled":
            self.bar.showMessage("Export cancelled: no file was written.", 10000)

    def _on_book_progress(self, progress: Any) -> None:
        from voxdesk.gui.export_dialog import progress_text

        bar = self.export_progress
        bar.setRange(0, 1000)
        bar.setValue(int(progress.fraction * 1000))
        text = progress_text(progress)
        bar.setFormat(text)
        bar.setToolTip(text)
        bar.setAccessibleDescription(text)
        bar.setMaximumWidth(bar.fontMetrics().horizontalAdvance(text) + 40)

    def _reset_export_progress(self) -> None:
        bar = self.export_progress
        bar.setFormat("Exporting %p%")
        bar.setMaximumWidth(bar.fontMetrics().horizontalAdvance("M" * 12))
        bar.setAccessibleDescription("")
