"""The voice picker and its details: the model's default voice, a saved voice profile, or a
reference clip (with its transcript).

A view on the controller's voice: a choice made here goes to the controller, and a choice made
elsewhere (the tray) shows here. :attr:`VoicePanel.picker` is the compact combo the transport bar
holds; the panel itself (transcript, clip, reference) lives in the Advanced section. If the voice
store cannot be opened (an unreadable data folder) the panel still offers the default voice and
reference clips.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QFont
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from voxdesk.engine import VoiceReference
from voxdesk.errors import ReferenceAudioError
from voxdesk.gui.controller import SpeechController
from voxdesk.gui.forms import add_labelled_row
from voxdesk.gui.text_editor import AUDIO_SUFFIXES, local_files
from voxdesk.settings import VoiceSettings
from voxdesk.voices.profile import VoiceProfile
from voxdesk.voices.store import VoiceStore

log = logging.getLogger(__name__)

DEFAULT_LABEL = "Model default voice"
CLIP_CHOICE_LABEL = "Reference clip…"
AUDIO_FILTER = "Audio (*.wav *.flac *.ogg *.mp3);;All files (*)"


def open_voice_store() -> VoiceStore | None:
    """The user's voice profile store, or None when it cannot be opened."""
    try:
        return VoiceStore()
    except Exception:  # noqa: BLE001 - a broken store must not keep the window from opening
        log.exception("voice profiles unavailable")
        return None


class VoicePanel(QGroupBox):
    changed = Signal()
    previewRequested = Signal(str)  # path of a clip to play

    def __init__(self, controller: SpeechController, parent: QWidget | None = None) -> None:
        super().__init__("Voice", parent)
        self.controller = controller
        voice = controller.voice
        self._clip = voice.clip
        self._clip_transcript = voice.prompt_text
        self._previous = 0
        self.setAcceptDrops(True)

        self.combo = QComboBox()
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setMinimumContentsLength(12)
        self.picker = QWidget()
        picker = QFormLayout(self.picker)
        picker.setContentsMargins(0, 0, 0, 0)
        add_labelled_row(picker, "&Voice:", self.combo, "Voice",
                         "The voice to speak in: the model's own, a saved voice profile, or a "
                         "short recording (reference clip) to clone.")

        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)

        self.prompt = QLineEdit()
        self.prompt.setPlaceholderText("Transcript (optional)")
        add_labelled_row(form, "Prompt te&xt:", self.prompt, "Prompt text",
                         "The transcript of the reference clip. With it, the model continues "
                         "the clip (closest match); without it, VoxCPM2 clones from the sound "
                         "of the clip alone.")

        self.choose_button = QPushButton("Choose c&lip…")
        self.choose_button.setToolTip("Pick a recording of the voice to clone (3-20 s of clear "
                                      "speech; WAV, FLAC, OGG or MP3). You can also drop one "
                                      "here.")
        self.choose_button.setAccessibleName("Choose clip")
        self.choose_button.clicked.connect(self.choose_clip)
        self.preview_button = QPushButton("Pla&y reference")
        self.preview_button.setToolTip("Listen to the reference clip of this voice.")
        self.preview_button.setAccessibleName("Play reference")
        self.preview_button.clicked.connect(self._preview)
        buttons = QHBoxLayout()
        buttons.addWidget(self.choose_button)
        buttons.addWidget(self.preview_button)
        buttons.addStretch(1)
        form.addRow(buttons)

        self.indicator = QLabel()
        self.indicator.setWordWrap(True)
        self.indicator.setAccessibleName("Voice status")
        form.addRow(self.indicator)

        self.combo.activated.connect(self._on_activated)
        self.prompt.textEdited.connect(self._on_prompt_edited)
        self.refresh_profiles(select=(voice.kind, voice.profile or voice.clip))
        controller.voiceChanged.connect(self._follow)
        controller.profilesChanged.connect(lambda _names: self.refresh_profiles())

    # -- the choice ------------------------------------------------------------------------

    def refresh_profiles(self, select: tuple[str, str] | None = None) -> None:
        """Rebuild the list (profiles may have changed), keeping or setting the selection."""
        keep = select or self.choice()
        self.combo.blockSignals(True)
        self.combo.clear()
        self.combo.addItem(DEFAULT_LABEL, _key("default", ""))
        for name in self.controller.profile_names():
            self.combo.addItem(f"Profile: {name}", _key("profile", name))
        if self._clip:
            self.combo.addItem(f"Clip: {Path(self._clip).name}", _key("clip", self._clip))
            self.combo.setItemData(self.combo.count() - 1, self._clip,
                                   Qt.ItemDataRole.ToolTipRole)
        self.combo.addItem(CLIP_CHOICE_LABEL, _key("choose", ""))
        index = self.combo.findData(_key(*keep))
        self.combo.setCurrentIndex(max(index, 0))
        self._previous = self.combo.currentIndex()
        self.combo.blockSignals(False)
        self._update()

    def choice(self) -> tuple[str, str]:
        return _unkey(self.combo.currentData())

    def settings(self) -> VoiceSettings:
        kind, value = self.choice()
        return VoiceSettings(kind=kind if kind in VoiceSettings.KINDS else "default",
                             profile=value if kind == "profile" else "",
                             clip=self._clip, prompt_text=self._clip_transcript)

    def voice(self) -> VoiceReference | None:
        """The voice to speak in (None: the model's default). Raises VoxDeskError."""
        return self.controller.voice_reference()

    def _profile(self, name: str) -> VoiceProfile:
        return self.controller.profile(name)

    def _publish(self) -> None:
        self.controller.set_voice(self.settings())
        self.changed.emit()

    def _follow(self, voice: VoiceSettings) -> None:
        """The voice was chosen elsewhere (the tray): show it."""
        if voice != self.settings():
            self._clip, self._clip_transcript = voice.clip, voice.prompt_text
            self.refresh_profiles(select=(voice.kind, voice.profile or voice.clip))

    def set_clip(self, path: str | Path, transcript: str = "") -> None:
        """Use ``path`` as the reference clip (the file is read only when speaking)."""
        self._clip = str(path)
        self._clip_transcript = transcript
        self.refresh_profiles(select=("clip", self._clip))
        self._publish()

    def choose_clip(self) -> None:
        start = str(Path(self._clip).parent) if self._clip else ""
        path, _ = QFileDialog.getOpenFileName(self, "Choose a reference clip", start,
                                              AUDIO_FILTER)
        if path:
            self.set_clip(path)
        else:
            self.combo.setCurrentIndex(self._previous)

    def clip_path(self) -> str | None:
        """The audio file of the current voice, if it has one (for Play reference)."""
        kind, value = self.choice()
        if kind == "clip":
            return value
        if kind == "profile":
            try:
                return str(self._profile(value).audio_path)
            except ReferenceAudioError:
                return None
        return None

    # -- reactions -------------------------------------------------------------------------

    def _on_activated(self, index: int) -> None:
        kind, value = _unkey(self.combo.itemData(index))
        if kind == "choose":
            self.choose_clip()
            return
        self._previous = index
        self._update()
        if kind == "profile":
            self.controller.choose_profile(value)  # its settings come with it
            self.changed.emit()
        else:
            self._publish()

    def _on_prompt_edited(self, text: str) -> None:
        if self.choice()[0] == "clip":
            self._clip_transcript = text
            self._update_indicator()
            self._publish()

    def _preview(self) -> None:
        path = self.clip_path()
        if path:
            self.previewRequested.emit(path)

    def _update(self) -> None:
        kind, value = self.choice()
        self.prompt.blockSignals(True)
        if kind == "clip":
            self.prompt.setReadOnly(False)
            self.prompt.setEnabled(True)
            self.prompt.setText(self._clip_transcript)
        elif kind == "profile":
            self.prompt.setReadOnly(True)  # a profile's transcript is edited in its dialog
            self.prompt.setEnabled(True)
            try:
                self.prompt.setText(self._profile(value).transcript or "")
            except ReferenceAudioError:
                self.prompt.setText("")
        else:
            self.prompt.setText("")
            self.prompt.setEnabled(False)
        self.prompt.blockSignals(False)
        self.preview_button.setEnabled(kind in ("clip", "profile"))
        self._update_indicator()

    def _update_indicator(self) -> None:
        kind, value = self.choice()
        font = QFont(self.indicator.font())
        font.setBold(kind == "default")
        self.indicator.setFont(font)
        if kind == "default":
            self.indicator.setText("No voice set: the model's default voice is used.")
        elif kind == "profile":
            self.indicator.setText(f"Speaking in the voice of profile “{value}”.")
        else:
            mode = "continuing the clip" if self._clip_transcript.strip() else "from the clip alone"
            self.indicator.setText(f"Cloning {Path(value).name} ({mode}).")

    # -- drag and drop of audio files ------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if any(p.suffix.lower() in AUDIO_SUFFIXES for p in local_files(event.mimeData())):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        clips = [p for p in local_files(event.mimeData()) if p.suffix.lower() in AUDIO_SUFFIXES]
        if clips:
            self.set_clip(clips[0])
            event.acceptProposedAction()


def _key(kind: str, value: str) -> str:
    """Combo item data: "kind:value" (a plain string, so findData can compare it)."""
    return f"{kind}:{value}"


def _unkey(data: object) -> tuple[str, str]:
    if not isinstance(data, str) or ":" not in data:
        return "default", ""
    kind, value = data.split(":", 1)
    return kind, value
