"""The Voice Profiles dialog: list, search, preview, add (file or microphone), edit, rename,
duplicate, set default, export/import and delete (with undo) saved voices.

Self-contained: it is given the :class:`~voxdesk.voices.store.VoiceStore` and a ``preview``
callback (the main window plays the voice's recording), and emits
``profilesChanged`` after every change so the window's voice picker can refresh. Every action
has a method that takes its inputs as arguments (asking with a dialog only when they are not
given), which is what the tests drive.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from voxdesk.errors import VoxDeskError
from voxdesk.gui.errors import ErrorPresenter
from voxdesk.gui.voice_design import open_design_dialog
from voxdesk.gui.voices.add_dialog import AddVoiceDialog
from voxdesk.gui.voices.details import VoiceDetails
from voxdesk.gui.voices.record_dialog import RecordDialog
from voxdesk.voices.archive import SUFFIX
from voxdesk.voices.profile import VoiceProfile
from voxdesk.voices.store import RemovedProfile, VoiceStore

log = logging.getLogger(__name__)

VOICE_FILTER = f"VoxDesk voice (*{SUFFIX});;All files (*)"
NAME_ROLE = Qt.ItemDataRole.UserRole


class VoiceProfilesDialog(QDialog):
    profilesChanged = Signal()

    def __init__(self, store: VoiceStore, preview: Callable[[VoiceProfile], object],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self._preview = preview
        self._removed: list[RemovedProfile] = []
        self.errors = ErrorPresenter(self, "Voice profiles")
        self.setWindowTitle("Voice profiles")
        self.resize(760, 480)

        # -- the list ------------------------------------------------------------------------
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search voices")
        self.search.setAccessibleName("Search voices")
        self.search.setClearButtonEnabled(True)
        self.search.setToolTip("Filter by name, transcript or language (Ctrl+F)")
        self.search.textChanged.connect(self._apply_filter)
        # An action (not a bare QShortcut): the keyboard test finds the search field's key.
        self.find_action = QAction("Search voices", self)
        self.find_action.setShortcuts(QKeySequence.keyBindings(QKeySequence.StandardKey.Find))
        self.find_action.triggered.connect(self._focus_search)
        self.addAction(self.find_action)
        self.list = QListWidget()
        self.list.setAccessibleName("Voices")
        self.list.setToolTip("Double-click or press Enter to hear the voice; Delete removes, "
                             "F2 renames")
        self.list.currentItemChanged.connect(lambda *_: self._show_details())
        # Not itemActivated: a double-click emits it too (two previews), and on single-click
        # desktops (KDE) merely selecting a voice would speak.
        self.list.itemDoubleClicked.connect(lambda *_: self.preview_selected())
        # Only while the list has the focus: in a text field these keys edit the text.
        for key, slot in ((QKeySequence(Qt.Key.Key_Return), self.preview_selected),
                          (QKeySequence(Qt.Key.Key_Enter), self.preview_selected),
                          (QKeySequence.StandardKey.Delete, self.delete_selected),
                          (QKeySequence(Qt.Key.Key_F2), lambda: self.rename_selected())):
            QShortcut(key, self.list, slot, context=Qt.ShortcutContext.WidgetShortcut)
        list_label = QLabel("&Voices:")
        list_label.setBuddy(self.list)
        self.empty_label = QLabel("No voices yet: import a recording or record one.")
        self.empty_label.setWordWrap(True)
        left = QVBoxLayout()
        left.addWidget(self.search)
        left.addWidget(list_label)
        left.addWidget(self.list, 1)
        left.addWidget(self.empty_label)

        # -- details of the selected voice --------------------------------------------------
        self.voice_details = VoiceDetails()
        self.voice_details.saveRequested.connect(lambda: self.save_details())
        # The fields, by their names (what the tests and the callers use).
        details = self.voice_details
        self.name_label, self.mode, self.language = details.name_label, details.mode, \
            details.language
        self.transcript, self.info, self.save_button = details.transcript, details.info, \
            details.save_button

        self.preview_button = self._button("&Preview", "Hear this voice (Enter in the list)",
                                           self.preview_selected)
        self.rename_button = self._button("&Rename…", "Give this voice another name (F2)",
                                          lambda: self.rename_selected())
        self.duplicate_button = self._button("Duplicat&e", "Copy this voice (e.g. to try "
                                             "other settings)", lambda: self.duplicate_selected())
        self.default_button = self._button("Set &default", "Use this voice when none is chosen",
                                           self.set_default_selected)
        self.export_button = self._button("E&xport…", f"Save this voice as a {SUFFIX} file "
                                          "to use on another computer",
                                          lambda: self.export_selected())
        self.delete_button = self._button("De&lete", "Delete this voice (you can undo)",
                                          self.delete_selected)
        actions = QGridLayout()
        for i, button in enumerate((self.preview_button, self.rename_button,
                                    self.duplicate_button, self.default_button,
                                    self.export_button, self.delete_button)):
            actions.addWidget(button, i // 3, i % 3)
        self.details = QWidget()
        right = QVBoxLayout(self.details)
        right.setContentsMargins(0, 0, 0, 0)
        right.addWidget(self.voice_details)
        right.addLayout(actions)
        right.addStretch(1)

        # -- adding, undo, problems ---------------------------------------------------------
        self.import_audio_button = self._button("&Add from file…", "Clone a voice from a "
                                                "recording (WAV, FLAC, OGG, MP3)",
                                                lambda: self.add_from_audio())
        self.record_button = self._button("Re&cord…", "Record a voice with the microphone",
                                          self.record)
        self.import_button = self._button("&Import voice…", f"Add a voice from a {SUFFIX} file",
                                          lambda: self.import_voice_file())
        self.design_button = self._button("Desig&n…", "Create a voice from a description "
                                          "(VoxCPM2)", lambda: open_design_dialog(self))
        self.undo_label = QLabel()
        self.undo_button = self._button("&Undo", "Bring the deleted voice back (Ctrl+Z)",
                                        self.undo_delete)
        self.undo_bar = QFrame()
        self.undo_bar.setFrameShape(QFrame.Shape.StyledPanel)
        undo_layout = QHBoxLayout(self.undo_bar)
        undo_layout.addWidget(self.undo_label, 1)
        undo_layout.addWidget(self.undo_button)
        self.undo_bar.hide()
        QShortcut(QKeySequence.StandardKey.Undo, self, self.undo_delete)
        # A warning icon rather than coloured text: a fixed colour is unreadable on one of the
        # light or dark themes, the palette's text colour never is.
        self.problems_label = QLabel()
        self.problems_label.setWordWrap(True)
        self.problems_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problems_label.setAccessibleName("Problems")
        warning = QLabel()
        icon = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        size = self.style().pixelMetric(QStyle.PixelMetric.PM_SmallIconSize)
        warning.setPixmap(icon.pixmap(size, size))
        warning.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.problems_bar = QWidget()
        problems_layout = QHBoxLayout(self.problems_bar)
        problems_layout.setContentsMargins(0, 0, 0, 0)
        problems_layout.addWidget(warning)
        problems_layout.addWidget(self.problems_label, 1)
        self.problems_bar.hide()

        columns = QHBoxLayout()
        columns.addLayout(left, 2)
        columns.addWidget(self.details, 3)
        adding = QHBoxLayout()
        for button in (self.import_audio_button, self.record_button, self.design_button,
                       self.import_button):
            adding.addWidget(button)
        adding.addStretch(1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        adding.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addLayout(columns, 1)
        layout.addWidget(self.undo_bar)
        layout.addWidget(self.problems_bar)
        layout.addLayout(adding)
        self.refresh()

    def _focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def _button(self, text: str, tip: str, slot: Callable[[], object]) -> QPushButton:
        button = QPushButton(text)
        if tip:
            button.setToolTip(tip)
        button.clicked.connect(lambda *_: slot())
        return button

    # -- the list -----------------------------------------------------------------------------

    def refresh(self, select: str | None = None) -> None:
        """Reload from the store, keeping (or setting) the selection."""
        current = self.selected()
        keep = select or (current.name if current is not None else None)
        try:
            profiles = self.store.list()
            default = self.store.default()
        except VoxDeskError as exc:
            self._show_error(exc)
            profiles, default = [], None
        self._profiles = {p.name: p for p in profiles}
        self.list.blockSignals(True)
        self.list.clear()
        for profile in profiles:
            is_default = default is not None and default.folder == profile.folder
            item = QListWidgetItem(f"{profile.name}  ★" if is_default else profile.name)
            item.setData(NAME_ROLE, profile.name)
            item.setToolTip(f"{profile.name}: {profile.duration:.1f} s, {profile.mode}"
                            + (" (default voice)" if is_default else ""))
            self.list.addItem(item)
        self.list.blockSignals(False)
        self._apply_filter()
        row = next((i for i in range(self.list.count())
                    if self.list.item(i).data(NAME_ROLE) == keep), None)
        if row is None:
            row = next((i for i in range(self.list.count()) if not self.list.item(i).isHidden()),
                       -1)
        self.list.setCurrentRow(row)
        self.empty_label.setVisible(not profiles)
        problems = self.store.problems
        self.problems_bar.setVisible(bool(problems))
        self.problems_label.setText("\n".join(problems))
        self._show_details()

    def names(self, visible_only: bool = True) -> list[str]:
        return [self.list.item(i).data(NAME_ROLE) for i in range(self.list.count())
                if not (visible_only and self.list.item(i).isHidden())]

    def select(self, name: str) -> None:
        for i in range(self.list.count()):
            if self.list.item(i).data(NAME_ROLE) == name:
                self.list.setCurrentRow(i)
                return

    def selected(self) -> VoiceProfile | None:
        item = self.list.currentItem()
        if item is None or item.isHidden():
            return None
        return getattr(self, "_profiles", {}).get(item.data(NAME_ROLE))

    def _apply_filter(self) -> None:
        words = self.search.text().casefold().split()
        for i in range(self.list.count()):
            item = self.list.item(i)
            profile = self._profiles.get(item.data(NAME_ROLE))
            haystack = " ".join(filter(None, (profile.name, profile.transcript,
                                              profile.language))).casefold() if profile else ""
            item.setHidden(not all(word in haystack for word in words))
        current = self.list.currentItem()
        if current is None or current.isHidden():
            visible = [i for i in range(self.list.count()) if not self.list.item(i).isHidden()]
            self.list.setCurrentRow(visible[0] if visible else -1)
        self._show_details()

    def _show_details(self) -> None:
        profile = self.selected()
        self.details.setEnabled(profile is not None)
        self.voice_details.show_profile(profile)

    # -- actions on the selected voice --------------------------------------------------------

    def _act(self, action: Callable[[], Any], select: Callable[[Any], str | None]
             = lambda _: None) -> Any:
        """Run a store action; on success refresh and tell the window, on error say why."""
        try:
            result = action()
        except VoxDeskError as exc:
            self._show_error(exc)
            return None
        self.refresh(select=select(result))
        self.profilesChanged.emit()
        return result

    def save_details(self) -> VoiceProfile | None:
        profile = self.selected()
        if profile is None:
            return None
        changes = self.voice_details.changes(profile)
        return self._act(lambda: self.store.update(  # type: ignore[return-value]
            profile.name, **changes), lambda p: p.name)

    def preview_selected(self) -> None:
        profile = self.selected()
        if profile is None:
            return
        try:
            self._preview(profile)
        except VoxDeskError as exc:
            self._show_error(exc)

    def rename_selected(self, new: str | None = None) -> VoiceProfile | None:
        profile = self.selected()
        if profile is None:
            return None
        if new is None:
            new, ok = QInputDialog.getText(self, "Rename voice", "New name:", text=profile.name)
            if not ok:
                return None
        return self._act(lambda: self.store.rename(profile.name, new),  # type: ignore[return-value]
                         lambda p: p.name)

    def duplicate_selected(self, new: str | None = None) -> VoiceProfile | None:
        profile = self.selected()
        if profile is None:
            return None
        return self._act(lambda: self.store.duplicate(profile.name, new),  # type: ignore[return-value]
                         lambda p: p.name)

    def set_default_selected(self) -> None:
        profile = self.selected()
        if profile is not None:
            self._act(lambda: self.store.set_default(profile.name), lambda _: profile.name)

    def export_selected(self, dest: Path | None = None) -> Path | None:
        profile = self.selected()
        if profile is None:
            return None
        if dest is None:
            path, _ = QFileDialog.getSaveFileName(self, "Export voice",
                                                  f"{profile.name}{SUFFIX}", VOICE_FILTER)
            if not path:
                return None
            dest = Path(path)
        try:
            return self.store.export(profile.name, dest)
        except VoxDeskError as exc:
            self._show_error(exc)
            return None

    def delete_selected(self) -> None:
        profile = self.selected()
        if profile is None:
            return
        removed = self._act(lambda: self.store.remove(profile.name))
        if isinstance(removed, RemovedProfile):
            self._removed.append(removed)
            self.undo_label.setText(f"Deleted “{removed.name}”.")
            self.undo_bar.show()

    def undo_delete(self) -> VoiceProfile | None:
        if not self._removed:
            return None
        removed = self._removed.pop()
        profile = self._act(lambda: self.store.restore(removed), lambda p: p.name)
        if self._removed:
            self.undo_label.setText(f"Deleted “{self._removed[-1].name}”.")
        else:
            self.undo_bar.hide()
        return profile  # type: ignore[return-value]

    # -- adding voices ------------------------------------------------------------------------

    def add_from_audio(self, path: Path | None = None, transcript: str | None = None,
                       name: str | None = None) -> VoiceProfile | None:
        """Add a voice from an audio file; asks for what is not given (name, file...)."""
        if name is None:
            dialog = AddVoiceDialog(self.store, path, transcript, self)
            if dialog.exec() != QDialog.DialogCode.Accepted or dialog.profile is None:
                return None
            self.refresh(select=dialog.profile.name)
            self.profilesChanged.emit()
            return dialog.profile
        assert path is not None
        return self._act(lambda: self.store.add(name, path, transcript),  # type: ignore[return-value]
                         lambda p: p.name)

    def record(self) -> VoiceProfile | None:
        dialog = RecordDialog(self)
        try:
            if dialog.exec() != QDialog.DialogCode.Accepted or dialog.audio_path is None:
                return None
            return self.add_from_audio(dialog.audio_path, dialog.transcript)
        finally:
            dialog.discard()

    def import_voice_file(self, path: Path | None = None) -> VoiceProfile | None:
        if path is None:
            chosen, _ = QFileDialog.getOpenFileName(self, "Import voice", "", VOICE_FILTER)
            if not chosen:
                return None
            path = Path(chosen)
        return self._act(lambda: self.store.import_(path),  # type: ignore[return-value]
                         lambda p: p.name)

    @property
    def message_box(self) -> QMessageBox | None:
        return self.errors.box

    def _show_error(self, exc: VoxDeskError) -> None:
        self.errors.show_exception(exc)
