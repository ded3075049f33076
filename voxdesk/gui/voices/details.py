"""The selected voice's details in the Voice Profiles dialog: its name, cloning mode, language and
transcript (editable, saved with Save changes) and what it is made of."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QLineEdit, QPlainTextEdit, QPushButton, QWidget

from voxdesk.gui.voices.add_dialog import combo_modes
from voxdesk.voices.profile import VoiceProfile


class VoiceDetails(QWidget):
    saveRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name_label = QLabel()
        font = QFont(self.name_label.font())
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.name_label.setFont(font)
        self.mode = QComboBox()
        combo_modes(self.mode)
        self.mode.setAccessibleName("Cloning mode")
        self.mode.setToolTip("Reference: VoxCPM2 clones the sound of the recording alone. "
                             "Continuation: the model continues the recording, whose "
                             "transcript it is given (closest match; older models need it).")
        self.language = QLineEdit()
        self.language.setAccessibleName("Language")
        self.language.setPlaceholderText("e.g. en (optional)")
        self.transcript = QPlainTextEdit()
        self.transcript.setAccessibleName("Transcript")
        self.transcript.setPlaceholderText("What is said in the recording (optional with "
                                           "VoxCPM2)")
        self.transcript.setMaximumHeight(90)
        self.info = QLabel()
        self.info.setWordWrap(True)
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.save_button = QPushButton("&Save changes")
        self.save_button.clicked.connect(lambda: self.saveRequested.emit())
        self._shown: VoiceProfile | None = None
        for signal in (self.mode.currentIndexChanged, self.language.textEdited,
                       self.transcript.textChanged):
            signal.connect(lambda *_: self.save_button.setEnabled(self._shown is not None))
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow(self.name_label)
        form.addRow("&Mode:", self.mode)
        form.addRow("Lan&guage:", self.language)
        form.addRow("&Transcript:", self.transcript)
        form.addRow(self.info)
        form.addRow(self.save_button)

    def show_profile(self, profile: VoiceProfile | None) -> None:
        """Fill the fields from ``profile`` (None: nothing selected); nothing is edited yet."""
        self._shown = profile
        for widget in (self.mode, self.language, self.transcript):
            widget.blockSignals(True)
        if profile is None:
            self.name_label.setText("No voice selected")
            self.language.clear()
            self.transcript.clear()
            self.info.clear()
        else:
            self.name_label.setText(profile.name)
            self.mode.setCurrentIndex(max(0, self.mode.findData(profile.mode)))
            self.language.setText(profile.language or "")
            self.transcript.setPlainText(profile.transcript or "")
            p = profile.params
            self.info.setText(
                f"{profile.duration:.1f} s of reference audio · created "
                f"{profile.created.astimezone():%Y-%m-%d %H:%M} · changed "
                f"{profile.modified.astimezone():%Y-%m-%d %H:%M}\n"
                f"Settings: guidance {p.cfg_value:g}, {p.inference_timesteps} steps"
                + (f", seed {p.seed}" if p.seed is not None else ""))
        for widget in (self.mode, self.language, self.transcript):
            widget.blockSignals(False)
        self.save_button.setEnabled(False)

    def changes(self, profile: VoiceProfile) -> dict[str, object]:
        """What the fields change in ``profile``, as :meth:`VoiceStore.update` takes it."""
        changes: dict[str, object] = {
            "transcript": self.transcript.toPlainText().strip() or None,
            "language": self.language.text().strip() or None}
        # The mode only when the person chose one: otherwise the store's rule applies, as in
        # `voxdesk voices set` (a transcript added means continuation, one removed reference).
        mode = self.mode.currentData()
        if mode != profile.mode:
            changes["mode"] = mode
        return changes
