"""Live playback of a stream of audio chunks through a PortAudio output stream.

The synthesis thread ``write``s chunks as the model produces them; PortAudio's callback pulls
them from a :class:`SpeedQueue`. Playback starts once a short pre-buffer is filled (or the
input has ended), so a slightly late chunk does not cause an audible gap; with a real-time guard
the guard's figure (:attr:`Player.rebuffer_s`) replaces the pre-buffer, so a sentence it lets
through is heard at once. When the queue runs dry
before the input ends, that is an underrun: it is counted and the pre-buffer is refilled before
playing on, which turns a string of clicks into one short pause.

A callback that comes nearly as late as the device buffer lasts (the interpreter was held up)
is a stall: the sound server ran dry and drops most of a buffer of what it is given next, so the
player gives it that much silence first (:attr:`Player.stalls`); a new stream likewise plays
30 ms of silence before its first sample. Speech then pauses, and none of it is lost.

Speed (:meth:`Player.set_speed`) is applied as the audio leaves for the device
(voxdesk.audio.speed_queue): a change is heard within about 100 ms and needs no new synthesis.
Positions (marks, sentence starts) are in the model's samples at any speed.

Read-ahead is bounded: ``write`` blocks while more than :attr:`Player.read_ahead_s` seconds are
queued (or what the real-time guard needs, if more), so synthesis stays ahead of playback by that
much and no further; a stop wakes it at once.
"""

from __future__ import annotations

import enum
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from voxdesk.audio.devices import resolve_output_device, sounddevice_module
from voxdesk.audio.speed_queue import SpeedQueue
from voxdesk.audio.tempo import SPEED_DEFAULT, validate_speed
from voxdesk.errors import AudioDeviceError

DEFAULT_PREBUFFER_S = 0.1
# Device buffer: 30 ms in 10 ms callbacks, part of every first sound (heard ~45 ms after the
# chunk, against ~80 ms with 50 ms: docs/performance.md). PortAudio's "low" (~8 ms) underruns
# whenever the model's Python loop holds the GIL a little long; 20 ms and less gave device
# underflows under load. (30 ms once seemed to lose the end of an utterance: that was the stream
# stopping before the sound server had played it, mended by the drain below.)
DEFAULT_LATENCY_S = 0.03
CALLBACK_PERIOD_S = 0.01
# Silence played after the last sample before the stream stops: closing a stream drops what is
# still in the sound server's buffer, which would clip the end of every utterance.
TAIL_SILENCE_S = 0.15
# ...and at least until the device clock says the last sample has reached the speaker. On a busy
# machine callbacks come in bursts, so 0.15 s of silence can be rendered in far less time, and
# the stream would stop (dropping the end of the sentence) while the last samples still wait
# in the sound server; the clock does not run in bursts. Bounded, for a clock that is wrong.
TAIL_MARGIN_S = 0.05
TAIL_LONGEST_S = 2.0
# ...and after the sound server ran dry during the utterance (device underflows, a busy
# machine), at least this much: its clock then runs ahead of what it really played, and the
# last ~0.3 s stayed in its buffer behind the clock (seen in the sink: the utterance's last two
# chunks lost after 1-7 underflows). Silence written after them pushes them out.
TAIL_AFTER_UNDERFLOW_S = 0.6
# A new stream plays silence for at least this long first: audio given to its very first
# callbacks (which PortAudio makes in a burst, to fill the buffer) lost its first 3-20 ms in the
# sink, like audio after a stall (below). Costs speech nothing: synthesis takes longer than this
# to bring its first chunk; a clip played at once starts up to 30 ms later, whole.
PRE_ROLL_S = 0.03
# Silence played after a stall of the callback, in device buffers. Calibrated in the sink
# (tests/test_audio_stall.py, docs/scripts/speak_under_load.py; device delay ~40 ms): callbacks
# 40-47 ms apart lost nothing, 50 ms apart 424 samples once; holding the GIL 60-400 ms lost
# ~29 ms of what the server was given next, whatever the stall's length; in the test process
# (model and player in one interpreter, two busy processes) 100-500 samples went missing at
# gaps just under a buffer. A stall is therefore a callback later than three quarters of the
# buffer (a pause too many costs ~50 ms of silence, a stall missed costs speech); a quarter
# buffer more silence than a buffer, for a margin.
STALL_AFTER_BUFFERS = 0.75
STALL_SILENCE_BUFFERS = 1.25
# Audio synthesis may run ahead of playback: enough for any hiccup of the model, small in memory
# (30 s at 48 kHz is 5.8 MB, where a whole book would be gigabytes).
DEFAULT_READ_AHEAD_S = 30.0
# A blocked write re-checks this often even without a wake-up (a missed one costs no more).
WRITE_POLL_S = 0.05


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
        speed: float = SPEED_DEFAULT,
        read_ahead_s: float = DEFAULT_READ_AHEAD_S,
    ) -> None:
        self._sd = sounddevice_module()
        self._device = resolve_output_device(device)
        self.prebuffer_s = prebuffer_s
        self.read_ahead_s = read_ahead_s
        self._latency = latency
        self._queue = SpeedQueue(speed)  # its speed is kept from one utterance to the next
        self._stream: Any = None
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._done.set()
        self._space = threading.Event()  # wakes a write blocked by the read-ahead bound
        self._generation = 0
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
        # None: no guard, the fixed pre-buffer protects the start. A guard's figure replaces it:
        # the guard has already held back what it must, so a sentence it lets through plays at
        # once (a fixed pre-buffer on top would only delay the first sound).
        self.rebuffer_s: float | None = None
        self._frames_written = 0
        self._frames_played = 0
        self._input_ended = False
        self._tail_frames = 0  # silence rendered after the last sample
        self._last_sample_heard_at: float | None = None  # on the stream's clock
        self._marks: list[tuple[int, object]] = []
        self._output_delay_s = 0.0
        self._last_callback_at: float | None = None
        self._silence_owed = 0  # frames of silence to play before any more audio (see below)
        self._first_callback_at: float | None = None
        self.stalls = 0
        self._state_before_pause = PlayerState.BUFFERING
        self._queue.reset(sample_rate)
        self._generation += 1
        self._space.set()

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
        """Queue samples for playback; ``mark`` tags them (e.g. the sentence they belong to).

        Blocks while the queue is over the read-ahead bound (:attr:`read_ahead_limit_s`) until
        playback has made room, or returns at once, dropping the samples, after a stop."""
        size = int(np.asarray(samples).size)
        generation = self._generation
        while self._queue.unread_frames and (
                self.queued_seconds + size / self.sample_rate > self.read_ahead_limit_s):
            if self.state in (PlayerState.STOPPED, PlayerState.IDLE) or (
                    generation != self._generation):
                return
            self._space.clear()
            self._space.wait(WRITE_POLL_S)
        if self.state in (PlayerState.STOPPED, PlayerState.IDLE) or (
                generation != self._generation):
            return
        if mark is not None:
            self._marks.append((self._frames_written, mark))
        self._frames_written += size
        self._queue.push(samples)

    def start_phrase(self) -> None:
        """The samples written next begin a sentence (see :attr:`seams`)."""
        self._phrase_starts.add(self._frames_written)

    @property
    def read_ahead_limit_s(self) -> float:
        """Seconds of (unstretched) audio ``write`` lets queue up: the bound, or twice what the
        real-time guard needs queued, whichever is more (it must never starve the guard)."""
        return max(self.read_ahead_s, 2 * (self.rebuffer_s or 0.0))

    def end_of_input(self) -> None:
        """No more samples will come: play what is queued, then finish."""
        self._queue.end_of_input()
        self._input_ended = True

    # -- transport --------------------------------------------------------------------------

    def pause(self) -> None:
        if self.state in (PlayerState.PLAYING, PlayerState.BUFFERING):
            self._state_before_pause = self.state
            self.state = PlayerState.PAUSED

    def resume(self) -> None:
        if self.state is PlayerState.PAUSED:
            self.state = self._state_before_pause

    def set_speed(self, speed: float) -> float:
        """Play at ``speed`` (0.5-3, pitch kept), from now on: the change is heard within about
        100 ms, also in the middle of an utterance. Returns the speed used (rounded to 0.05)."""
        self._queue.speed = validate_speed(speed)
        return self._queue.speed

    @property
    def speed(self) -> float:
        return self._queue.speed

    def stop(self) -> None:
        """Silence at once (the device's buffer is discarded, not drained)."""
        with self._lock:
            if self.state in (PlayerState.IDLE, PlayerState.STOPPED) or self._done.is_set():
                return
            self.state = PlayerState.STOPPED
            self._space.set()  # a write waiting for room returns now
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

    @property
    def queued_seconds(self) -> float:
        """Audio written but not yet handed to the device, in seconds of the model's audio
        (what the read-ahead bound limits)."""
        if not self.sample_rate:
            return 0.0
        return self._queue.queued_frames / self.sample_rate

    def mark_at_playhead(self) -> object:
        """The mark of the samples being heard now (device latency and speed taken into
        account)."""
        audible = self._frames_played - int(self._output_delay_s * self.sample_rate)
        position = self._queue.source_frame_at(max(audible, 0))
        current = None
        for frame, mark in self._marks:
            if frame > position:
                break
            current = mark
        return current

    # -- PortAudio thread ---------------------------------------------------------------------

    def _callback(self, outdata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        if status.output_underflow:
            self.device_underflows += 1
        out = outdata[:, 0]
        now = time.monotonic()
        if self._first_callback_at is None:
            self._first_callback_at = now
        self._note_a_stall(now)
        state = self.state
        if state is PlayerState.BUFFERING:
            target = self.prebuffer_s if self.rebuffer_s is None else self.rebuffer_s
            ready = (self.queued_seconds >= target or self._input_ended) and (
                now - self._first_callback_at >= PRE_ROLL_S)
            if ready:
                state = self.state = PlayerState.PLAYING
            elif self.times.first_sample_handed is not None:
                self.gap_frames += frames
        if state is not PlayerState.PLAYING:
            outdata.fill(0)
            return
        if self._silence_owed:
            silent = min(self._silence_owed, frames)
            self._silence_owed -= silent
            out[:silent] = 0
            if silent == frames:
                return
            out = out[silent:]
            frames -= silent
        written = self._queue.render(out)
        if written and self.times.first_sample_handed is None:
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
                self.underrun_frames.append(self._queue.consumed)
                self.gap_frames += frames - written
                self.state = PlayerState.BUFFERING
                return
            if self._last_sample_heard_at is None and time_info.outputBufferDacTime > 0:
                self._last_sample_heard_at = (time_info.outputBufferDacTime
                                              + written / self.sample_rate)
            self._tail_frames += frames - written
            heard = (self._last_sample_heard_at is None
                     or time_info.currentTime >= self._last_sample_heard_at + TAIL_MARGIN_S)
            tail_s = self._tail_frames / self.sample_rate
            least = TAIL_AFTER_UNDERFLOW_S if self.device_underflows else TAIL_SILENCE_S
            if tail_s >= least and (heard or tail_s >= TAIL_LONGEST_S):
                self.state = PlayerState.FINISHED
                raise self._sd.CallbackStop

    def _note_a_stall(self, now: float) -> None:
        """After the callback came nearly as late as the device buffer lasts, play a buffer of
        silence before any more audio. The sound server ran dry meanwhile, and what it is given
        first after that is lost (PortAudio through ALSA's pulse plugin: most of a buffer), so that
        should be silence, not speech. (A Python callback waits for the GIL: a long garbage
        collection, a busy machine.) Audio is a buffer later, whole; speech was paused anyway."""
        last, self._last_callback_at = self._last_callback_at, now
        buffer_s = max(self._output_delay_s, DEFAULT_LATENCY_S)
        if (last is not None and now - last > STALL_AFTER_BUFFERS * buffer_s
                and self.times.first_sample_handed is not None):
            self.stalls += 1
            self._silence_owed = round(STALL_SILENCE_BUFFERS * buffer_s * self.sample_rate)

    def _on_stream_finished(self) -> None:
        # Runs once the last buffer has been played (after CallbackStop) or after abort().
        if self.state is PlayerState.FINISHED and self.times.finished is None:
            self.times.finished = time.monotonic()
        self._done.set()
