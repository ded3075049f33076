"""The settings dialog: where the audio goes, what to do when the model is slow, global
shortcuts and tray, the local API, and the pronunciation lexicon (its own dialog, saved as it
is edited)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from voxdesk.audio.devices import OutputDevice, list_output_devices
from voxdesk.errors import VoxDeskError
from voxdesk.gui.api_server import ServerSection
from voxdesk.gui.desktop_settings import DesktopSection
from voxdesk.gui.forms import add_labelled_row
from voxdesk.gui.lexicon_editor import Hear, LexiconEditor
from voxdesk.gui.playback_settings import PlaybackSection
from voxdesk.settings import DesktopSettings, PlaybackSettings, ServerSettings

SYSTEM_DEFAULT = "System default"


class SettingsDialog(QDialog):
    """Edits the output device; :meth:`output_device` is the choice ("" = system default)."""

    def __init__(self, output_device: str, parent: QWidget | None = None, *,
                 desktop: DesktopSettings | None = None,
                 server: ServerSettings | None = None,
                 playback: PlaybackSettings | None = None,
                 hear: Hear | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("VoxDesk settings")
        layout = QVBoxLayout(self)
        form = QFormLayout()
        layout.addLayout(form)

        self.device = QComboBox()
        add_labelled_row(form, "&Output device:", self.device, "Output device",
                         "Where speech is played. System default follows the desktop's sound "
                         "settings.")
        self.note = QLabel()
        self.note.setWordWrap(True)
        form.addRow(self.note)

        self.device.addItem(SYSTEM_DEFAULT, "")
        try:
            devices: list[OutputDevice] = list_output_devices()
        except VoxDeskError as exc:
            devices = []
            self.note.setText(f"{exc.message} {exc.hint}".strip())
        for device in devices:
            self.device.addItem(f"{device.name} ({device.host_api})", device.name)
        index = self.device.findData(output_device)
        if index < 0 and output_device:  # saved device not present now: keep it selectable
            self.device.addItem(f"{output_device} (not connected)", output_device)
            index = self.device.count() - 1
        self.device.setCurrentIndex(max(index, 0))

        self.playback_section = PlaybackSection(playback) if playback is not None else None
        if self.playback_section is not None:
            layout.addWidget(self.playback_section)
        # Global shortcuts, tray, autostart (the window's Desktop applies them when accepted).
        self.desktop_section = DesktopSection(desktop) if desktop is not None else None
        if self.desktop_section is not None:
            layout.addWidget(self.desktop_section)
        # The HTTP API served with the window's model (the window starts and stops it).
        self.server_section = ServerSection(server) if server is not None else None
        if self.server_section is not None:
            layout.addWidget(self.server_section)

        self._hear = hear
        self.lexicon_editor: LexiconEditor | None = None
        self.lexicon_button = QPushButton("Pro&nunciation lexicon…")
        self.lexicon_button.setAccessibleName("Pronunciation lexicon")
        self.lexicon_button.setToolTip("How words are said: replacements for whole words or "
                                       "regular expressions, for every voice, a language or one "
                                       "voice (saved as you edit them).")
        self.lexicon_button.setAutoDefault(False)
        self.lexicon_button.clicked.connect(self.open_lexicon)
        layout.addWidget(self.lexicon_button, 0, Qt.AlignmentFlag.AlignLeft)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def open_lexicon(self) -> LexiconEditor:
        """The lexicon editor, window-modal over this dialog (no nested event loop)."""
        if self.lexicon_editor is None:
            self.lexicon_editor = LexiconEditor(hear=self._hear, parent=self)
        self.lexicon_editor.reload()
        self.lexicon_editor.open()
        return self.lexicon_editor

    def output_device(self) -> str:
        return str(self.device.currentData() or "")

    def accept(self) -> None:
        # A shortcut that cannot work is refused here, while it can still be corrected.
        if self.desktop_section is not None and self.desktop_section.validate() is not None:
            return
        if self.server_section is not None and self.server_section.validate() is not None:
            return
        super().accept()

    def playback_settings(self) -> PlaybackSettings | None:
        """The edited real-time choice (None without that section)."""
        return self.playback_section.settings() if self.playback_section is not None else None

    def server_settings(self) -> ServerSettings | None:
        """The edited API server choices (None without that section)."""
        return self.server_section.settings() if self.server_section is not None else None

    def desktop_settings(self) -> DesktopSettings | None:
        """The edited shortcuts, tray and autostart choices (None without that section)."""
        return self.desktop_section.settings() if self.desktop_section is not None else None
