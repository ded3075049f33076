"""Faster or slower speech at the same pitch: FFmpeg's ``atempo`` filter, through PyAV.

``atempo`` is a WSOLA time-stretcher made for speech (it keeps the pitch and the voice's
timbre, and is cheap: well under 1 % of a core at 48 kHz). It works on a stream: samples go in
as they come and come out as soon as it has a window's worth (about 50 ms of input), so a
:class:`TimeStretch` can sit between the engine and the sound device. Its speed can change
between two :meth:`TimeStretch.process` calls without starting again (the filter's ``tempo``
command), which is how a change while speaking is heard at once.

FFmpeg 4.1 and later accept 0.5-100 per ``atempo`` instance (older ones 0.5-2): the speed is
split over as many chained instances as the linked FFmpeg needs for :data:`SPEED_MAX`.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import AsyncIterator, Iterable, Iterator
from fractions import Fraction
from typing import Any

import av
import av.filter
import numpy as np

from voxdesk.errors import InvalidRequestError

SPEED_MIN, SPEED_MAX, SPEED_STEP = 0.5, 3.0, 0.05
SPEED_DEFAULT = 1.0
#: Largest frame handed to the filter at once (about 20 ms at 48 kHz), see TimeStretch.process.
MAX_FRAME = 1024


def validate_speed(speed: float) -> float:
    """``speed`` as VoxDesk plays it: within 0.5-3, rounded to the nearest step of 0.05.

    Raises :class:`InvalidRequestError` for anything else (not a number, NaN, out of range)."""
    if isinstance(speed, bool) or not isinstance(speed, numbers.Real):
        raise InvalidRequestError(f"The speed {speed!r} is not a number.",
                                  f"Give a number from {SPEED_MIN} to {SPEED_MAX}, e.g. 1.5.")
    if not math.isfinite(speed) or not SPEED_MIN <= speed <= SPEED_MAX:
        raise InvalidRequestError(
            f"The speed {speed} is out of range.",
            f"Choose {SPEED_MIN}x to {SPEED_MAX}x (1 is the model's own pace).")
    return round(round(float(speed) / SPEED_STEP) * SPEED_STEP, 2)


def _instance_max() -> float:
    """The highest tempo one ``atempo`` instance accepts in the FFmpeg PyAV is linked to."""
    return 100.0 if av.library_versions.get("libavfilter", (0, 0)) >= (7, 40) else 2.0


class TimeStretch:
    """A streaming time-stretcher for float32 mono audio at ``sample_rate``.

    ``process(samples)`` returns the stretched audio available so far (possibly none: the filter
    needs about 50 ms of input before its first output); ``flush()`` returns the rest at the end
    of the input and makes the object ready for a new stream. ``speed`` may be set between calls.
    Not thread-safe: one thread feeds it.
    """

    def __init__(self, sample_rate: int, speed: float = SPEED_DEFAULT) -> None:
        if sample_rate <= 0:
            raise ValueError("sample_rate must be positive")
        self.sample_rate = sample_rate
        self._speed = validate_speed(speed)
        self._stages = max(1, math.ceil(math.log(SPEED_MAX) / math.log(_instance_max())))
        self._graph: av.filter.Graph | None = None
        self._source: Any = None  # av.filter.FilterContext once open
        self._sink: Any = None
        self._tempos: list[Any] = []
        self._pts = 0
        self.pending = 0  # input samples given since the last flush (0: nothing inside)

    @property
    def speed(self) -> float:
        return self._speed

    @speed.setter
    def speed(self, speed: float) -> None:
        speed = validate_speed(speed)
        if speed == self._speed:
            return
        self._speed = speed
        for tempo in self._tempos:  # a running filter changes pace without losing its state
            tempo.process_command("tempo", self._stage_tempo())

    def _stage_tempo(self) -> str:
        return f"{self._speed ** (1 / self._stages):.6f}"

    def _open(self) -> None:
        graph = av.filter.Graph()
        rate = self.sample_rate
        self._source = graph.add_abuffer(format="flt", sample_rate=rate, layout="mono",
                                         time_base=Fraction(1, rate))
        self._tempos = [graph.add("atempo", f"tempo={self._stage_tempo()}")
                        for _ in range(self._stages)]
        self._sink = graph.add("abuffersink")
        chain = [self._source, *self._tempos, self._sink]
        for upstream, downstream in itertools.pairwise(chain):
            upstream.link_to(downstream)
        graph.configure()
        self._graph, self._pts = graph, 0

    def process(self, samples: np.ndarray) -> np.ndarray:
        samples = np.ascontiguousarray(samples, dtype=np.float32).reshape(-1)
        if samples.size == 0:
            return np.zeros(0, dtype=np.float32)
        if self._graph is None:
            self._open()
        parts = []
        # atempo sends its output on in frames as long as the input frames (scaled): small
        # frames keep its latency at its window, not at the size of what it is given.
        for start in range(0, samples.size, MAX_FRAME):
            piece = samples[start : start + MAX_FRAME]
            frame = av.AudioFrame.from_ndarray(piece.reshape(1, -1), format="flt", layout="mono")
            frame.sample_rate = self.sample_rate
            frame.pts = self._pts
            frame.time_base = Fraction(1, self.sample_rate)
            self._pts += piece.size
            self.pending += piece.size
            self._source.push(frame)
            parts.append(self._pull())
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def flush(self) -> np.ndarray:
        """What is still inside, at the end of the input; the next ``process`` starts afresh."""
        if self._graph is None:
            return np.zeros(0, dtype=np.float32)
        self._source.push(None)
        rest = self._pull()
        self.reset()
        return rest

    def reset(self) -> None:
        """Drop what is inside (after a stop) without producing it."""
        self._graph = self._source = self._sink = None
        self._tempos = []
        self.pending = 0

    def _pull(self) -> np.ndarray:
        parts = []
        while True:
            try:
                frame = self._sink.pull()
            except (av.BlockingIOError, av.EOFError):
                break
            parts.append(frame.to_ndarray().reshape(-1))
        if not parts:
            return np.zeros(0, dtype=np.float32)
        return np.concatenate(parts).astype(np.float32, copy=False)


def stretch_chunks(chunks: Iterable[np.ndarray], sample_rate: int, speed: float
                   ) -> Iterator[np.ndarray]:
    """The audio of ``chunks`` at ``speed`` (the chunks themselves at 1x), as it comes."""
    speed = validate_speed(speed)
    if speed == 1.0:
        yield from chunks
        return
    stretch = TimeStretch(sample_rate, speed)
    for samples in chunks:
        out = stretch.process(samples)
        if out.size:
            yield out
    rest = stretch.flush()
    if rest.size:
        yield rest


async def stretch_async_chunks(chunks: AsyncIterator[np.ndarray], sample_rate: int,
                               speed: float) -> AsyncIterator[np.ndarray]:
    """:func:`stretch_chunks` for an asynchronous stream (the HTTP server's). Stretching costs
    well under a millisecond per chunk, so it runs on the event loop itself."""
    speed = validate_speed(speed)
    stretch = TimeStretch(sample_rate, speed) if speed != 1.0 else None
    async for samples in chunks:
        out = samples if stretch is None else stretch.process(samples)
        if out.size:
            yield out
    if stretch is not None:
        rest = stretch.flush()
        if rest.size:
            yield rest
