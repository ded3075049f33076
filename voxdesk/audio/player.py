"""Live playback of a stream of audio chunks through a PortAudio output stream.

The synthesis thread ``write``s chunks as the model produces them; PortAudio's callback pulls
them from a :class:`SampleQueue`. Playback starts once a short pre-buffer is filled (or the
input has ended), so a slightly late chunk does not cause an audible gap. When the queue runs dry
before the input ends, that is an underrun: it is counted and the pre-buffer is refilled before
playing on, which turns a string of clicks into one short pause.
"""

from __future__ import annotations

import enum
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from voxdesk.audio.buffer import SampleQueue
from voxdesk.audio.devices import resolve_output_device, sounddevice_module
from voxdesk.errors import AudioDeviceError

DEFAULT_PREBUFFER_S = 0.1
# Device buffer: 50 ms in 10 ms callbacks. PortAudio's "low" (~8 ms) underruns whenever the
# model's Python loop holds the GIL a little long; more would delay Stop and first sound.
DEFAULT_LATENCY_S = 0.05
CALLBACK_PERIOD_S = 0.01
# Silence played after the last sample before the stream stops: closing a stream drops what is
# still in the sound server's buffer, which would clip the end of every utterance.
TAIL_SILENCE_S = 0.15


class PlayerState(enum.Enum):
    IDLE = "idle"
    BUFFERING = "buffering"
    PLAYING = "playing"
    PAUSED = "paused"
    FINISHED = "finished"
    STOPPED = "stopped"


@dataclass
class PlaybackTimes:
    """Monotonic timestamps (``time.monotonic()``) of one playback; ``None`` until they happen."""

    started: float | None = None
    first_sample_handed: float | None = None  # first real sample given to PortAudio
    first_sample_audible: float | None = None  # ...plus the device's reported output latency
    finished: float | None = None


class Player:
    """Plays one utterance at a time; ``begin`` opens the stream, ``end_of_input`` lets it drain.

    Thread-safety: ``write``/``end_of_input`` from the producer thread, transport calls
    (``pause``/``resume``/``stop``) from any thread, the callback on PortAudio's own thread.
    """

    def __init__(
        self,
        device: str | int | None = None,
        prebuffer_s: float = DEFAULT_PREBUFFER_S,
        latency: str | float = DEFAULT_LATENCY_S,
    ) -> None:
        self._sd = sounddevice_module()
        self._device = resolve_output_device(device)
        self.prebuffer_s = prebuffer_s
        self._latency = latency
        self._queue = SampleQueue()
        self._stream: Any = None
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._done.set()
        self._reset(sample_rate=0)

    def _reset(self, sample_rate: int) -> None:
        self.sample_rate = sample_rate
        self.state = PlayerState.IDLE
        self.times = PlaybackTimes()
        self.underruns = 0
        self.device_underflows = 0
        # Real-time guard hooks (voxdesk.engine.realtime_guard): where each underrun happened,
        # where sentences begin (an underrun there is a pause between sentences, not a seam),
        # silence played while waiting for audio, and a refill target the guard may raise so
        # that one refill lasts to the end of the sentence.
        self.underrun_frames: list[int] = []
        self._phrase_starts: set[int] = {0}
        self.gap_frames = 0
        self.rebuffer_s = 0.0
        self._frames_written = 0
        self._frames_played = 0
        self._input_ended = False
        self._tail_frames_left = int(sample_rate * TAIL_SILENCE_S)
        self._marks: list[tuple[int, object]] = []
        self._output_delay_s = 0.0
        self._state_before_pause = PlayerState.BUFFERING
        self._queue.clear()

    # -- producer side ----------------------------------------------------------------------

    def begin(self, sample_rate: int) -> None:
        """Open and start an output stream for a new utterance (it plays silence until data)."""
        self.close()
        with self._lock:
            self._reset(sample_rate)
            self._done.clear()
            try:
                self._stream = self._sd.OutputStream(
                    samplerate=sample_rate,
                    channels=1,
                    dtype="float32",
                    device=self._device,
                    latency=self._latency,
                    blocksize=int(sample_rate * CALLBACK_PERIOD_S),
                    callback=self._callback,
                    finished_callback=self._on_stream_finished,
                )
                self._stream.start()
            except (self._sd.PortAudioError, ValueError) as exc:
                self._stream = None
                self._done.set()
                raise AudioDeviceError(
                    f"Could not open the audio output ({exc}).",
                    "The device may be busy or unplugged: close other programs using it or "
                    "choose another with --output-device (`voxdesk devices` lists them).",
                ) from exc
            self.state = PlayerState.BUFFERING
            self.times.started = time.monotonic()

    def write(self, samples: np.ndarray, mark: object = None) -> None:
        """Queue samples for playback; ``mark`` tags them (e.g. the sentence they belong to)."""
        if self.state in (PlayerState.STOPPED, PlayerState.IDLE):
            return
        if mark is not None:
            self._marks.append((self._frames_written, mark))
        self._frames_written += int(np.asarray(samples).size)
        self._queue.push(samples)

    def start_phrase(self) -> None:
        """The samples written next begin a sentence (see :attr:`seams`)."""
        self._phrase_starts.add(self._frames_written)

    def end_of_input(self) -> None:
        """No more samples will come: play what is queued, then finish."""
        self._input_ended = True

    # -- transport --------------------------------------------------------------------------

    def pause(self) -> None:
        if self.state in (PlayerState.PLAYING, PlayerState.BUFFERING):
            self._state_before_pause = self.state
            self.state = PlayerState.PAUSED

    def resume(self) -> None:
        if self.state is PlayerState.PAUSED:
            self.state = self._state_before_pause

    def stop(self) -> None:
        """Silence at once (the device's buffer is discarded, not drained)."""
        with self._lock:
            if self.state in (PlayerState.IDLE, PlayerState.STOPPED) or self._done.is_set():
                return
            self.state = PlayerState.STOPPED
            self._queue.clear()
            if self._stream is not None:
                try:
                    self._stream.abort()
                except self._sd.PortAudioError:
                    pass
            self.times.finished = time.monotonic()
            self._done.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until playback finished or was stopped; False on timeout."""
        return self._done.wait(timeout)

    def close(self) -> None:
        self.stop()
        with self._lock:
            if self._stream is not None:
                try:
                    self._stream.close()
                except self._sd.PortAudioError:
                    pass
                self._stream = None

    # -- observation ------------------------------------------------------------------------

    @property
    def frames_played(self) -> int:
        """Frames handed to the device so far."""
        return self._frames_played

    @property
    def seams(self) -> int:
        """Underruns inside a sentence: the gaps that make speech stutter. (An underrun where a
        sentence starts or where the input ends is a pause between sentences.)"""
        return sum(1 for frame in self.underrun_frames
                   if frame not in self._phrase_starts and frame < self._frames_written)

    @property
    def gap_seconds(self) -> float:
        """Silence played after the first sample while waiting for audio (underruns)."""
        return self.gap_frames / self.sample_rate if self.sample_rate else 0.0

    def mark_at_playhead(self) -> object:
        """The mark of the samples being heard now (device latency taken into account)."""
        audible = self._frames_played - int(self._output_delay_s * self.sample_rate)
        current = None
        for frame, mark in self._marks:
            if frame > max(audible, 0):
                break
            current = mark
        return current

    # -- PortAudio thread ---------------------------------------------------------------------

    def _callback(self, outdata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        if status.output_underflow:
            self.device_underflows += 1
        out = outdata[:, 0]
        state = self.state
        if state is PlayerState.BUFFERING:
            target = max(self.prebuffer_s, self.rebuffer_s)
            ready = len(self._queue) >= target * self.sample_rate or self._input_ended
            if ready:
                state = self.state = PlayerState.PLAYING
            elif self.times.first_sample_handed is not None:
                self.gap_frames += frames
        if state is not PlayerState.PLAYING:
            outdata.fill(0)
            return
        written = self._queue.pop_into(out)
        if written and self.times.first_sample_handed is None:
            now = time.monotonic()
            self._output_delay_s = max(0.0, time_info.outputBufferDacTime - time_info.currentTime)
            if self._output_delay_s == 0.0 and self._stream is not None:
                self._output_delay_s = float(self._stream.latency)
            self.times.first_sample_handed = now
            self.times.first_sample_audible = now + self._output_delay_s
        self._frames_played += written
        if written < frames:
            out[written:] = 0
            if not self._input_ended:
                self.underruns += 1
                self.underrun_frames.append(self._frames_played)
                self.gap_frames += frames - written
                self.state = PlayerState.BUFFERING
                return
            self._tail_frames_left -= frames - written
            if self._tail_frames_left <= 0:
                self.state = PlayerState.FINISHED
                raise self._sd.CallbackStop

    def _on_stream_finished(self) -> None:
        # Runs once the last buffer has been played (after CallbackStop) or after abort().
        if self.state is PlayerState.FINISHED and self.times.finished is None:
            self.times.finished = time.monotonic()
        self._done.set()
