"""Adding a voice from an audio file: name, recording, transcript and cloning mode."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from voxdesk.errors import VoxDeskError
from voxdesk.gui.errors import ErrorPresenter
from voxdesk.voices.profile import VoiceProfile
from voxdesk.voices.store import VoiceStore

AUDIO_FILTER = "Audio (*.wav *.flac *.ogg *.mp3);;All files (*)"
MODE_LABELS = {
    "reference": "Clone from the sound alone (VoxCPM2)",
    "continuation": "Continue the recording (uses the transcript)",
}


def combo_modes(combo: QComboBox) -> None:
    for mode, label in MODE_LABELS.items():
        combo.addItem(label, mode)


class AddVoiceDialog(QDialog):
    """Name, audio file, transcript and mode of a new voice; OK saves it (errors keep the
    dialog open, so nothing typed is lost). The saved voice is :attr:`profile`."""

    def __init__(self, store: VoiceStore, audio: Path | None = None,
                 transcript: str | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.profile: VoiceProfile | None = None
        self.errors = ErrorPresenter(self, "Voice profiles")
        self.setWindowTitle("Add a voice")
        self.name = QLineEdit()
        self.name.setAccessibleName("Name")
        self.name.setPlaceholderText("e.g. Narrator")
        self.audio = QLineEdit(str(audio) if audio else "")
        self.audio.setAccessibleName("Audio file")
        self.audio.setReadOnly(audio is not None)  # a recording: nothing to choose
        browse = QPushButton("&Browse…")
        browse.setEnabled(audio is None)
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.audio, 1)
        row.addWidget(browse)
        self.transcript = QLineEdit(transcript or "")
        self.transcript.setAccessibleName("Transcript")
        self.transcript.setPlaceholderText("What is said in it (optional with VoxCPM2)")
        self.mode = QComboBox()
        self.mode.setAccessibleName("Cloning mode")
        self.mode.addItem("Automatic (continuation when there is a transcript)", None)
        combo_modes(self.mode)
        form = QFormLayout()
        form.addRow("&Name:", self.name)
        audio_label = QLabel("&Audio:")
        audio_label.setBuddy(self.audio)  # a layout cannot be a buddy: the field itself is
        form.addRow(audio_label, row)
        form.addRow("&Transcript:", self.transcript)
        form.addRow("&Mode:", self.mode)
        note = QLabel("The recording is converted to mono, trimmed and levelled. 5 to 20 "
                      "seconds of clear speech without music or noise work best.")
        note.setWordWrap(True)
        form.addRow(note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a recording", "", AUDIO_FILTER)
        if path:
            self.audio.setText(path)
            if not self.name.text().strip():
                self.name.setText(Path(path).stem)

    def accept(self) -> None:
        try:
            if not self.audio.text().strip():
                from voxdesk.errors import ReferenceAudioError

                raise ReferenceAudioError("Choose the recording of the voice.",
                                          "Use Browse… to pick an audio file.")
            self.profile = self.store.add(self.name.text(), Path(self.audio.text().strip()),
                                          self.transcript.text() or None,
                                          mode=self.mode.currentData())
        except VoxDeskError as exc:
            self.errors.show_exception(exc)  # a second refusal replaces the first box
            return
        super().accept()

    @property
    def message_box(self) -> QMessageBox | None:
        return self.errors.box
