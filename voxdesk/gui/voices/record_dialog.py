"""Recording a voice with the microphone: a sentence to read, a level meter, Record/Stop."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from voxdesk.errors import VoxDeskError
from voxdesk.voices.sentences import suggested_sentence

if TYPE_CHECKING:
    from voxdesk.audio.recorder import Recorder

log = logging.getLogger(__name__)


class RecordDialog(QDialog):
    """Record a voice with the microphone: a sentence to read, a level meter, Record/Stop.
    Accepted, :attr:`audio_path` is the recording (a temporary WAV) and :attr:`transcript` the
    sentence read."""

    def __init__(self, parent: QWidget | None = None, language: str | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Record a voice")
        self.audio_path: Path | None = None
        self.transcript = suggested_sentence(language)
        self.language = language
        self._recorder: Recorder | None = None
        self._temp = tempfile.TemporaryDirectory(prefix="voxdesk-recording-")

        intro = QLabel("Press Record and read this sentence aloud, clearly and at a normal "
                       "pace, in a quiet room:")
        intro.setWordWrap(True)
        self.sentence = QLabel(self.transcript)
        self.sentence.setWordWrap(True)
        self.sentence.setAccessibleName("Sentence to read")
        font = QFont(self.sentence.font())
        font.setPointSizeF(font.pointSizeF() * 1.25)
        self.sentence.setFont(font)
        self.sentence.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        another = QPushButton("A&nother sentence")
        another.clicked.connect(self._another_sentence)

        self.device = QComboBox()
        self.device.setAccessibleName("Microphone")
        self.device.addItem("System default", None)
        try:
            from voxdesk.audio.recorder import list_input_devices

            for index, name in list_input_devices():
                self.device.addItem(name, index)
        except VoxDeskError as exc:
            log.info("no input devices: %s", exc)
        self.meter = QProgressBar()
        self.meter.setRange(0, 600)  # -60.0 .. 0.0 dBFS, in tenths
        self.meter.setTextVisible(False)
        self.meter.setAccessibleName("Input level")
        self.status = QLabel("Not recording.")
        self.status.setWordWrap(True)
        self.record_button = QPushButton("&Record")
        self.record_button.clicked.connect(self.toggle)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("&Use recording")
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(False)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self._timer = QTimer(self)
        self._timer.setInterval(50)
        self._timer.timeout.connect(self._tick)

        form = QFormLayout()
        form.addRow("&Microphone:", self.device)
        form.addRow("Level:", self.meter)
        controls = QHBoxLayout()
        controls.addWidget(self.record_button)
        controls.addWidget(another)
        controls.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.sentence)
        layout.addLayout(form)
        layout.addLayout(controls)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)

    @property
    def recording(self) -> bool:
        return self._recorder is not None and self._recorder.recording

    def _another_sentence(self) -> None:
        current = self.transcript
        for _ in range(10):
            self.transcript = suggested_sentence(self.language)
            if self.transcript != current:
                break
        self.sentence.setText(self.transcript)

    def toggle(self) -> None:
        if self.recording:
            self.stop_recording()
        else:
            self.start_recording()

    def start_recording(self) -> None:
        from voxdesk.audio.recorder import Recorder

        try:
            recorder = Recorder(device=self.device.currentData())
            self._recorder = recorder
            recorder.start()
        except VoxDeskError as exc:
            self._recorder = None
            self.status.setText(f"{exc.message} {exc.hint}".strip())
            return
        self.audio_path = None
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(False)
        self.record_button.setText("&Stop")
        self.status.setText("Recording… read the sentence, then press Stop.")
        self._timer.start()

    def stop_recording(self) -> Path | None:
        recorder = self._recorder
        if recorder is None:
            return None
        self._timer.stop()
        samples = recorder.stop()
        self.meter.setValue(0)
        self.record_button.setText("&Record again")
        seconds = samples.size / recorder.sample_rate
        if seconds < 1.0:
            self.status.setText("The recording is too short. Press Record and read the "
                                "whole sentence.")
            return None
        path = Path(self._temp.name) / "recording.wav"
        recorder.save(path)
        self.audio_path = path
        warning = " It may be too loud (clipped): record again a little farther from the " \
            "microphone." if recorder.peak >= 0.99 else ""
        self.status.setText(f"Recorded {seconds:.1f} s.{warning}")
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(True)
        return path

    def _tick(self) -> None:
        recorder = self._recorder
        if recorder is None:
            return
        self.meter.setValue(int((recorder.level_db + 60) * 10))
        self.status.setText(f"Recording… {recorder.seconds:.1f} s"
                            + ("  (too loud!)" if recorder.level >= 0.99 else ""))
        if not recorder.recording:  # it stopped by itself at its maximum length
            self.stop_recording()

    def done(self, result: int) -> None:
        if self.recording:
            self.stop_recording()
        super().done(result)

    def discard(self) -> None:
        """Delete the temporary recording (once it has been added to the store)."""
        if self._recorder is not None:
            self._recorder.close()
        self._temp.cleanup()
