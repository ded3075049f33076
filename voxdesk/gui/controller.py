"""The app's speech state in one object: the engine, the voice and settings, what is being read,
and the work that speaks, exports and loads - with signals for whoever shows it.

The window, the tray, the read-aloud shortcuts, the local API and the `gui` benchmark all drive
this :class:`SpeechController` and listen to its signals; none reaches into another. It has no
widgets, so it is tested on its own. Slow work runs on the lanes of a
:class:`~voxdesk.gui.tasks.TaskRunner` ("loader", "speech", "export"); outcomes come back here,
on the GUI thread.
"""

from __future__ import annotations

import enum
import logging
import math
from dataclasses import dataclass, replace
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from voxdesk.engine import Engine, Segment, SynthesisParams, SynthesisRequest, VoiceReference
from voxdesk.engine.realtime_guard import RealtimePolicy
from voxdesk.engine.segmentation import split_text
from voxdesk.errors import ReferenceAudioError, VoxDeskError
from voxdesk.gui.errors import describe
from voxdesk.gui.reading import Chapter, chapter_at, open_reading, outline_of, relocate
from voxdesk.gui.tasks import TaskRunner
from voxdesk.gui.worker import ExportWorker, SpeechWorker
from voxdesk.settings import Settings, VoiceSettings
from voxdesk.speech import UtteranceMetrics
from voxdesk.voices.errors import VoiceNotFoundError
from voxdesk.voices.profile import VoiceProfile
from voxdesk.voices.sentences import preview_sentence
from voxdesk.voices.store import VoiceStore

log = logging.getLogger(__name__)

PLAYHEAD_POLL_MS = 30  # how often the heard sentence is looked up at the playhead
SPEED_MIN, SPEED_MAX, SPEED_STEP = 0.5, 3.0, 0.05
SECONDS_PER_CHAR = 0.065  # a first estimate of speaking time, until this reading measures it
NO_MODEL_HINT = ("Download one with File > Download a model…, choose a model folder with File > "
                 "Load model…, or start VoxDesk with --model PATH.")


class State(enum.Enum):
    NO_MODEL = "no model"
    LOADING = "loading"
    READY = "ready"
    SPEAKING = "speaking"
    PAUSED = "paused"
    PREVIEWING = "previewing"  # a voice's reference clip is playing
    EXPORTING = "exporting"  # an export runs and nothing is being spoken
    FAILED = "failed"  # the model could not be loaded


SOUNDING = (State.SPEAKING, State.PAUSED)


@dataclass(frozen=True)
class _Reading:
    document: str  # the whole text the request was cut from
    start: int  # the request's offset in it
    end: int  # where the request ends in it
    shown: bool  # the document is the one in the window (highlight, outline, navigation)


@dataclass(frozen=True)
class Position:
    sentence: int  # 1-based, 0 before the first is heard
    sentences: int
    chapter: str  # the chapter being heard ("" without an outline)
    elapsed_s: float  # audio heard of this utterance
    remaining_s: float | None  # estimate of the rest, None when idle


def clamp_speed(speed: float) -> float:
    if not math.isfinite(speed):
        speed = 1.0
    return round(min(max(speed, SPEED_MIN), SPEED_MAX) / SPEED_STEP) * SPEED_STEP


class SpeechController(QObject):
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
    outlineChanged = Signal(object)  # tuple[Chapter, ...]
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
        self._state = State.NO_MODEL
        self._pending: tuple[str, int, int] | None = None  # read once the model is loaded
        self._reading: _Reading | None = None
        self._segments: tuple[Segment, ...] = ()
        self._heard = -1
        self.speed = clamp_speed(settings.playback.speed)

        self.tasks = TaskRunner(self)
        self.speech = SpeechWorker(settings.output_device, realtime=settings.playback.policy())
        self.speech.set_speed(self.speed)
        self.speech.started.connect(self._on_started)
        self.speech.progress.connect(self.progress)
        self.speech.firstChunk.connect(self.firstChunk)
        self.speech.firstAudible.connect(self.firstAudible)
        self.speech.chunkReady.connect(self.chunkReady)
        self.speech.finished.connect(self._on_ended)
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

    # == the model ==============================================================================

    def load_model(self, model: str, device: str = "auto") -> bool:
        """Load ``model`` on the loader lane; False if a load is already under way."""
        if self.loading:
            return False
        self.model_spec = model
        self._set_model(State.LOADING)

        performance = self.settings.performance  # dtype and compilation overrides

        def load() -> Engine:
            # Returns before the warm-up generation is done: the window is usable meanwhile.
            engine = Engine.load(model, device or None, dtype=performance.dtype,
                                 compile=performance.compile)
            engine.use_disk_prompt_cache()  # saved voices stay encoded across restarts
            return engine

        self.tasks.run(load, self.set_engine, self._on_load_failed, lane="loader")
        return True

    def set_engine(self, engine: Engine) -> None:
        self.engine = engine
        self.models_loaded += 1
        self._set_model(State.READY)
        self.engineReady.emit(engine)
        if self._pending is not None:
            document, start, end = self._pending
            self._pending = None
            self.read(document, start, end)

    def _on_load_failed(self, exc: BaseException) -> None:
        self._pending = None
        message, hint = describe(exc)
        self._set_model(State.READY if self.engine is not None else State.FAILED)
        self.engineFailed.emit(message, hint)
        self.failed.emit(message, hint or "Choose a model folder with File > Load model…")

    # == voice and settings =====================================================================

    @property
    def voice(self) -> VoiceSettings:
        return self.settings.voice

    def set_voice(self, voice: VoiceSettings) -> None:
        if voice != self.settings.voice:
            self.settings.voice = voice
            self.voiceChanged.emit(voice)
            self.settingsChanged.emit()

    def choose_profile(self, name: str) -> bool:
        """Speak in profile ``name`` from now on ("" = the model's own voice), with the
        profile's synthesis settings; its voice is encoded now, in the background."""
        if not name:
            self.set_voice(replace(self.voice, kind="default", profile=""))
            return True
        try:
            profile = self.profile(name)
        except ReferenceAudioError as exc:
            self.failed.emit(exc.message, exc.hint)
            return False
        self.set_voice(replace(self.voice, kind="profile", profile=name))
        self.set_params(profile.params)
        self.paramsChanged.emit(profile.params)
        self.notice.emit(f"Synthesis settings of profile “{name}” applied.")
        self.prepare_voice(profile)
        return True

    def prepare_voice(self, profile: VoiceProfile) -> None:
        """Encode ``profile``'s voice ahead, so that Play does not wait for it."""
        engine = self.engine
        if engine is None:
            return
        try:
            voice = profile.voice_reference()
        except VoxDeskError:
            return  # Play says what is wrong

        def prepare() -> None:
            engine.prepare_voice(voice, profile.params.denoise)

        self.tasks.run(prepare, None, lambda exc: log.info(
            "could not prepare the voice ahead of time: %s", exc), lane="loader")

    def profile(self, name: str) -> VoiceProfile:
        try:
            if self.voice_store is not None:
                return self.voice_store.get(name)
        except VoiceNotFoundError:
            pass
        raise ReferenceAudioError(f"The voice profile {name!r} no longer exists.",
                                  "Choose another voice.")

    def profile_names(self) -> list[str]:
        if self.voice_store is None:
            return []
        try:
            return [p.name for p in self.voice_store.list()]
        except VoxDeskError:
            log.exception("listing voice profiles failed")
            return []

    def refresh_profiles(self) -> None:
        """The voice store changed (the voices dialog, another process): tell the pickers."""
        self.profilesChanged.emit(self.profile_names())

    def voice_reference(self) -> VoiceReference | None:
        """The voice to speak in (None: the model's own). Raises VoxDeskError."""
        voice = self.voice
        if voice.kind == "clip" and voice.clip:
            return VoiceReference.from_clip(voice.clip, voice.prompt_text or None)
        if voice.kind == "profile":
            return self.profile(voice.profile).voice_reference()
        return None

    @property
    def params(self) -> SynthesisParams:
        return self.settings.params

    def set_params(self, params: SynthesisParams) -> None:
        if params != self.settings.params:
            self.settings.params = params
            self.settingsChanged.emit()

    def set_speed(self, speed: float) -> None:
        speed = clamp_speed(speed)
        if abs(speed - self.speed) < 1e-9:
            return
        self.speed = speed
        self.settings.playback.speed = speed
        self.speech.set_speed(speed)
        self.speedChanged.emit(speed)
        self.settingsChanged.emit()

    def set_output_device(self, device: str) -> None:
        if device != self.settings.output_device:
            self.settings.output_device = device
            self.stop()
            self.tasks.run(lambda: self.speech.set_output_device(device), lane="speech")

    def set_realtime_policy(self, policy: RealtimePolicy | None) -> None:
        self.speech.set_realtime_policy(policy)

    # == speaking ===============================================================================

    def request(self, text: str, params: SynthesisParams | None = None) -> SynthesisRequest:
        """The request for ``text`` in the current voice and settings (raises VoxDeskError)."""
        return SynthesisRequest(text, self.voice_reference(), params or self.params).validate()

    def read(self, document: str, start: int = 0, end: int | None = None) -> bool:
        """Read ``document[start:end]`` - the text in the window: highlight, position and
        navigation refer to it. Asked while the model loads, it reads once it is loaded."""
        end = len(document) if end is None else end
        if self.engine is None and self.loading:
            self._pending = (document, start, end)
            self.notice.emit("Speaking as soon as the model is loaded…")
            return False
        return self._speak(document[start:end], _Reading(document, start, end, shown=True))

    def speak_text(self, text: str) -> bool:
        """Speak text from elsewhere (clipboard, another process, a dialog); False if it could
        not start."""
        return self._speak(text, _Reading(text, 0, len(text), shown=False))

    def preview_voice(self, profile: VoiceProfile) -> bool:
        """Speak a short sentence in ``profile``'s voice, with its own settings."""
        try:
            request = SynthesisRequest(preview_sentence(profile.language),
                                       profile.voice_reference(), profile.params).validate()
        except VoxDeskError as exc:
            self.failed.emit(exc.message, exc.hint)
            return False
        return self._start(request, None)

    def _speak(self, text: str, reading: _Reading) -> bool:
        try:
            request = self.request(text)
        except VoxDeskError as exc:
            self.failed.emit(exc.message, exc.hint)
            return False
        return self._start(request, reading)

    def _start(self, request: SynthesisRequest, reading: _Reading | None) -> bool:
        engine = self.engine
        if engine is None:
            self.failed.emit("No model is loaded.", NO_MODEL_HINT)
            return False
        self.speech.stop()  # whatever is playing now (a queued request is dropped too)
        if self._exporting:  # the engine runs one generation at a time
            self.notice.emit("Speech starts once the export has finished.")
        self._reading = reading
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
        else:
            self.sentenceChanged.emit(index, -1, -1)

    # == where we are, and moving ===============================================================

    def _offset(self) -> int | None:
        """Where in the document the sentence now heard starts."""
        reading = self._reading
        if reading is None or not self.speaking:
            return None
        segment = self._segments[self._heard] if 0 <= self._heard < len(self._segments) else None
        return reading.start + (segment.start if segment is not None else 0)

    def position(self) -> Position:
        reading = self._reading
        offset = self._offset()
        if reading is None or offset is None:
            return Position(0, 0, "", 0.0, None)
        chapter = ""
        if reading.shown:
            index = chapter_at(self.outline, offset)
            chapter = self.outline[index].title if index >= 0 else ""
        elapsed = self.played_seconds()
        done = offset - reading.start
        per_char = elapsed / done if done > 40 and elapsed > 1.0 else SECONDS_PER_CHAR / self.speed
        return Position(self._heard + 1, len(self._segments), chapter, elapsed,
                        max(0.0, (reading.end - offset) * per_char))

    def next_sentence(self) -> bool:
        # Right after a restart nothing is heard yet (-1): "next" is then the second sentence.
        return self._restart_at_segment(max(self._heard, 0) + 1)

    def previous_sentence(self) -> bool:
        """The sentence before the one heard; before the reading's first, the document's."""
        if self._heard >= 1:
            return self._restart_at_segment(self._heard - 1)
        reading = self._reading
        if reading is None or not self.speaking:
            return False
        before = split_text(reading.document[:reading.start])
        return self._restart(reading, before[-1].start if before else reading.start)

    def _restart_at_segment(self, index: int) -> bool:
        reading = self._reading
        if reading is None or not self.speaking or not 0 <= index < len(self._segments):
            return False
        return self._restart(reading, reading.start + self._segments[index].start)

    def next_chapter(self) -> bool:
        offset, reading = self._offset(), self._reading
        if offset is None or reading is None or not reading.shown:
            return False
        later = [c.offset for c in self.outline if c.offset > offset]
        return bool(later) and self._restart(reading, later[0], whole=True)

    def previous_chapter(self) -> bool:
        """To the start of this chapter; from its first sentence, to the one before."""
        offset, reading = self._offset(), self._reading
        if offset is None or reading is None or not reading.shown:
            return False
        index = chapter_at(self.outline, offset)
        if index < 0:
            return self._restart(reading, reading.start)
        at_start = self.outline[index].offset >= offset - 1 or self._heard <= 0 and \
            self.outline[index].offset >= reading.start
        if at_start and index > 0:
            index -= 1
        return self._restart(reading, self.outline[index].offset, whole=True)

    def _restart(self, reading: _Reading, offset: int, whole: bool = False) -> bool:
        # Chapters lie anywhere in the document; sentences within what is being read.
        end = len(reading.document) if whole else reading.end
        return self._speak(reading.document[offset:end],
                           _Reading(reading.document, offset, end, reading.shown))

    # == the document ===========================================================================

    def open_document(self, path: str | Path) -> str | None:
        """Read a document for the window (its text), or None after showing why not."""
        try:
            reading = open_reading(Path(path))
        except VoxDeskError as exc:
            self.failed.emit(exc.message, exc.hint)
            return None
        self.stop()
        self._set_outline(reading.outline)
        return reading.text

    def set_document_text(self, text: str) -> None:
        """The text in the window changed: keep the outline in step with it."""
        found = outline_of(text)
        if not found and self.outline:
            found = relocate(self.outline, text)
        self._set_outline(found)

    def _set_outline(self, outline: tuple[Chapter, ...]) -> None:
        if outline != self.outline:
            self.outline = outline
            self.outlineChanged.emit(outline)

    # == export =================================================================================

    def export(self, text: str, path: str | Path) -> bool:
        """Export ``text`` in the current voice and settings to a WAV, in the background."""
        if self._exporting:
            return False
        try:
            request = self.request(text)
        except VoxDeskError as exc:
            self.failed.emit(exc.message, exc.hint)
            return False
        engine = self.engine
        if engine is None:
            self.failed.emit("No model is loaded.", "Wait for it to load, or choose a model "
                             "folder with File > Load model…")
            return False
        self._exporting = True
        self._update_state()
        epoch = self.exporter.epoch
        self.tasks.run(lambda: self.exporter.export(engine, request, str(path), epoch),
                       lane="export")
        return True

    def cancel_export(self) -> None:
        self.exporter.cancel()

    def _on_export_finished(self, path: str, seconds: float) -> None:
        self.exportFinished.emit(path, seconds)
        self._end_export("finished")

    def _on_export_error(self, message: str, hint: str) -> None:
        self.failed.emit(message, hint)
        self._end_export("failed")

    def _end_export(self, outcome: str) -> None:
        self._exporting = False
        self._update_state()
        self.exportEnded.emit(outcome)

    # == the end ================================================================================

    def shutdown(self) -> bool:
        """Stop everything and end the lanes; False if the model loader is still busy (a load
        cannot be interrupted: the caller should not wait for it)."""
        self._playhead.stop()
        self.speech.stop()
        self.exporter.cancel()
        clean = self.tasks.shutdown(3.0, lanes=("speech", "export"))
        if clean:
            self.speech.shutdown()  # its lane has ended: closing the player here is safe
        loader_clean = self.tasks.shutdown(0.1 if self.loading else 3.0)
        return clean and loader_clean

    def busy(self) -> bool:
        """A lane thread is still running (after shutdown: one that did not end in time)."""
        return any(self.tasks.busy(lane) for lane in ("speech", "export", "loader"))
