"""Designing a voice from a description (VoxCPM2), and making a new default voice.

The dialog generates candidates on the window's task runner (the model may take seconds
each), lists them as they come, plays one on request and keeps the chosen one as a profile
(voxdesk.voices.design does the work; this module only drives it).
"""

from __future__ import annotations

import threading
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from voxdesk.errors import VoxDeskError
from voxdesk.gui.tasks import TaskRunner
from voxdesk.voices import design
from voxdesk.voices.store import VoiceStore


def engine_of(widget: QWidget | None) -> Any:
    """The engine of the window ``widget`` belongs to (None while no model is loaded)."""
    while widget is not None:
        owner = getattr(widget, "controller", widget)  # the window's state is its controller's
        engine = getattr(owner, "engine", None)
        if engine is not None:
            return engine
        widget = widget.parentWidget()
    return None


def tasks_of(widget: QWidget | None) -> TaskRunner | None:
    """The task runner of the window ``widget`` belongs to (its controller's), if any."""
    while widget is not None:
        tasks = getattr(getattr(widget, "controller", None), "tasks", None)
        if isinstance(tasks, TaskRunner):
            return tasks
        widget = widget.parentWidget()
    return None


def make_new_default_voice(controller: Any, status: Any) -> None:
    """Voices > New default voice: another house voice, made in the background (on the
    controller's task runner, so the window stays usable), reported in ``status``."""
    engine = controller.engine
    if engine is None:
        status.showMessage("Load a model first.", 5000)
        return
    status.showMessage("Making a new default voice…")

    def done(seed: int) -> None:
        status.showMessage(f"New default voice (seed {seed}).", 8000)

    def failed(exc: BaseException) -> None:
        message = exc.message if isinstance(exc, VoxDeskError) else str(exc)
        status.showMessage(message, 8000)

    controller.tasks.run(engine.new_default_voice, done, failed)


class VoiceDesignDialog(QDialog):
    # Emitted from the task runner's "voice-design" lane; Qt queues them to the dialog on the
    # GUI thread and drops them if the dialog was closed meanwhile.
    candidateReady = Signal(object)  # design.Candidate
    failed = Signal(str)
    finishedGenerating = Signal()

    def __init__(self, store: VoiceStore, engine: Any, parent: QWidget | None = None,
                 tasks: TaskRunner | None = None) -> None:
        """``tasks``: the window's task runner (found through ``parent`` when not given; the
        dialog makes its own without a window)."""
        super().__init__(parent)
        self.tasks = tasks or tasks_of(parent) or TaskRunner(self)
        self.setWindowTitle("Design a voice")
        self.store, self.engine = store, engine
        self.candidates: list[design.Candidate] = []
        self._cancel = threading.Event()
        self._player: Any = None

        form = QFormLayout()
        self.name = QLineEdit()
        self.name.setAccessibleName("Voice name")
        form.addRow("&Name:", self.name)
        self.description = QPlainTextEdit()
        self.description.setAccessibleName("Voice description")
        self.description.setPlaceholderText("A warm, calm older man, speaking slowly")
        self.description.setToolTip(f"The voice, in words (at most "
                                    f"{design.MAX_DESCRIPTION_CHARS} characters).")
        form.addRow("&Description:", self.description)
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setValue(design.random_seed() % (2**31 - 1))
        self.seed.setAccessibleName("Seed")
        form.addRow("S&eed:", self.seed)
        self.count = QSpinBox()
        self.count.setRange(1, design.MAX_CANDIDATES)
        self.count.setValue(3)
        self.count.setAccessibleName("Number of candidates")
        form.addRow("Num&ber of candidates:", self.count)

        self.generate_button = QPushButton("&Generate")
        self.generate_button.clicked.connect(self.generate)
        self.list = QListWidget()
        self.list.setAccessibleName("Candidates")
        self.preview_button = QPushButton("&Preview")
        self.preview_button.clicked.connect(self.preview)
        self.keep_button = QPushButton("&Keep")
        self.keep_button.clicked.connect(self.keep)
        self.status = QLabel()
        buttons = QHBoxLayout()
        for button in (self.generate_button, self.preview_button, self.keep_button):
            button.setAccessibleName(button.text().replace("&", ""))
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        list_label = QLabel("&Candidates:")
        list_label.setBuddy(self.list)
        layout.addWidget(list_label)
        layout.addWidget(self.list)
        layout.addWidget(self.status)
        self.candidateReady.connect(self._add_candidate)
        self.failed.connect(self._show_error)
        self.finishedGenerating.connect(lambda: self.generate_button.setEnabled(True))
        self._update()

    def generate(self) -> None:
        try:
            description = design.check_description(self.description.toPlainText())
            if self.engine is None:
                raise VoxDeskError("No model is loaded.", "Load VoxCPM2 first.")
            design.require_design(self.engine)
        except VoxDeskError as exc:
            self._show_error(exc.message)
            return
        self.candidates.clear()
        self.list.clear()
        self.generate_button.setEnabled(False)
        self.status.setText("Generating…")
        seed, count, engine = self.seed.value(), self.count.value(), self.engine

        def work() -> None:
            try:
                for candidate in design.generate_candidates(
                        engine, description, seed, count, cancelled=self._cancel.is_set):
                    self.candidateReady.emit(candidate)
            except VoxDeskError as exc:
                self.failed.emit(exc.message)
            except Exception as exc:  # noqa: BLE001 - a bug in the model: said, not lost
                self.failed.emit(f"The voice could not be designed: {exc}")
            finally:
                self.finishedGenerating.emit()

        self.tasks.run(work, lane="voice-design")

    def preview(self) -> None:
        candidate = self._selected()
        if candidate is None:
            return
        from voxdesk.audio.player import Player

        if self._player is None:
            self._player = Player()
        self._player.stop()
        self._player.begin(candidate.sample_rate)
        self._player.write(candidate.samples)
        self._player.end_of_input()

    def keep(self) -> None:
        candidate = self._selected()
        if candidate is None:
            return
        try:
            profile = design.keep(self.store, self.name.text(), candidate,
                                  self.description.toPlainText())
        except VoxDeskError as exc:
            self._show_error(exc.message)
            return
        self.kept = profile
        self.accept()

    def done(self, result: int) -> None:
        self._cancel.set()
        if self._player is not None:
            self._player.close()
        super().done(result)

    def _selected(self) -> design.Candidate | None:
        row = self.list.currentRow()
        return self.candidates[row] if 0 <= row < len(self.candidates) else None

    def _add_candidate(self, candidate: design.Candidate) -> None:
        self.candidates.append(candidate)
        self.list.addItem(f"Seed {candidate.seed} ({candidate.duration:.1f} s)")
        if self.list.currentRow() < 0:
            self.list.setCurrentRow(0)
        self.status.setText(f"{len(self.candidates)} of {self.count.value()} ready.")
        self._update()

    def _show_error(self, message: str) -> None:
        self.status.setText(message)
        QMessageBox.warning(self, "Design a voice", message)

    def _update(self) -> None:
        has = bool(self.candidates)
        self.preview_button.setEnabled(has)
        self.keep_button.setEnabled(has)


def open_design_dialog(parent: Any) -> Any:
    """The voice manager's "Design…" button."""
    dialog = VoiceDesignDialog(parent.store, engine_of(parent), parent)
    if dialog.exec() == QDialog.DialogCode.Accepted:
        parent.refresh(select=dialog.kept.name)
        parent.profilesChanged.emit()
    return dialog
