"""The VoxDesk window: text, transport, voice, synthesis settings, latency and model status.

The window only arranges widgets and routes signals: speaking, exporting and model loading run
on worker threads (voxdesk.gui.worker), and the text highlight follows the player's playhead,
so it shows the sentence being heard, not the one being synthesised.
"""

from __future__ import annotations

import base64
import logging
import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QGuiApplication,
    QKeyEvent,
    QKeySequence,
    QTextCursor,
)
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from voxdesk import models
from voxdesk.engine import Engine, Segment, SynthesisRequest
from voxdesk.errors import InvalidRequestError, VoxDeskError
from voxdesk.gui.api_server import ApiServer
from voxdesk.gui.first_run import FirstRunDialog
from voxdesk.gui.latency_panel import LatencyPanel
from voxdesk.gui.params_panel import ParamsPanel
from voxdesk.gui.settings_dialog import SettingsDialog
from voxdesk.gui.text_editor import AUDIO_SUFFIXES, TextEditor, from_qt, to_qt
from voxdesk.gui.voice_design import make_new_default_voice
from voxdesk.gui.voice_panel import VoicePanel, open_voice_store
from voxdesk.gui.voice_profiles import VoiceProfilesDialog
from voxdesk.gui.worker import (
    ExportWorker,
    ModelLoader,
    SpeechWorker,
    start_thread,
    stop_thread,
)
from voxdesk.settings import Settings
from voxdesk.speech import UtteranceMetrics
from voxdesk.voices.profile import VoiceProfile
from voxdesk.voices.sentences import preview_sentence
from voxdesk.voices.store import VoiceStore

log = logging.getLogger(__name__)

PLAYHEAD_POLL_MS = 30  # how often the highlight looks at what is being heard
SAVE_DELAY_MS = 1000  # settings are saved this long after the last change
TEXT_FILTER = "Text (*.txt *.md *.markdown *.text);;All files (*)"
MAX_OPEN_BYTES = 20_000_000


def _b64(data: QByteArray) -> str:
    return base64.b64encode(bytes(data.data())).decode("ascii")


def _unb64(text: str) -> QByteArray:
    try:
        return QByteArray(base64.b64decode(text.encode("ascii"), validate=True))
    except ValueError:
        return QByteArray()


class MainWindow(QMainWindow):
    # Requests to the workers (queued onto their threads).
    speakRequested = Signal(object, object, int)  # engine, request, epoch
    clipRequested = Signal(str, int)  # path, epoch
    exportRequested = Signal(object, object, str, int)  # engine, request, path, epoch
    loadRequested = Signal(str, str)  # model, device
    voicePrepareRequested = Signal(object, object, bool)  # engine, voice, denoise
    outputDeviceChanged = Signal(str)
    playbackChanged = Signal(object)  # RealtimePolicy or None (no guard)
    # The Settings dialog changed settings.desktop (shortcuts, tray, autostart): the Desktop
    # applies them before they are saved, and may correct what it could not apply.
    desktopSettingsChanged = Signal()
    settingsDialogOpen = Signal(bool)  # True while Settings is open (global keys let go then)
    # For observers (tests, the benchmark), emitted on the GUI thread once the window has
    # updated itself: the sentence now heard (-1: none), the model, the ends of work.
    highlightChanged = Signal(int)
    engineReady = Signal(object)
    engineFailed = Signal(str, str)  # message, hint
    speechStarted = Signal(int)  # number of sentences
    speechEnded = Signal(object)  # UtteranceMetrics (cancelled or not), None after an error
    exportEnded = Signal(str)  # "finished", "cancelled" or "failed"
    diagnosticsCopied = Signal(str)  # the report, once it is on the clipboard
    _diagnosticsReady = Signal(str)  # from the collecting thread

    def __init__(self, settings: Settings | None = None, engine: Engine | None = None,
                 voice_store: VoiceStore | None = None) -> None:
        super().__init__()
        self.settings = settings if settings is not None else Settings.load()
        self.engine: Engine | None = None
        self.models_loaded = 0  # engines this window has loaded (one, unless the model changes)
        self.keep_in_tray = False  # set by the tray integration: closing then hides the window
        self.model_spec = ""
        self._loading = False
        self._speaking = False
        self._previewing = False  # a reference clip is playing
        self._exporting = False
        self._pending_play = False  # Play pressed while the model loads
        self._reading: tuple[str, int] | None = None  # document text, Python offset of request
        self._heard = -1
        self._total_sentences = 0
        self.message_box: QMessageBox | None = None
        self.first_run: FirstRunDialog | None = None  # created when first needed
        self._first_run_device = "auto"
        self.setWindowTitle("VoxDesk")
        self.setAcceptDrops(True)

        self.voice_store = voice_store if voice_store is not None else open_voice_store()
        self._build_widgets()
        self._build_menus()
        self._start_workers()

        self._save_timer = QTimer(self, singleShot=True, interval=SAVE_DELAY_MS)
        self._save_timer.timeout.connect(self.save_settings)
        self.params_panel.changed.connect(self._save_timer.start)
        self.voice_panel.changed.connect(self._save_timer.start)

        self._playhead_timer = QTimer(self, interval=PLAYHEAD_POLL_MS)
        self._playhead_timer.timeout.connect(self._follow_playhead)

        self._restore_geometry()
        self._update_transport()
        if engine is not None:
            self.set_engine(engine)
        else:
            self._show_model_status("No model loaded yet.", busy=False, failed=False)

    # == construction ==========================================================================

    def _build_widgets(self) -> None:
        self.editor = TextEditor()
        self.editor.filesDropped.connect(self.open_files)

        self.play_button = self._transport_button("Play", "Play", "Read the selection, or "
                                                  "from the cursor (Ctrl+Enter).", self.play)
        self.pause_button = self._transport_button("Pause", "Pause", "Pause or resume the "
                                                   "speech (Space outside the text).", None)
        self.pause_button.setCheckable(True)
        self.pause_button.toggled.connect(self._on_pause_toggled)
        self.stop_button = self._transport_button("Stop", "Stop", "Stop speaking (Esc).",
                                                  self.stop)
        self.export_button = self._transport_button("Export…", "Export", "Save the speech "
                                                    "as a WAV file (Ctrl+E).", self.export)
        self.sentence_label = QLabel()
        self.sentence_label.setAccessibleName("Sentence")
        transport = QHBoxLayout()
        for button in (self.play_button, self.pause_button, self.stop_button):
            transport.addWidget(button)
        transport.addSpacing(self.fontMetrics().horizontalAdvance("MM"))
        transport.addWidget(self.export_button)
        transport.addStretch(1)
        transport.addWidget(self.sentence_label)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addLayout(transport)
        left_layout.addWidget(self.editor, 1)

        self.voice_panel = VoicePanel(self.settings.voice, self.voice_store)
        self.voice_panel.previewRequested.connect(self.play_reference)
        self.voice_panel.profileChosen.connect(self._apply_profile)
        self.params_panel = ParamsPanel(self.settings.params)
        self.latency_panel = LatencyPanel()
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        for panel in (self.voice_panel, self.params_panel, self.latency_panel):
            side_layout.addWidget(panel)
        side_layout.addStretch(1)
        # A scroll area keeps every control reachable when the window is small or scaled up.
        self.side_scroll = QScrollArea()
        self.side_scroll.setWidget(side)
        self.side_scroll.setWidgetResizable(True)
        self.side_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.side_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.side_scroll.setMinimumWidth(side.minimumSizeHint().width()
                                         + self.side_scroll.verticalScrollBar().sizeHint().width())

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.side_scroll)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 0)
        self.splitter.setChildrenCollapsible(False)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(self.splitter)
        self.setCentralWidget(central)

        # Status bar: model status on the left, export progress on the right.
        bar = self.statusBar()
        self.model_status = QLabel()
        self.model_status.setAccessibleName("Model status")
        self.model_status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.model_progress = QProgressBar()
        self.model_progress.setRange(0, 0)  # busy: loading has no measurable progress
        self.model_progress.setAccessibleName("Model loading")
        self.model_progress.setMaximumWidth(self.fontMetrics().horizontalAdvance("M" * 8))
        self.load_model_button = QPushButton("Load model…")
        self.load_model_button.clicked.connect(self.choose_model)
        self.export_progress = QProgressBar()
        self.export_progress.setAccessibleName("Export progress")
        self.export_progress.setFormat("Exporting %p%")
        self.export_progress.setMaximumWidth(self.fontMetrics().horizontalAdvance("M" * 12))
        self.export_cancel = QPushButton("Cancel export")
        self.export_cancel.clicked.connect(self.cancel_export)
        bar.addWidget(self.model_progress)
        bar.addWidget(self.model_status, 1)
        bar.addWidget(self.load_model_button)
        bar.addPermanentWidget(self.export_progress)
        bar.addPermanentWidget(self.export_cancel)
        # The HTTP API, served with this window's model when Settings asks for it.
        self.api_server = ApiServer(self)
        self.api_server.failed.connect(self.show_error)
        bar.addPermanentWidget(self.api_server.label)
        self.export_progress.hide()
        self.export_cancel.hide()

    @staticmethod
    def _transport_button(text: str, name: str, tip: str, slot: Any) -> QPushButton:
        button = QPushButton(text)
        button.setAccessibleName(name)
        button.setToolTip(tip)
        # Clicking must not take the focus from the text (Space there types); Tab still
        # reaches the buttons.
        button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        if slot is not None:
            button.clicked.connect(slot)
        return button

    def _build_menus(self) -> None:
        menu = self.menuBar().addMenu("&File")
        self._action(menu, "&Open…", self.open_dialog, QKeySequence.StandardKey.Open)
        self.export_action = self._action(menu, "&Export…", self.export, "Ctrl+E")
        menu.addSeparator()
        self._action(menu, "&Load model…", self.choose_model)
        self._action(menu, "&Download a model…", self.show_first_run)
        self._action(menu, "&Settings…", self.open_settings, "Ctrl+,")
        menu.addSeparator()
        self._action(menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)

        menu = self.menuBar().addMenu("&Speech")
        self.play_action = self._action(menu, "&Play", self.play)
        self.play_action.setShortcuts([QKeySequence("Ctrl+Return"), QKeySequence("Ctrl+Enter")])
        # Space is handled in keyPressEvent (it must keep typing in the editor and pressing
        # a focused button); the menu entry names it for discoverability.
        self.pause_action = self._action(menu, "P&ause / Resume\tSpace", self.pause_button.toggle)
        self.stop_action = self._action(menu, "&Stop", self.stop, "Esc")

        menu = self.menuBar().addMenu("V&oices")
        self.manage_voices_action = self._action(menu, "&Manage voice profiles…",
                                                 self.manage_voices)
        self.manage_voices_action.setEnabled(self.voice_store is not None)
        self._action(menu, "Choose reference &clip…", self.voice_panel.choose_clip)
        self._action(menu, "&Play reference", self.voice_panel.preview_button.click)
        self._action(menu, "&New default voice", lambda: make_new_default_voice(self))

        menu = self.menuBar().addMenu("&Help")
        self._action(menu, "&Keyboard shortcuts", self.show_shortcuts)
        self._action(menu, "Copy &diagnostics", self.copy_diagnostics)
        self._diagnosticsReady.connect(self._on_diagnostics)
        self._action(menu, "&About VoxDesk", self.show_about)

    def _action(self, menu: Any, text: str, slot: Any, shortcut: Any = None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(lambda *_: slot())
        menu.addAction(action)
        self.addAction(action)  # shortcuts work even while the menu bar is hidden
        return action

    def _start_workers(self) -> None:
        self.speech = SpeechWorker(self.settings.output_device,
                                   realtime=self.settings.playback.policy())
        self.speech_thread = start_thread(self.speech, "voxdesk-speech")
        # Requests are queued explicitly: they must run on the worker's thread, whatever PySide
        # makes of the slot (a wrapped or undecorated method would otherwise be called here).
        queued = Qt.ConnectionType.QueuedConnection
        self.speakRequested.connect(self.speech.speak, queued)
        self.clipRequested.connect(self.speech.play_clip, queued)
        self.outputDeviceChanged.connect(self.speech.set_output_device, queued)
        self.playbackChanged.connect(self.speech.set_realtime_policy, queued)
        self.speech.started.connect(self._on_started)
        self.speech.firstChunk.connect(self.latency_panel.set_first_chunk)
        self.speech.firstAudible.connect(self.latency_panel.set_first_audible)
        self.speech.progress.connect(self._on_progress)
        self.speech.finished.connect(self._on_finished)
        self.speech.cancelled.connect(self._on_finished)
        self.speech.error.connect(self._on_speech_error)
        self.speech.clipStarted.connect(lambda: self._set_previewing(True))
        self.speech.clipEnded.connect(lambda: self._set_previewing(False))

        self.exporter = ExportWorker()
        self.export_thread = start_thread(self.exporter, "voxdesk-export")
        self.exportRequested.connect(self.exporter.export, queued)
        self.exporter.progress.connect(self._on_export_progress)
        self.exporter.finished.connect(self._on_export_finished)
        self.exporter.cancelled.connect(self._on_export_cancelled)
        self.exporter.error.connect(self._on_export_error)

        self.loader = ModelLoader()
        self.loader_thread = start_thread(self.loader, "voxdesk-model-loader")
        self.loadRequested.connect(self.loader.load, queued)
        self.voicePrepareRequested.connect(self.loader.prepare_voice, queued)
        self.loader.loaded.connect(self.set_engine)
        self.loader.failed.connect(self._on_load_failed)

    # == model ================================================================================

    def load_model(self, model: str, device: str = "auto") -> None:
        """Load ``model`` on the loader thread; the window stays usable meanwhile."""
        if self._loading:
            return
        self._loading = True
        self.model_spec = model
        self._show_model_status(f"Loading model {model}…", busy=True, failed=False)
        self.loadRequested.emit(model, device)

    def set_engine(self, engine: Engine) -> None:
        self.engine = engine
        self.models_loaded += 1
        self._loading = False
        info = engine.info
        # A model folder is shown by its name (the full path is in the tooltip).
        name = Path(info.model_id).name if Path(info.model_id).expanduser().is_dir() \
            else info.model_id
        self._show_model_status(f"Model: {name} on {info.device_name} ({info.dtype})",
                                busy=False, failed=False)
        self.model_status.setToolTip(f"{info.model_id}\n{info.path}\n{info.architecture}, "
                                     f"{info.sample_rate} Hz")
        self._update_transport()
        self.api_server.apply(self.settings.server, engine)  # (re)start it with this model
        self.engineReady.emit(engine)
        if self._pending_play:
            self._pending_play = False
            self.play()

    def _on_load_failed(self, message: str, hint: str) -> None:
        self._loading = False
        self._pending_play = False
        self._show_model_status(f"No model: {message} {hint}".strip(), busy=False, failed=True)
        self._update_transport()
        self.show_error(message, hint or "Choose a model folder with File > Load model…")
        self.engineFailed.emit(message, hint)

    def _show_model_status(self, text: str, busy: bool, failed: bool) -> None:
        self.model_status.setText(text)
        self.model_status.setToolTip(text)
        self.model_progress.setVisible(busy)
        self.load_model_button.setVisible(failed or (self.engine is None and not busy))

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
            dialog = FirstRunDialog(self)
            dialog.modelChosen.connect(self._load_for_first_run)
            dialog.testRequested.connect(self.speak_text)
            self.engineReady.connect(lambda engine: dialog.model_loaded(self._model_name(engine)))
            self.engineFailed.connect(dialog.model_failed)
            self.first_run = dialog
        self.first_run.show()
        self.first_run.raise_()
        self.first_run.activateWindow()
        return self.first_run

    def _load_for_first_run(self, spec: str) -> None:
        if self._loading:
            assert self.first_run is not None
            self.first_run.model_failed("Another model is being loaded.",
                                        "Wait until it is loaded, then try again.")
            return
        self.load_model(spec, self._first_run_device)

    @staticmethod
    def _model_name(engine: Engine) -> str:
        model_id = engine.info.model_id
        return Path(model_id).name if Path(model_id).expanduser().is_dir() else model_id

    # == text ==================================================================================

    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open text", self.settings.window.last_folder,
                                              TEXT_FILTER)
        if path:
            self.open_text_file(Path(path))

    def open_files(self, paths: list[Path]) -> None:
        """Dropped files: audio becomes the voice clip, anything else is opened as text."""
        for path in paths:
            if path.suffix.lower() in AUDIO_SUFFIXES:
                self.voice_panel.set_clip(path)
            else:
                self.open_text_file(path)
                break

    def open_text_file(self, path: Path) -> bool:
        try:
            if path.stat().st_size > MAX_OPEN_BYTES:
                raise InvalidRequestError(f"{path.name} is too large to open "
                                          f"({path.stat().st_size // 1_000_000} MB).",
                                          "Open a smaller part of it.")
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            self.show_error(f"{path.name} is not a UTF-8 text file.",
                            "Save it as UTF-8 text, or paste its text instead.")
            return False
        except OSError as exc:
            self.show_error(f"Cannot open {path}: {exc.strerror or exc}.", "Choose another file.")
            return False
        except VoxDeskError as exc:
            self.show_error(exc.message, exc.hint)
            return False
        self.stop()
        self.editor.setPlainText(text)
        self.settings.window.last_folder = str(path.parent)
        self.setWindowTitle(f"{path.name} – VoxDesk")
        return True

    def _text_to_read(self) -> tuple[str, int]:
        """The text Play reads, and its Python offset in the document: the selection, else from
        the word at the cursor to the end, else (cursor at the end) everything."""
        document = self.editor.toPlainText()
        cursor = self.editor.textCursor()
        if cursor.hasSelection():
            start = from_qt(document, cursor.selectionStart())
            end = from_qt(document, cursor.selectionEnd())
            return document[start:end], start
        if not document[from_qt(document, cursor.position()):].strip():
            return document, 0  # nothing after the cursor: read it all
        cursor.movePosition(QTextCursor.MoveOperation.StartOfWord)
        start = from_qt(document, cursor.position())
        return document[start:], start

    # == speaking ==============================================================================

    def _request(self, text: str) -> SynthesisRequest:
        """The request for ``text`` with the current voice and settings (raises VoxDeskError)."""
        request = SynthesisRequest(text, self.voice_panel.voice(), self.params_panel.params())
        return request.validate()

    def play(self) -> None:
        """Read the selection, or from the cursor; replaces whatever is being spoken."""
        text, offset = self._text_to_read()
        self._speak(text, (self.editor.toPlainText(), offset))

    def speak_text(self, text: str) -> bool:
        """Speak text from elsewhere (clipboard, another process), with the current voice and
        settings; the editor is left as it is. False if it could not start."""
        return self._speak(text, None)

    def _speak(self, text: str, reading: tuple[str, int] | None) -> bool:
        try:
            request = self._request(text)
        except VoxDeskError as exc:
            self.show_error(exc.message, exc.hint)
            return False
        return self._start(request, reading)

    def preview_voice(self, profile: VoiceProfile) -> bool:
        """Speak a short sentence in ``profile``'s voice, with its own settings."""
        try:
            request = SynthesisRequest(preview_sentence(profile.language),
                                       profile.voice_reference(), profile.params).validate()
        except VoxDeskError as exc:
            self.show_error(exc.message, exc.hint)
            return False
        return self._start(request, None)

    def _start(self, request: SynthesisRequest, reading: tuple[str, int] | None) -> bool:
        if self.engine is None:
            if self._loading and reading is not None:
                self._pending_play = True
                self.statusBar().showMessage("Speaking as soon as the model is loaded…", 5000)
            else:
                self.show_error("No model is loaded.", "Download one with File > Download a "
                                "model…, choose a model folder with File > Load model…, or "
                                "start VoxDesk with --model PATH.")
            return False
        self.speech.stop()  # whatever is playing now (a queued request is dropped too)
        if self._exporting:  # the engine runs one generation at a time
            self.statusBar().showMessage("Speech starts once the export has finished.", 10000)
        self._reading = reading
        self._set_heard(-1)
        self.latency_panel.start()
        self.speakRequested.emit(self.engine, request, self.speech.epoch)
        return True

    def stop(self) -> None:
        self._pending_play = False
        self.speech.stop()

    def toggle_pause(self) -> None:
        if self._speaking:
            self.pause_button.toggle()

    def _on_pause_toggled(self, paused: bool) -> None:
        if paused:
            self.speech.pause()
        else:
            self.speech.resume()
        self.pause_button.setText("Resume" if paused else "Pause")

    def play_reference(self, path: str) -> None:
        self.speech.stop()
        self.clipRequested.emit(path, self.speech.epoch)

    def _set_previewing(self, previewing: bool) -> None:
        self._previewing = previewing
        self._update_transport()

    def _on_started(self, sentences: int) -> None:
        self._speaking = True
        self._total_sentences = sentences
        self._playhead_timer.start()
        self._update_transport()
        self.speechStarted.emit(sentences)

    def _on_progress(self, index: int, total: int) -> None:
        self._total_sentences = total
        self._show_sentence()

    def _on_finished(self, metrics: UtteranceMetrics) -> None:
        self.latency_panel.finish(metrics)
        self._end_speaking()
        self.speechEnded.emit(metrics)

    def _on_speech_error(self, message: str, hint: str) -> None:
        self._end_speaking()
        self.show_error(message, hint)
        self.speechEnded.emit(None)

    def _end_speaking(self) -> None:
        self._speaking = False
        self._playhead_timer.stop()
        self._set_heard(-1)
        self.editor.clear_highlight()
        self.pause_button.blockSignals(True)
        self.pause_button.setChecked(False)
        self.pause_button.setText("Pause")
        self.pause_button.blockSignals(False)
        self.speech.resume()  # a pause must not outlive its utterance
        self._update_transport()

    def _follow_playhead(self) -> None:
        player = self.speech.player
        mark = player.mark_at_playhead() if player is not None else None
        if isinstance(mark, Segment) and mark.index != self._heard and self._reading:
            document, offset = self._reading
            self.editor.set_highlight(to_qt(document, offset + mark.start),
                                      to_qt(document, offset + mark.end))
            self._set_heard(mark.index)

    def _set_heard(self, index: int) -> None:
        if index != self._heard:
            self._heard = index
            self._show_sentence()
            self.highlightChanged.emit(index)

    def _show_sentence(self) -> None:
        if self._speaking and self._heard >= 0:
            self.sentence_label.setText(f"Sentence {self._heard + 1} of {self._total_sentences}")
        else:
            self.sentence_label.setText("")

    @property
    def speaking(self) -> bool:
        return self._speaking

    # == export ================================================================================

    def export(self) -> None:
        start = self.settings.window.last_folder or str(Path.home())
        path, _ = QFileDialog.getSaveFileName(self, "Export speech", str(Path(start) /
                                              "speech.wav"), "WAV audio (*.wav)")
        if path:
            if not path.lower().endswith(".wav"):
                path += ".wav"
            self.settings.window.last_folder = str(Path(path).parent)
            self.export_to(path)

    def export_to(self, path: str | Path) -> bool:
        """Export the selection (or the whole text) with the current voice and settings."""
        if self._exporting:
            return False
        cursor = self.editor.textCursor()
        document = self.editor.toPlainText()
        text = document
        if cursor.hasSelection():
            text = document[from_qt(document, cursor.selectionStart()):
                            from_qt(document, cursor.selectionEnd())]
        try:
            request = self._request(text)
        except VoxDeskError as exc:
            self.show_error(exc.message, exc.hint)
            return False
        if self.engine is None:
            self.show_error("No model is loaded.", "Wait for it to load, or choose a model "
                            "folder with File > Load model…")
            return False
        self._exporting = True
        self.export_progress.setRange(0, 0)
        self.export_progress.setValue(0)
        self.export_progress.show()
        self.export_cancel.show()
        self._update_transport()
        self.exportRequested.emit(self.engine, request, str(path), self.exporter.epoch)
        return True

    def cancel_export(self) -> None:
        self.exporter.cancel()

    def _on_export_progress(self, index: int, total: int) -> None:
        self.export_progress.setRange(0, max(total, 1))
        self.export_progress.setValue(index)

    def _end_export(self) -> None:
        self._exporting = False
        self.export_progress.hide()
        self.export_cancel.hide()
        self._update_transport()

    def _on_export_finished(self, path: str, seconds: float) -> None:
        self._end_export()
        self.statusBar().showMessage(f"Exported {seconds:.1f} s of speech to {path}.", 10000)
        self.exportEnded.emit("finished")

    def _on_export_cancelled(self) -> None:
        self._end_export()
        self.statusBar().showMessage("Export cancelled: no file was written.", 10000)
        self.exportEnded.emit("cancelled")

    def _on_export_error(self, message: str, hint: str) -> None:
        self._end_export()
        self.show_error(message, hint)
        self.exportEnded.emit("failed")

    @property
    def exporting(self) -> bool:
        return self._exporting

    # == voices, settings, help ================================================================

    def _apply_profile(self, profile: VoiceProfile) -> None:
        self.params_panel.set_params(profile.params)
        self.statusBar().showMessage(f"Synthesis settings of profile “{profile.name}” "
                                     "applied.", 5000)
        if self.engine is not None:  # encode it now, off the GUI thread, not on Play
            try:
                voice = profile.voice_reference()
            except VoxDeskError:
                return  # Play says what is wrong
            self.voicePrepareRequested.emit(self.engine, voice, profile.params.denoise)

    def manage_voices(self) -> None:
        if self.voice_store is None:
            return

        dialog = VoiceProfilesDialog(self.voice_store, self.preview_voice, self)
        dialog.profilesChanged.connect(lambda *_: self.voice_panel.refresh_profiles())
        dialog.exec()
        self.voice_panel.refresh_profiles()

    def open_settings(self) -> None:
        dialog = SettingsDialog(self.settings.output_device, self,
                                desktop=self.settings.desktop, server=self.settings.server,
                                playback=self.settings.playback)
        self.settingsDialogOpen.emit(True)
        if dialog.exec() == SettingsDialog.DialogCode.Accepted:
            device = dialog.output_device()
            if device != self.settings.output_device:
                self.settings.output_device = device
                self.stop()
                self.outputDeviceChanged.emit(device)
            self.settings.playback = dialog.playback_settings() or self.settings.playback
            self.playbackChanged.emit(self.settings.playback.policy())
            desktop = dialog.desktop_settings()
            if desktop is not None:
                self.settings.desktop = desktop
                self.desktopSettingsChanged.emit()
            self.settings.server = dialog.server_settings() or self.settings.server
            self.api_server.apply(self.settings.server, self.engine)
            self.save_settings()
        self.settingsDialogOpen.emit(False)

    def show_shortcuts(self) -> None:
        QMessageBox.information(self, "Keyboard shortcuts", (
            "Ctrl+Enter\tPlay (the selection, or from the cursor)\n"
            "Space\tPause / resume (when the text is not focused)\n"
            "Esc\tStop\n"
            "Ctrl+O\tOpen a text file\n"
            "Ctrl+E\tExport to WAV\n"
            "Ctrl+,\tSettings\n"
            "Alt+letter\tThe underlined control or menu"))

    def copy_diagnostics(self) -> None:
        """Put the diagnostics report (for bug reports) on the clipboard. It is collected on a
        thread: it imports torch and reads the log, which must not freeze the window."""
        from voxdesk.diagnostics import collect

        self.statusBar().showMessage("Collecting diagnostics…")

        def work() -> None:
            text = collect()
            try:
                self._diagnosticsReady.emit(text)
            except RuntimeError:  # the window was closed meanwhile
                pass

        threading.Thread(target=work, name="voxdesk-diagnostics", daemon=True).start()

    def _on_diagnostics(self, text: str) -> None:
        QGuiApplication.clipboard().setText(text)
        self.statusBar().showMessage("Diagnostics copied to the clipboard: paste them into "
                                     "your bug report.", 10000)
        self.diagnosticsCopied.emit(text)

    def show_about(self) -> None:
        from voxdesk import __version__

        QMessageBox.about(self, "About VoxDesk", f"VoxDesk {__version__}\nRead-aloud with the "
                          "VoxCPM text-to-speech model.")

    def show_error(self, message: str, hint: str = "") -> None:
        """Tell the user what went wrong and what to do, without blocking the window's loop."""
        if self.message_box is not None:
            self.message_box.close()
        box = QMessageBox(QMessageBox.Icon.Warning, "VoxDesk", message,
                          QMessageBox.StandardButton.Ok, self)
        if hint:
            box.setInformativeText(hint)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.destroyed.connect(lambda *_: self._forget_box(box))
        self.message_box = box
        box.open()

    def _forget_box(self, box: QMessageBox) -> None:
        if self.message_box is box:
            self.message_box = None

    # == state, keys, drops ====================================================================

    def _update_transport(self) -> None:
        self.pause_button.setEnabled(self._speaking)
        self.pause_action.setEnabled(self._speaking)
        self.stop_button.setEnabled(self._speaking or self._previewing)
        self.export_button.setEnabled(not self._exporting)
        self.export_action.setEnabled(not self._exporting)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # Space reaches the window only when the focused widget did not want it: the editor
        # types it and a focused button presses itself, anywhere else it pauses / resumes.
        if event.key() == Qt.Key.Key_Space and not event.modifiers():
            self.toggle_pause()
            event.accept()
            return
        super().keyPressEvent(event)

    def dragEnterEvent(self, event: Any) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: Any) -> None:
        from voxdesk.gui.text_editor import local_files

        files = local_files(event.mimeData())
        if files:
            self.open_files(files)
            event.acceptProposedAction()

    # == persistence and shutdown ==============================================================

    def _restore_geometry(self) -> None:
        window = self.settings.window
        if not (window.geometry and self.restoreGeometry(_unb64(window.geometry))):
            self.resize(1100, 750)
        if window.splitter:
            self.splitter.restoreState(_unb64(window.splitter))

    def save_settings(self) -> None:
        self.settings.params = self.params_panel.params()
        self.settings.voice = self.voice_panel.settings()
        self.settings.window.geometry = _b64(self.saveGeometry())
        self.settings.window.splitter = _b64(self.splitter.saveState())
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
        """Stop everything and end the worker threads; False if the model loader is still busy
        (a load cannot be interrupted: the caller should not wait for it)."""
        self._playhead_timer.stop()
        self.speech.stop()
        self.exporter.cancel()
        self.api_server.shutdown()
        clean = True
        if self.first_run is not None:
            clean = self.first_run.shutdown() and clean
        for thread in (self.speech_thread, self.export_thread):
            if thread.isRunning():
                clean = stop_thread(thread) and clean
        if not self.speech_thread.isRunning():
            self.speech.shutdown()  # its thread has ended: closing the player here is safe
        if self.loader_thread.isRunning():
            self.loader_thread.quit()
            if not self.loader_thread.wait(100 if self._loading else 3000):
                clean = False
        return clean

