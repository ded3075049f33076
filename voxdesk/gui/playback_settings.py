"""The settings dialog's "When speech cannot keep up" section (the real-time guard)."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QFormLayout, QGroupBox, QSpinBox, QWidget

from voxdesk.gui.forms import add_labelled_row
from voxdesk.settings import PlaybackSettings

#: PlaybackSettings.when_slow -> what a person reads.
CHOICES = {
    "pause": "Pause between sentences (best quality)",
    "keep-up": "Lower the quality to keep up",
    "stream": "Play at once, even if it stutters",
}


class PlaybackSection(QGroupBox):
    """Edits :class:`PlaybackSettings`; :meth:`settings` is the result."""

    def __init__(self, playback: PlaybackSettings, parent: QWidget | None = None) -> None:
        super().__init__("When the model is slower than speech", parent)
        form = QFormLayout(self)
        self.when_slow = QComboBox()
        for mode, label in CHOICES.items():
            self.when_slow.addItem(label, mode)
        self.when_slow.setCurrentIndex(max(0, self.when_slow.findData(playback.when_slow)))
        add_labelled_row(
            form, "&When it is slow:", self.when_slow, "When the model is slow",
            "On a CPU or a slow GPU the model makes audio more slowly than it is spoken. "
            "Pausing between sentences holds each one back until it can play without gaps; "
            "lowering the quality uses fewer diffusion steps instead; playing at once starts "
            "soonest but breaks words apart.")

        self.min_steps = QSpinBox()
        self.min_steps.setRange(1, 100)
        self.min_steps.setValue(playback.min_steps)
        add_labelled_row(form, "Fewest &diffusion steps:", self.min_steps,
                         "Fewest diffusion steps",
                         "The lowest quality (diffusion steps) used to keep up.")
        self.when_slow.currentIndexChanged.connect(self._update)
        self._update()

    def _update(self) -> None:
        self.min_steps.setEnabled(self.when_slow.currentData() == "keep-up")

    def settings(self) -> PlaybackSettings:
        return PlaybackSettings(when_slow=str(self.when_slow.currentData()),
                                min_steps=self.min_steps.value())
