"""The app's speech state in one object: the engine, the voice and settings, what is being read,
and the work that speaks, exports and loads - with signals for whoever shows it.

The window, the tray, the read-aloud shortcuts, the local API and the `gui` benchmark all drive
this :class:`SpeechController` and listen to its signals; none reaches into another. It has no
widgets, so it is tested on its own. Its parts live in modules of their own and are mixed in:
the voice and settings (voice_choice.py), the model (model_control.py), the document
(document_control.py) and exports (export_control.py); the state enum is speech_state.py.
Slow work runs on the lanes of a :class:`~voxdesk.gui.tasks.TaskRunner` ("loader", "speech",
"export", "document"); outcomes come back here, on the GUI thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from voxdesk.engine import Engine, Segment, SynthesisParams, SynthesisRequest
from voxdesk.engine.realtime_guard import RealtimePolicy
from voxdesk.errors import VoxDeskError
from voxdesk.gui import navigation
from voxdesk.gui.document_control import DocumentControl
from voxdesk.gui.export_control import ExportControl
from voxdesk.gui.model_control import ModelControl
from voxdesk.gui.navigation import IDLE, Position, Reading
from voxdesk.gui.reading import Chapter
from voxdesk.gui.shown_document import ShownDocument
from voxdesk.gui.speech_state import SOUNDING, State
from voxdesk.gui.tasks import TaskRunner
from voxdesk.gui.voice_choice import VoiceChoice, clamp_speed
from voxdesk.gui.worker import ExportWorker, SpeechWorker
from voxdesk.lexicon import Lexicon, lexicon_for
from voxdesk.reading_position import PositionStore
from voxdesk.settings import Settings
from voxdesk.speech import UtteranceMetrics
from voxdesk.voices.profile import VoiceProfile
from voxdesk.voices.sentences import preview_sentence
from voxdesk.voices.store import VoiceStore

log = logging.getLogger(__name__)

PLAYHEAD_POLL_MS = 30  # how often the heard sentence is looked up at the playhead
NO_MODEL_HINT = ("Download one with File > Download a model…, choose a model folder with File > "
                 "Load model…, or start VoxDesk with --model PATH.")


class SpeechController(VoiceChoice, ModelControl, ExportControl, DocumentControl, QObject):
    stateChanged = Signal(object)  # State
    engineReady = Signal(object)  # Engine
    engineFailed = Signal(str, str)  # message, hint
    failed = Signal(str, str)  # any error to show: message, hint
    notice = Signal(str)  # passing news (the status bar)
    requested = Signal(object)  # a SynthesisRequest handed to the speaking lane
    speechStarted = Signal(int)  # number of sentences
    speechEnded = Signal(object)  # UtteranceMetrics (cancelled or not), None after an error
    # The sentence now heard (-1: none) and where it is in the document (-1, -1: not shown).
    sentenceChanged = Signal(int, int, int)
    progress = Signal(int, int)  # sentence being synthesised, number of sentences
    firstChunk = Signal(float)
    firstAudible = Signal(float)
    chunkReady = Signal(object)  # AudioChunk
    exportProgress = Signal(int, int)
    exportFinished = Signal(str, float)  # path, seconds
    exportEnded = Signal(str)  # "finished", "cancelled" or "failed"
    bookProgress = Signal(object)  # voxdesk.audiobook ExportProgress of export_book
    outlineChanged = Signal(object)  # tuple[Chapter, ...]
    documentOpened = Signal(object)  # ShownDocument, extracted in the background
    documentFailed = Signal(str, str)  # message, hint (the previous document is kept)
    # The rest of a big document, extracted after its first chapters were shown: the whole
    # ShownDocument, and the one shown until now (its text is the start of the whole's).
    documentExtended = Signal(object, object)
    positionSaved = Signal(object)  # ReadingPosition, saved as its sentence started playing
    voiceChanged = Signal(object)  # VoiceSettings
    profilesChanged = Signal(list)  # profile names
    paramsChanged = Signal(object)  # SynthesisParams a voice profile brought
    speedChanged = Signal(float)
    settingsChanged = Signal()  # something worth saving changed

    def __init__(self, settings: Settings, engine: Engine | None = None,
                 voice_store: VoiceStore | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.voice_store = voice_store
        self.engine: Engine | None = None
        self.model_spec = ""
        self.models_loaded = 0
        self.outline: tuple[Chapter, ...] = ()
        self._model = State.NO_MODEL
        self._activity: State | None = None  # SPEAKING, PAUSED, PREVIEWING
        self._exporting = False
        self._book_cancel: threading.Event | None = None
        self._state = State.NO_MODEL
        self._pending: tuple[str, int, int] | None = None  # read once the model is loaded
        self._reading: Reading | None = None
        self._segments: tuple[Segment, ...] = ()
        self._heard = -1
        self.speed = clamp_speed(settings.playback.speed)
        self.document: ShownDocument | None = None  # the document shown, while unedited
        self.positions = PositionStore()
        self._opening = 0  # the latest open request (an older one's late result is dropped)
        self._read_on_at: int | None = None  # where to read on once this utterance has ended

        self.tasks = TaskRunner(self)
        self.speech = SpeechWorker(settings.output_device, realtime=settings.playback.policy())
        self.speech.set_speed(self.speed)
        self.speech.started.connect(self._on_started)
        self.speech.progress.connect(self.progress)
        self.speech.firstChunk.connect(self.firstChunk)
        self.speech.firstAudible.connect(self.firstAudible)
        self.speech.chunkReady.connect(self.chunkReady)
        self.speech.finished.connect(self._on_ended)
        self.speech.finished.connect(self._read_on)
        self.speech.cancelled.connect(self._on_ended)
        self.speech.error.connect(self._on_speech_error)
        self.speech.clipStarted.connect(lambda: self._set_activity(State.PREVIEWING))
        self.speech.clipEnded.connect(lambda: self._set_activity(None))
        self.exporter = ExportWorker()
        self.exporter.progress.connect(self.exportProgress)
        self.exporter.finished.connect(self._on_export_finished)
        self.exporter.cancelled.connect(lambda: self._end_export("cancelled"))
        self.exporter.error.connect(self._on_export_error)
        self._playhead = QTimer(self, interval=PLAYHEAD_POLL_MS)
        self._playhead.timeout.connect(self._follow_playhead)
        if engine is not None:
            self.set_engine(engine)

    # == state ==================================================================================

    @property
    def state(self) -> State:
        return self._state

    @property
    def speaking(self) -> bool:
        """An utterance is under way (paused or not)."""
        return self._state in SOUNDING

    @property
    def exporting(self) -> bool:
        return self._exporting

    @property
    def loading(self) -> bool:
        return self._model is State.LOADING

    def _update_state(self) -> None:
        state = self._activity or (State.EXPORTING if self._exporting else self._model)
        if state is not self._state:
            self._state = state
            self.stateChanged.emit(state)

    def _set_activity(self, activity: State | None) -> None:
        self._activity = activity
        self._update_state()

    def _set_model(self, model: State) -> None:
        self._model = model
        self._update_state()

    # == the model (and ModelControl) ============================================================

    def set_output_device(self, device: str) -> None:
        if device != self.settings.output_device:
            self.settings.output_device = device
            self.stop()
            self.tasks.run(lambda: self.speech.set_output_device(device), lane="speech")

    def set_realtime_policy(self, policy: RealtimePolicy | None) -> None:
        self.speech.set_realtime_policy(policy)

    # == speaking ===============================================================================

    def request(self, text: str, params: SynthesisParams | None = None) -> SynthesisRequest:
        """The request for ``text`` in the current voice and settings, with the user's
        pronunciation lexicon for that voice (raises VoxDeskError)."""
        return SynthesisRequest(text, self.voice_reference(), params or self.params,
                                self.lexicon()).validate()

    def lexicon(self) -> Lexicon | None:
        """The user's lexicon for the current voice: a profile's name and language, else the
        entries for every voice (None when there are none)."""
        voice = self.voice
        if voice.kind == "profile" and voice.profile:
            profile = self.profile(voice.profile)
            return lexicon_for(profile.name, profile.language)
        return lexicon_for(None, None)

    def hear(self, text: str, lexicon: Lexicon) -> bool:
        """Speak ``text`` in the current voice with ``lexicon`` applied (the lexicon editor's
        Hear it), whatever the saved lexicon holds."""
        try:
            request = SynthesisRequest(text, self.voice_reference(), self.params,
                                       lexicon).validate()
        except VoxDeskError as exc:
            self.failed.emit(exc.message, exc.hint)
            return False
        return self._start(request, None)

    def read(self, document: str, start: int = 0, end: int | None = None) -> bool:
        """Read ``document[start:end]`` - the text in the window: highlight, position and
        navigation refer to it. Asked while the model loads, it reads once it is loaded."""
        end = len(document) if end is None else end
        if self.engine is None and self.loading:
            self._pending = (document, start, end)
            self.notice.emit("Speaking as soon as the model is loaded…")
            return False
        return self._speak(document[start:end], Reading(document, start, end, shown=True))

    def speak_text(self, text: str) -> bool:
        """Speak text from elsewhere (clipboard, another process, a dialog); False if it could
        not start."""
        return self._speak(text, Reading(text, 0, len(text), shown=False))

    def preview_voice(self, profile: VoiceProfile) -> bool:
        """Speak a short sentence in ``profile``'s voice, with its own settings."""
        try:
            request = SynthesisRequest(preview_sentence(profile.language),
                                       profile.voice_reference(), profile.params).validate()
        except VoxDeskError as exc:
            self.failed.emit(exc.message, exc.hint)
            return False
        return self._start(request, None)

    def _speak(self, text: str, reading: Reading) -> bool:
        try:
            request = self.request(text)
        except VoxDeskError as exc:
            self.failed.emit(exc.message, exc.hint)
            return False
        return self._start(request, reading)

    def _start(self, request: SynthesisRequest, reading: Reading | None) -> bool:
        engine = self.engine
        if engine is None:
            self.failed.emit("No model is loaded.", NO_MODEL_HINT)
            return False
        self.speech.stop()  # whatever is playing now (a queued request is dropped too)
        if self._exporting:  # the engine runs one generation at a time
            self.notice.emit("Speech starts once the export has finished.")
        self._reading = reading
        self._read_on_at = None
        # Until the new utterance starts, a mark the previous one left at the playhead must
        # not be taken for a sentence of this reading.
        self._segments = ()
        self._set_heard(-1)
        epoch = self.speech.epoch
        self.tasks.run(lambda: self.speech.speak(engine, request, epoch), lane="speech")
        self.requested.emit(request)
        return True

    def play_clip(self, path: str) -> None:
        """Play a voice's reference clip through the same output."""
        self.speech.stop()
        epoch = self.speech.epoch
        self.tasks.run(lambda: self.speech.play_clip(path, epoch), lane="speech")

    def stop(self) -> None:
        self._pending = None
        self.speech.stop()

    def pause(self) -> None:
        if self._state is State.SPEAKING:
            self.speech.pause()
            self._set_activity(State.PAUSED)

    def resume(self) -> None:
        if self._state is State.PAUSED:
            self.speech.resume()
            self._set_activity(State.SPEAKING)

    def toggle_pause(self) -> None:
        if self._state is State.PAUSED:
            self.resume()
        else:
            self.pause()

    @property
    def player(self) -> object:
        """The player in use (for measuring), None before the first utterance."""
        return self.speech.player

    def played_seconds(self) -> float:
        player = self.speech.player
        return player.frames_played / player.sample_rate if player and player.sample_rate \
            else 0.0

    def _on_started(self, segments: tuple[Segment, ...]) -> None:
        self._segments = segments
        self._heard = -1  # (quietly: nothing of this utterance was announced yet)
        self._set_activity(State.SPEAKING)
        self._playhead.start()
        self.speechStarted.emit(len(segments))

    def _on_ended(self, metrics: UtteranceMetrics) -> None:
        self._end_speaking()
        self.speechEnded.emit(metrics)

    def _on_speech_error(self, message: str, hint: str) -> None:
        self._end_speaking()
        self.failed.emit(message, hint)
        self.speechEnded.emit(None)

    def _end_speaking(self) -> None:
        self._playhead.stop()
        self._set_heard(-1)
        self.speech.resume()  # a pause must not outlive its utterance
        self._set_activity(None)

    def _follow_playhead(self) -> None:
        player = self.speech.player
        mark = player.mark_at_playhead() if player is not None else None
        if isinstance(mark, Segment) and mark.index != self._heard:
            self._set_heard(mark.index)

    def _set_heard(self, index: int) -> None:
        if index == self._heard:
            return
        self._heard = index
        reading = self._reading
        if index >= 0 and reading is not None and reading.shown and index < len(self._segments):
            segment = self._segments[index]
            self.sentenceChanged.emit(index, reading.start + segment.start,
                                      reading.start + segment.end)
            self._save_position(reading.start + segment.start)
        else:
            self.sentenceChanged.emit(index, -1, -1)

    # == where we are, and moving ===============================================================

    def position(self) -> Position:
        reading = self._reading
        if reading is None or not self.speaking:
            return IDLE
        document = self.document
        return navigation.position(reading, self._segments, self._heard, self.outline,
                                   self.played_seconds(), self.speed,
                                   document.sentence_in_chapter if document else None)

    def next_sentence(self) -> bool:
        return self._go(lambda r: navigation.next_sentence(r, self._segments, self._heard))

    def previous_sentence(self) -> bool:
        return self._go(lambda r: navigation.previous_sentence(r, self._segments, self._heard))

    def next_paragraph(self) -> bool:
        return self._go(lambda r: navigation.next_paragraph(r, self._segments, self._heard))

    def previous_paragraph(self) -> bool:
        return self._go(lambda r: navigation.previous_paragraph(r, self._segments, self._heard))

    def next_chapter(self) -> bool:
        return self._go(lambda r: navigation.next_chapter(r, self.outline, self._offset(r)))

    def previous_chapter(self) -> bool:
        return self._go(lambda r: navigation.previous_chapter(r, self.outline, self._offset(r),
                                                              self._heard))

    def _offset(self, reading: Reading) -> int:
        return navigation.heard_offset(reading, self._segments, self._heard)

    def _go(self, where: Callable[[Reading], navigation.Target | None]) -> bool:
        """Read on from ``where`` the reading should go (nothing while idle)."""
        reading = self._reading
        target = where(reading) if reading is not None and self.speaking else None
        if reading is None or target is None:
            return False
        offset, whole = target
        # Chapters lie anywhere in the document; sentences within what is being read.
        end = len(reading.document) if whole else reading.end
        return self._speak(reading.document[offset:end],
                           Reading(reading.document, offset, end, reading.shown))

    # == the end ================================================================================

    def shutdown(self) -> bool:
        """Stop everything and end the lanes; False if the model loader is still busy (a load
        cannot be interrupted: the caller should not wait for it)."""
        self._playhead.stop()
        self.speech.stop()
        self.exporter.cancel()
        self._opening += 1  # a document still being extracted is not shown
        clean = self.tasks.shutdown(3.0, lanes=("speech", "export"))
        if clean:
            self.speech.shutdown()  # its lane has ended: closing the player here is safe
        loader_clean = self.tasks.shutdown(0.1 if self.loading else 3.0)
        return clean and loader_clean

    def busy(self) -> bool:
        """A lane thread is still running (after shutdown: one that did not end in time)."""
        return any(self.tasks.busy(lane) for lane in ("speech", "export", "loader"))
