"""The VoxDesk window, a reader: the document (with its outline), the transport bar, and the
Advanced section; model status and export progress in the status bar.

The window arranges widgets and routes what a person does to the
:class:`~voxdesk.gui.controller.SpeechController`, which holds the app's state and does the
work; it shows what the controller tells it (the sentence heard, the state, errors).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeyEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QMessageBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from voxdesk import models
from voxdesk.engine import Engine
from voxdesk.errors import VoxDeskError
from voxdesk.gui import help_menu, window_state
from voxdesk.gui.actions import build_actions
from voxdesk.gui.advanced import AdvancedSection
from voxdesk.gui.api_server import ApiServer
from voxdesk.gui.controller import SpeechController, State
from voxdesk.gui.errors import ErrorPresenter
from voxdesk.gui.first_run import FirstRunDialog
from voxdesk.gui.outline_panel import OutlinePanel
from voxdesk.gui.params_panel import ParamsPanel
from voxdesk.gui.reading import chapter_at
from voxdesk.gui.resume_bar import ResumeBar
from voxdesk.gui.settings_dialog import SettingsDialog
from voxdesk.gui.status_area import StatusArea, model_name
from voxdesk.gui.text_editor import TextEditor, from_qt, local_files, to_qt
from voxdesk.gui.transport import TransportBar
from voxdesk.gui.voice_design import make_new_default_voice
from voxdesk.gui.voices import VoiceProfilesDialog
from voxdesk.gui.voices.panel import VoicePanel, open_voice_store
from voxdesk.gui.window_documents import DocumentsMixin
from voxdesk.settings import Settings
from voxdesk.voices.store import VoiceStore

log = logging.getLogger(__name__)

SAVE_DELAY_MS = 1000  # settings are saved this long after the last change
OUTLINE_DELAY_MS = 300  # the outline follows typing this long after the last key
POSITION_MS = 500  # how often the position line is refreshed while speaking


class MainWindow(DocumentsMixin):
    # The Settings dialog changed settings.desktop (shortcuts, tray, autostart): the Desktop
    # applies them before they are saved, and may correct what it could not apply.
    desktopSettingsChanged = Signal()
    settingsDialogOpen = Signal(bool)  # True while Settings is open (global keys let go then)
    # For observers (tests), once the window has updated itself: the sentence now highlighted
    # (-1: none), the diagnostics report once it is on the clipboard.
    highlightChanged = Signal(int)
    diagnosticsCopied = Signal(str)
    documentShown = Signal(object)  # ShownDocument, once it is in the editor

    def __init__(self, settings: Settings | None = None, engine: Engine | None = None,
                 voice_store: VoiceStore | None = None) -> None:
        super().__init__()
        self.settings = settings if settings is not None else Settings.load()
        store = voice_store if voice_store is not None else open_voice_store()
        self.controller = SpeechController(self.settings, voice_store=store, parent=self)
        self.keep_in_tray = False  # set by the tray integration: closing then hides the window
        self.errors = ErrorPresenter(self)
        self.first_run: FirstRunDialog | None = None  # created when first needed
        #: Extra arguments of `python -m voxdesk.models.measured` for the first-run dialog's
        #: own measurement (tests: ``("--tiny",)``; none: the full-size random models).
        self.speed_measure_args: tuple[str, ...] = ()
        self._first_run_device = "auto"
        self.setWindowTitle("VoxDesk")
        self.setAcceptDrops(True)

        self.actions_by_name = build_actions(self, self._slots())
        self.actions_by_name["manage_voices"].setEnabled(store is not None)
        self._build_widgets()
        self._build_recent_menu()
        self._read_when_opened = False  # `voxdesk gui FILE --read`
        self._connect()
        window_state.restore(self)
        if engine is not None:
            self.controller.set_engine(engine)
        self._on_state(self.controller.state)

    # == construction ==========================================================================

    def _slots(self) -> dict[str, Any]:
        c = self.controller
        return {
            "open": self.open_dialog, "open_url": self.open_url_dialog, "export": self.export,
            "cancel_export": c.cancel_export,
            "load_model": self.choose_model,
            "download": self.show_first_run, "settings": self.open_settings, "quit": self.close,
            "play": self.play_pause, "stop": c.stop,
            "previous_sentence": c.previous_sentence, "next_sentence": c.next_sentence,
            "previous_paragraph": c.previous_paragraph, "next_paragraph": c.next_paragraph,
            "previous_chapter": c.previous_chapter, "next_chapter": c.next_chapter,
            "faster": lambda: c.set_speed(c.speed + 0.05),
            "slower": lambda: c.set_speed(c.speed - 0.05),
            "focus_text": self.editor_focus,
            "outline": lambda: self.outline_panel.setVisible(
                self.actions_by_name["outline"].isChecked()),
            "advanced": lambda: self.advanced.set_expanded(
                self.actions_by_name["advanced"].isChecked()),
            "manage_voices": self.manage_voices,
            "new_default_voice": lambda: make_new_default_voice(c, self.statusBar()),
            "choose_clip": lambda: self.voice_panel.choose_clip(),
            "play_reference": lambda: self.voice_panel.preview_button.click(),
            "shortcuts": self.show_shortcuts, "diagnostics": self.copy_diagnostics,
            "about": self.show_about,
        }

    def _build_widgets(self) -> None:
        self.editor = TextEditor()
        self.outline_panel = OutlinePanel()
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.outline_panel)
        self.splitter.addWidget(self.editor)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([self.fontMetrics().horizontalAdvance("M" * 18), 800])

        self.voice_panel = VoicePanel(self.controller)
        self.params_panel = ParamsPanel(self.settings.params)
        self.transport = TransportBar(self.actions_by_name, self.voice_panel.picker)
        self.latency_panel = self.transport.latency
        self.play_button = self.transport.buttons["play"]
        self.stop_button = self.transport.buttons["stop"]
        self.advanced = AdvancedSection(self.voice_panel, self.params_panel)

        self.resume_bar = ResumeBar()
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(self.resume_bar)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.transport)
        layout.addWidget(self.advanced)
        self.setCentralWidget(central)

        # Status bar: model status on the left, export progress and the API on the right.
        bar = self.statusBar()
        self.status_area = StatusArea(bar, self.controller, self.actions_by_name["load_model"],
                                      self.actions_by_name["cancel_export"])
        area = self.status_area
        self.model_status, self.model_progress = area.model_status, area.model_progress
        self.load_model_button = area.load_model_button
        self.export_progress, self.export_cancel = area.export_progress, area.export_cancel
        # The HTTP API, served with the controller's model when Settings asks for it.
        self.api_server = ApiServer(self, self.controller, lambda: self.settings.server)
        self.api_server.failed.connect(self.show_error)
        bar.addPermanentWidget(self.api_server.label)

    def _connect(self) -> None:
        c = self.controller
        c.stateChanged.connect(self._on_state)
        c.failed.connect(self.show_error)
        c.notice.connect(lambda text: self.statusBar().showMessage(text, 8000))
        c.sentenceChanged.connect(self._on_sentence)
        c.speechStarted.connect(lambda _n: self.latency_panel.start())
        c.firstChunk.connect(self.latency_panel.set_first_chunk)
        c.firstAudible.connect(self.latency_panel.set_first_audible)
        c.speechEnded.connect(lambda m: self.latency_panel.finish(m) if m is not None else None)
        c.exportEnded.connect(lambda _: self.actions_by_name["export"].setEnabled(True))
        c.outlineChanged.connect(self.outline_panel.set_outline)
        c.documentOpened.connect(self._show_document)
        c.documentExtended.connect(self._extend_document)
        c.documentFailed.connect(lambda *_: self._document_failed())
        self.resume_bar.continueChosen.connect(self._continue_from)
        self.resume_bar.startOverChosen.connect(self._start_over)
        c.paramsChanged.connect(self.params_panel.set_params)
        c.speedChanged.connect(self.transport.set_speed)
        self.transport.set_speed(c.speed)
        self.transport.speedChosen.connect(c.set_speed)
        self.params_panel.changed.connect(lambda: c.set_params(self.params_panel.params()))
        self.voice_panel.previewRequested.connect(c.play_clip)
        self.editor.filesDropped.connect(self.open_files)
        self.outline_panel.chapterChosen.connect(self._move_cursor)
        self.outline_panel.chapterActivated.connect(self._read_from)
        self.advanced.toggled.connect(self.actions_by_name["advanced"].setChecked)

        self._save_timer = QTimer(self, singleShot=True, interval=SAVE_DELAY_MS)
        self._save_timer.timeout.connect(self.save_settings)
        c.settingsChanged.connect(self._save_timer.start)
        self._outline_timer = QTimer(self, singleShot=True, interval=OUTLINE_DELAY_MS)
        self._outline_timer.timeout.connect(self._follow_text)
        self.editor.textChanged.connect(self._outline_timer.start)
        self._position_timer = QTimer(self, interval=POSITION_MS)
        self._position_timer.timeout.connect(self._show_position)

    # == model ================================================================================

    def load_model(self, model: str, device: str = "auto") -> None:
        """Load ``model`` in the background; the window stays usable meanwhile."""
        if self.controller.load_model(model, device):
            self.status_area.show_model(f"Loading model {model}…", busy=True, failed=False)

    def choose_model(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a VoxCPM model folder (the one "
                                                  "with config.json)",
                                                  self.settings.window.last_folder)
        if folder:
            try:
                models.select_model(folder)  # remembered like `voxdesk models use DIR`
            except VoxDeskError as exc:
                self.show_error(exc.message, exc.hint)
                return
            self.settings.model = ""  # the choice above replaces this older way of keeping it
            self.save_settings()
            self.load_model(folder, "auto")

    def show_first_run(self, device: str = "") -> FirstRunDialog:
        """The dialog that downloads a model (or takes a folder) and loads it here; opened at
        start when no model is on this computer, and from File > Download a model…"""
        if device:
            self._first_run_device = device
        if self.first_run is None:
            dialog = FirstRunDialog(self, tasks=self.controller.tasks,
                                    measure_speed=self.settings.desktop.measure_speed,
                                    measure_args=self.speed_measure_args)
            dialog.modelChosen.connect(self._load_for_first_run)
            dialog.testRequested.connect(self.controller.speak_text)
            self.controller.engineReady.connect(
                lambda engine: dialog.model_loaded(model_name(engine)))
            self.controller.engineFailed.connect(dialog.model_failed)
            self.first_run = dialog
        self.first_run.show()
        self.first_run.raise_()
        self.first_run.activateWindow()
        return self.first_run

    def _load_for_first_run(self, spec: str) -> None:
        if self.controller.loading:
            assert self.first_run is not None
            self.first_run.model_failed("Another model is being loaded.",
                                        "Wait until it is loaded, then try again.")
            return
        self.load_model(spec, self._first_run_device)

    # == the document ==========================================================================

    def editor_focus(self) -> None:
        self.editor.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def _text_to_read(self) -> tuple[str, int]:
        return self.editor.text_to_read()

    def _move_cursor(self, offset: int) -> None:
        self.editor.move_cursor(offset)

    def _follow_text(self) -> None:
        self.controller.set_document_text(self.editor.toPlainText())

    def _read_from(self, offset: int) -> None:
        self._move_cursor(offset)
        self.controller.read(self.editor.toPlainText(), offset)

    # == speaking ==============================================================================

    def play(self) -> bool:
        """Read the selection, or from the cursor; replaces whatever is being spoken."""
        text, offset = self._text_to_read()
        return self.controller.read(self.editor.toPlainText(), offset, offset + len(text))

    def play_pause(self) -> None:
        """The one transport toggle: play when idle, else pause or resume."""
        if self.controller.speaking:
            self.controller.toggle_pause()
        else:
            self.play()

    def _on_state(self, state: State) -> None:
        self.transport.show_state(state)
        self.actions_by_name["export"].setEnabled(not self.controller.exporting)
        if state in (State.SPEAKING, State.PAUSED):
            self._position_timer.start()
        else:
            self._position_timer.stop()
        self._show_position()

    def _on_sentence(self, index: int, start: int, end: int) -> None:
        if start >= 0:
            document = self.editor.toPlainText()
            self.editor.set_highlight(to_qt(document, start), to_qt(document, end))
            self.outline_panel.mark(chapter_at(self.controller.outline, start))
        elif index < 0:
            self.editor.clear_highlight()
            self.outline_panel.mark(-1)
        self._show_position()
        self.highlightChanged.emit(index)

    def _show_position(self) -> None:
        self.transport.show_position(self.controller.position(), self.controller.state)

    # == export ================================================================================

    def export(self) -> None:
        """File > Export…: the dialog (format, chapters, target, estimate); it starts the
        export in the background when accepted."""
        from voxdesk.gui.export_dialog import ExportDialog, book_to_export

        if self._export_waits_for_the_rest():
            return
        title = self.windowTitle().rsplit(" – VoxDesk", 1)[0]
        title = Path(title).stem if title and title != "VoxDesk" else "Speech"
        text = self.editor.toPlainText()
        if not text.strip():
            self.controller.failed.emit("There is no text to export.", "Type or open a text.")
            return
        book = book_to_export(text, self.controller.outline, title, self.controller.document)
        folder = self.settings.window.last_folder or str(Path.home())
        dialog = ExportDialog(book, self.controller.engine, self.controller.params, folder,
                              self, speed=self.controller.speed)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.export_book(dialog))
        self.export_dialog = dialog
        dialog.open()  # window-modal, without a nested event loop

    def export_book(self, dialog: Any) -> bool:
        job = dialog.job()
        self.settings.window.last_folder = str(job.output.parent)
        if not self.controller.export_book(job):
            return False
        self.status_area.export_started()
        return True

    def export_to(self, path: str | Path) -> bool:
        """Export the selection (or the whole text) with the current voice and settings."""
        cursor = self.editor.textCursor()
        document = self.editor.toPlainText()
        text = document
        if cursor.hasSelection():
            text = document[from_qt(document, cursor.selectionStart()):
                            from_qt(document, cursor.selectionEnd())]
        if not self.controller.export(text, path):
            return False
        self.status_area.export_started()
        return True

    # == voices, settings, help ================================================================

    def manage_voices(self) -> None:
        store = self.controller.voice_store
        if store is None:
            return
        dialog = VoiceProfilesDialog(store, self.controller.preview_voice, self)
        dialog.profilesChanged.connect(self.controller.refresh_profiles)
        dialog.exec()
        self.controller.refresh_profiles()

    def open_settings(self) -> None:
        dialog = SettingsDialog(self.settings.output_device, self,
                                desktop=self.settings.desktop, server=self.settings.server,
                                playback=self.settings.playback, hear=self.controller.hear)
        self.settingsDialogOpen.emit(True)
        if dialog.exec() == SettingsDialog.DialogCode.Accepted:
            self.controller.set_output_device(dialog.output_device())
            self.settings.playback = dialog.playback_settings() or self.settings.playback
            self.controller.set_realtime_policy(self.settings.playback.policy())
            desktop = dialog.desktop_settings()
            if desktop is not None:
                self.settings.desktop = desktop
                self.desktopSettingsChanged.emit()
            self.settings.server = dialog.server_settings() or self.settings.server
            self.api_server.apply(self.settings.server, self.controller.engine)
            self.save_settings()
        self.settingsDialogOpen.emit(False)

    def show_shortcuts(self) -> None:
        help_menu.show_shortcuts(self)

    def copy_diagnostics(self) -> None:
        help_menu.copy_diagnostics(self.controller.tasks, self.statusBar(),
                                   self.errors.show_exception, self.diagnosticsCopied.emit)

    def show_about(self) -> None:
        help_menu.show_about(self)

    def show_error(self, message: str, hint: str = "") -> None:
        self.errors.show(message, hint)

    @property
    def message_box(self) -> QMessageBox | None:
        """The error box on screen, if any."""
        return self.errors.box

    # == keys, drops ===========================================================================

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # Space reaches the window only when the focused widget did not want it: the editor
        # types it and a focused button presses itself, anywhere else it pauses / resumes.
        if event.key() == Qt.Key.Key_Space and not event.modifiers():
            self.controller.toggle_pause()
            event.accept()
            return
        super().keyPressEvent(event)

    def dragEnterEvent(self, event: Any) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: Any) -> None:
        files = local_files(event.mimeData())
        if files:
            self.open_files(files)
            event.acceptProposedAction()

    # == persistence and shutdown ==============================================================

    def save_settings(self) -> None:
        self.controller.set_params(self.params_panel.params())
        self.settings.voice = self.voice_panel.settings()
        window_state.capture(self)
        try:
            self.settings.save()
        except VoxDeskError as exc:
            self.statusBar().showMessage(str(exc), 10000)

    def show_and_raise(self) -> None:
        self.showNormal()
        self.raise_()
        self.activateWindow()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.keep_in_tray:
            # Closing hides the window; the tray (and the model) stay for the next hotkey.
            self.save_settings()
            self.hide()
            event.ignore()
            return
        self._save_timer.stop()
        self.save_settings()
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> bool:
        """Stop everything and end the background work; False if the model loader is still
        busy (a load cannot be interrupted: the caller should not wait for it)."""
        self._position_timer.stop()
        self.api_server.shutdown()
        clean = True
        if self.first_run is not None:
            clean = self.first_run.shutdown() and clean
        return self.controller.shutdown() and clean
