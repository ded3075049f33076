"""The speaking and exporting loops the controller runs on its task lanes.

Each worker is a QObject living on the GUI thread whose work method (``speak``, ``play_clip``,
``export``) the :class:`~voxdesk.gui.controller.SpeechController` runs on a lane of its
:class:`~voxdesk.gui.tasks.TaskRunner`; the signals a worker emits from there reach the GUI
thread queued. Stop, Pause and Cancel are plain thread-safe method calls, because the lane is
busy inside the model loop when they are needed.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal

from voxdesk.audio.export import AtomicAudioWriter
from voxdesk.audio.player import Player, PlayerState
from voxdesk.audio.tempo import validate_speed
from voxdesk.engine import AudioChunk, Engine, SynthesisRequest, SynthesisStream
from voxdesk.engine.realtime_guard import RealtimeGuard, RealtimePolicy
from voxdesk.engine.voice_prompt import check_clip
from voxdesk.errors import ReferenceAudioError
from voxdesk.gui.errors import describe
from voxdesk.speech import Utterance

log = logging.getLogger(__name__)

POLL_S = 0.02  # how often the speaking thread looks at the player while it drains


class SpeechWorker(QObject):
    """Speaks requests through one :class:`Player`, one at a time, with live metrics.

    ``speak`` runs an :class:`Utterance` (the same engine-to-player loop the CLI uses) on this
    worker's thread and then waits, still on that thread, until the audio has been heard.
    """

    started = Signal(object)  # the utterance's segments (tuple of Segment)
    chunkReady = Signal(object)  # AudioChunk, as soon as it went into the player
    firstChunk = Signal(float)  # seconds from request to the first chunk from the model
    firstAudible = Signal(float)  # seconds from request to the first sample out of the speaker
    progress = Signal(int, int)  # sentence being synthesised (0-based), number of sentences
    finished = Signal(object)  # UtteranceMetrics, once the last sample has been played
    cancelled = Signal(object)  # UtteranceMetrics of a stopped utterance
    error = Signal(str, str)  # message, hint
    clipStarted = Signal()
    clipEnded = Signal()

    def __init__(self, output_device: str = "", prebuffer_s: float | None = None,
                 realtime: RealtimePolicy | None = None, speed: float = 1.0) -> None:
        super().__init__()
        self._device = output_device
        self._prebuffer_s = prebuffer_s
        self._speed = speed  # the player's, heard within 200 ms when changed while speaking
        self._realtime = realtime  # None: play every chunk at once (no guard)
        self._player: Player | None = None
        self._utterance: Utterance | None = None
        self._lock = threading.Lock()
        self._epoch = 0  # bumped by stop(): requests queued before it are dropped
        self._paused = False
        self._last_segment = -1  # the sentence last reported by `progress`
        self._audible_sent = False

    # -- called from the GUI thread (thread-safe) -------------------------------------------

    @property
    def epoch(self) -> int:
        return self._epoch

    @property
    def player(self) -> Player | None:
        """The player in use, for reading the playhead; None until the first utterance."""
        return self._player

    @property
    def speed(self) -> float:
        return self._speed

    def set_speed(self, speed: float) -> float:
        """Read at ``speed`` from now on, also in the middle of an utterance (thread-safe).
        Returns the speed used (validated, rounded to 0.05); raises InvalidRequestError."""
        self._speed = validate_speed(speed)
        if self._player is not None:
            self._player.set_speed(self._speed)
        return self._speed

    def stop(self) -> None:
        with self._lock:
            self._epoch += 1
            self._paused = False
            utterance, player = self._utterance, self._player
        if utterance is not None:
            utterance.stop()
        elif player is not None:
            player.stop()  # a reference clip playing

    def pause(self) -> None:
        self._paused = True
        if self._player is not None:
            self._player.pause()

    def resume(self) -> None:
        self._paused = False
        if self._player is not None:
            self._player.resume()

    # -- slots, run on the worker's thread ---------------------------------------------------

    def set_output_device(self, device: str) -> None:
        self._device = device
        if self._player is not None:
            self._player.close()
            self._player = None

    def set_realtime_policy(self, policy: RealtimePolicy | None) -> None:
        self._realtime = policy

    def _guard(self, engine: Engine) -> RealtimeGuard | None:
        if self._realtime is None:
            return None
        # What the guard learns of a model's speed carries over to its next utterance (and run).
        return RealtimeGuard(self._realtime, engine.speed)

    def speak(self, engine: Engine, request: SynthesisRequest, epoch: int) -> None:
        if epoch != self._epoch:  # stopped before it began
            return
        try:
            for clip in request.voice.clips if request.voice is not None else ():
                check_clip(clip)  # reads the clip: a clear message before the model is asked
            player = self._ensure_player()
            player.set_speed(self._speed)  # (a reference clip played at 1x may have reset it)
            utterance = Utterance(engine, player, request, on_chunk=self._on_chunk,
                                  guard=self._guard(engine))
        except Exception as exc:  # noqa: BLE001
            self.error.emit(*describe(exc))
            return
        with self._lock:
            if epoch != self._epoch:
                return
            self._utterance = utterance
        self._last_segment = -1
        self._audible_sent = False
        self.started.emit(tuple(utterance.stream.segments))
        failure: BaseException | None = None
        try:
            utterance.run()
            failure = utterance.error
            if failure is None:
                if self._paused:  # Pause pressed before playback had begun
                    player.pause()
                self._drain(player, utterance)
        except Exception as exc:  # noqa: BLE001 - a bug in the model must end the utterance
            failure = exc
            utterance.stream.cancel()
            player.stop()
        finally:
            with self._lock:
                self._utterance = None
        metrics = utterance.metrics
        stopped = epoch != self._epoch
        if failure is not None and not stopped:
            self.error.emit(*describe(failure))
        elif stopped or player.state is PlayerState.STOPPED:
            self.cancelled.emit(metrics)
        else:
            self.finished.emit(metrics)

    def play_clip(self, path: str, epoch: int) -> None:
        """Play a reference clip (read here, off the GUI thread) through the same output."""
        if epoch != self._epoch:
            return
        try:
            samples, rate = _read_clip(Path(path))
            player = self._ensure_player()
            player.set_speed(1.0)  # a reference clip is heard as it was recorded
            player.begin(rate)
        except Exception as exc:  # noqa: BLE001
            self.error.emit(*describe(exc))
            return
        self.clipStarted.emit()
        player.write(samples)
        player.end_of_input()
        while not player.wait(POLL_S):
            pass
        self.clipEnded.emit()

    def shutdown(self) -> None:
        if self._player is not None:
            self._player.close()
            self._player = None

    # -- internals -----------------------------------------------------------------------------

    def _ensure_player(self) -> Player:
        if self._player is None:
            kwargs = {} if self._prebuffer_s is None else {"prebuffer_s": self._prebuffer_s}
            self._player = Player(self._device or None, speed=self._speed, **kwargs)
        return self._player

    def _on_chunk(self, chunk: AudioChunk) -> None:
        """Runs on this thread after each chunk went into the player."""
        utterance = self._utterance
        if utterance is None:
            return
        if chunk.index == 0:
            latency = utterance.stream.stats.first_chunk_latency
            if latency is not None:
                self.firstChunk.emit(latency)
        if chunk.segment.index != self._last_segment:
            self._last_segment = chunk.segment.index
            self.progress.emit(chunk.segment.index, len(utterance.stream.segments))
        if self._paused and self._player is not None:
            self._player.pause()
        self._check_audible(utterance)
        self.chunkReady.emit(chunk)

    def _check_audible(self, utterance: Utterance) -> None:
        if not self._audible_sent:
            audible = utterance.metrics.first_audible_latency
            if audible is not None:
                self._audible_sent = True
                self.firstAudible.emit(audible)

    def _drain(self, player: Player, utterance: Utterance) -> None:
        """Wait on this thread until the queued audio has been played (or stopped)."""
        while not player.wait(POLL_S):
            self._check_audible(utterance)
        self._check_audible(utterance)


def _read_clip(path: Path) -> tuple[np.ndarray, int]:
    import soundfile

    check_clip(path)
    try:
        data, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError) as exc:
        raise ReferenceAudioError(f"The voice clip {path.name} cannot be read ({exc}).",
                                  "Use a WAV, FLAC, OGG or MP3 file.") from exc
    return data.mean(axis=1).astype("float32"), int(rate)


class ExportWorker(QObject):
    """Synthesises a request into an audio file, atomically: cancelled means no file at all."""

    progress = Signal(int, int)  # sentence being synthesised (0-based), number of sentences
    finished = Signal(str, float)  # path, seconds of audio
    cancelled = Signal()
    error = Signal(str, str)

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._stream: SynthesisStream | None = None
        self._epoch = 0  # bumped by cancel(): exports queued before it are dropped

    @property
    def epoch(self) -> int:
        return self._epoch

    def cancel(self) -> None:
        """Thread-safe: stop the model before its next step; nothing is written."""
        with self._lock:
            self._epoch += 1
            if self._stream is not None:
                self._stream.cancel()

    def export(self, engine: Engine, request: SynthesisRequest, path: str, epoch: int) -> None:
        try:
            for clip in request.voice.clips if request.voice is not None else ():
                check_clip(clip)
            stream = engine.synthesize(request)
            with self._lock:
                if epoch != self._epoch:
                    stream.cancel()
                self._stream = stream
            total = len(stream.segments)
            with AtomicAudioWriter(path, engine.sample_rate) as writer:
                current = -1
                for chunk in stream:
                    writer.write(chunk.samples)
                    if chunk.segment.index != current:
                        current = chunk.segment.index
                        self.progress.emit(current, total)
                if stream.cancelled:
                    writer.discard()
        except Exception as exc:  # noqa: BLE001
            self.error.emit(*describe(exc))
            return
        finally:
            with self._lock:
                self._stream = None
        if stream.cancelled:
            self.cancelled.emit()
        else:
            self.progress.emit(total, total)
            self.finished.emit(str(writer.path), writer.result().duration)
