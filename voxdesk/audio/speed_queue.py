"""The player's queue: the model's samples in, samples at the listener's speed out.

The queue holds audio as the model made it. :meth:`SpeedQueue.render`, called from the audio
callback, time-stretches (voxdesk.audio.tempo) only what that one callback hands to the device,
so a change of speed is heard within the device's latency plus the stretcher's window, and
nothing is synthesised again. At 1x the samples are copied as they are.

Positions stay in the model's samples (what marks and sentence starts refer to): a short
timeline maps each sample handed to the device back to the model's sample it came from.
"""

from __future__ import annotations

import collections
import logging

import numpy as np

from voxdesk.audio.buffer import SampleQueue
from voxdesk.audio.tempo import SPEED_DEFAULT, TimeStretch, validate_speed

log = logging.getLogger(__name__)

# Runs of output kept in the timeline (a callback adds one or two): a few seconds, far more
# than the device's latency it has to look back.
TIMELINE_LENGTH = 512
MIN_PULL = 256  # fewest model samples fed to the stretcher at once (its per-call cost)


class SpeedQueue:
    """``push`` from the producer thread, ``render`` from the audio callback; ``speed`` may be
    set from any thread (it is read at the next callback)."""

    def __init__(self, speed: float = SPEED_DEFAULT) -> None:
        self._speed = validate_speed(speed)
        self._source = SampleQueue()  # the model's samples, not yet stretched
        self._stretched = SampleQueue()  # stretched, not yet handed to the device
        self._stretch: TimeStretch | None = None
        self._failed = False
        self.reset(0)

    def reset(self, sample_rate: int) -> None:
        """Empty, for a new utterance at ``sample_rate`` (the speed is kept)."""
        self.sample_rate = sample_rate
        self._source.clear()
        self._stretched.clear()
        self._stretch = None
        # (first frame handed out, model frame there, model frames per frame handed out)
        self._timeline: collections.deque[tuple[int, float, float]] = collections.deque(
            maxlen=TIMELINE_LENGTH)
        self._handed = 0  # frames rendered so far
        self._ended = False  # no more samples will be pushed
        self.consumed = 0  # model frames taken from the queue so far
        self._emitted = 0.0  # model frames the rendered output stands for (less: the stretcher
        #                      holds a window of them)

    @property
    def speed(self) -> float:
        return self._speed

    @speed.setter
    def speed(self, speed: float) -> None:
        self._speed = validate_speed(speed)

    # -- producer side ----------------------------------------------------------------------

    def push(self, samples: np.ndarray) -> None:
        self._source.push(samples)

    def clear(self) -> None:
        self._source.clear()

    def end_of_input(self) -> None:
        """Nothing more will be pushed: the stretcher may give out what it still holds."""
        self._ended = True

    @property
    def queued_frames(self) -> float:
        """Model frames written and not yet handed to the device (in the queue, inside the
        stretcher, or stretched and waiting)."""
        return (len(self._source) + self.consumed - self._emitted
                + len(self._stretched) * self._speed)

    @property
    def unread_frames(self) -> int:
        """Model frames still in the queue, not yet taken by the stretcher."""
        return len(self._source)

    def source_frame_at(self, handed: int) -> float:
        """The model's frame that the ``handed``-th frame rendered came from."""
        timeline = tuple(self._timeline)
        for start, source, rate in reversed(timeline):
            if start <= handed:
                return source + (handed - start) * rate
        return timeline[0][1] if timeline else float(max(handed, 0))

    # -- audio callback side ------------------------------------------------------------------

    def render(self, out: np.ndarray) -> int:
        """Fill ``out`` with what comes next at the current speed; returns the frames written
        (fewer when the queue runs dry)."""
        speed = 1.0 if self._failed else self._speed
        stretch = self._stretch
        try:
            if stretch is not None and speed == 1.0:  # back to 1x: what it holds, then as is
                self._emit(stretch.flush(), exact=True)
                self._stretch = stretch = None
            if stretch is None and speed != 1.0:
                stretch = self._stretch = TimeStretch(self.sample_rate, speed)
            if stretch is not None:
                self._stretch_for(stretch, speed, out.shape[0])
        except Exception:  # an FFmpeg failure must not silence playback: go on at 1x
            log.exception("time-stretching failed; playing at normal speed")
            self._failed, self._stretch = True, None
        written = self._stretched.pop_into(out)
        if written < out.shape[0] and self._stretch is None:
            direct = self._source.pop_into(out[written:])
            if direct:
                self._note(direct, self.consumed, 1.0)
                self.consumed += direct
                self._emitted += direct
            written += direct
        return written

    def _stretch_for(self, stretch: TimeStretch, speed: float, frames: int) -> None:
        stretch.speed = speed
        while len(self._stretched) < frames:
            wanted = int((frames - len(self._stretched)) * speed) + 1
            source = self._source.pop(max(wanted, MIN_PULL))
            if source.size == 0:
                # At the end, what the stretcher still holds is heard. Not at an underrun: its
                # window (~40 ms) then waits for the next samples, since starting it afresh
                # after every late chunk would make each chunk's length off by up to 20 %.
                if self._ended and stretch.pending:
                    self._emit(stretch.flush(), exact=True)
                return
            self.consumed += source.size
            self._emit(stretch.process(source), speed)

    def _emit(self, samples: np.ndarray, speed: float = 1.0, exact: bool = False) -> None:
        """Stretched ``samples`` (at ``speed``) wait for the device; ``exact``: they are all the
        stretcher held, so the timeline catches up with the model frames consumed."""
        before = self._emitted
        after = float(self.consumed) if exact else min(before + samples.size * speed,
                                                       float(self.consumed))
        if samples.size:
            self._note(samples.size, before, (after - before) / samples.size)
            self._stretched.push(samples)
        self._emitted = after

    def _note(self, frames: int, source: float, rate: float) -> None:
        timeline = self._timeline
        if timeline:  # extend the last run rather than add one when it continues unchanged
            start, first, last_rate = timeline[-1]
            if last_rate == rate and abs(first + (self._handed - start) * rate - source) < 1:
                self._handed += frames
                return
        timeline.append((self._handed, source, rate))
        self._handed += frames
