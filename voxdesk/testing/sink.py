"""Recording what reaches a PulseAudio sink, so tests can check what a person would hear.

Tests run with a null sink (see packaging/test-env.sh); its ``.monitor`` source carries exactly
what was played into it. :class:`SinkRecorder` runs ``parec`` on it and returns the samples.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

RATE = 48000


class SinkRecorder:
    """``with SinkRecorder() as rec: ...play...`` then ``rec.samples`` (float32 mono, 48 kHz)."""

    def __init__(self, sink: str | None = None, rate: int = RATE) -> None:
        self.sink = sink or os.environ.get("VOXDESK_TEST_SINK", "voxdesk_null")
        self.rate = rate
        self.samples = np.zeros(0, dtype=np.float32)
        self._proc: subprocess.Popen[bytes] | None = None
        self._path: Path | None = None

    @staticmethod
    def available() -> bool:
        return shutil.which("parec") is not None and bool(os.environ.get("VOXDESK_TEST_SINK"))

    def __enter__(self) -> SinkRecorder:
        fd, name = tempfile.mkstemp(suffix=".f32", prefix="voxdesk-sink-")
        self._path = Path(name)
        self._proc = subprocess.Popen(
            ["parec", "-d", f"{self.sink}.monitor", f"--rate={self.rate}", "--channels=1",
             "--format=float32le", "--raw", "--latency-msec=20"],
            stdout=fd, stderr=subprocess.DEVNULL,
        )
        os.close(fd)
        # Wait until the recorder is connected and delivering, so nothing played is missed.
        deadline = time.monotonic() + 5
        while self._path.stat().st_size == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        return self

    def so_far(self) -> np.ndarray:
        """What has been recorded until now, while recording."""
        assert self._path is not None
        return np.fromfile(self._path, dtype="<f4")

    def __exit__(self, *exc: object) -> None:
        assert self._proc is not None and self._path is not None
        self._wait_for_the_tail()
        self._proc.terminate()
        self._proc.wait(5)
        self.samples = np.fromfile(self._path, dtype="<f4")
        self._path.unlink()

    def _wait_for_the_tail(self, quiet_s: float = 0.3, longest_s: float = 3.0) -> None:
        """Keep recording until the monitor has carried ``quiet_s`` of pure silence: what was
        played last can still be in PortAudio's, ALSA's and the sink's buffers (longer on a
        busy machine), and a null sink's monitor gives exact zeros once nothing plays."""
        assert self._path is not None
        time.sleep(0.2)
        quiet = round(quiet_s * self.rate)
        deadline = time.monotonic() + longest_s
        while time.monotonic() < deadline:
            tail = self.so_far()[-quiet:]
            if tail.size == quiet and not np.any(tail):
                return
            time.sleep(0.05)


def normalized_cross_correlation(recorded: np.ndarray, reference: np.ndarray) -> tuple[float, int]:
    """Best normalised correlation of ``reference`` inside ``recorded`` and its offset.

    1.0 means the reference appears unchanged (up to gain) somewhere in the recording.
    """
    recorded = recorded.astype(np.float64)
    reference = reference.astype(np.float64)
    n = len(recorded) + len(reference)
    size = 1 << (n - 1).bit_length()
    corr = np.fft.irfft(np.fft.rfft(recorded, size) * np.conj(np.fft.rfft(reference, size)), size)
    corr = corr[: len(recorded) - len(reference) + 1] if len(recorded) >= len(reference) else corr
    offset = int(np.argmax(corr))
    window = recorded[offset : offset + len(reference)]
    denom = np.linalg.norm(window) * np.linalg.norm(reference[: len(window)])
    return (float(corr[offset] / denom) if denom else 0.0), offset


def _normalized_correlations(recorded: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Normalised correlation of ``reference`` with every window of ``recorded``."""
    recorded = recorded.astype(np.float64)
    reference = reference.astype(np.float64)
    windows = len(recorded) - len(reference) + 1
    if windows <= 0:
        return np.zeros(0)
    size = 1 << (len(recorded) + len(reference) - 1).bit_length()
    corr = np.fft.irfft(np.fft.rfft(recorded, size) * np.conj(np.fft.rfft(reference, size)), size)
    energy = np.concatenate([[0.0], np.cumsum(recorded**2)])
    window_norms = np.sqrt(np.maximum(energy[len(reference):] - energy[:windows], 1e-12))
    return corr[:windows] / (window_norms * max(np.linalg.norm(reference), 1e-12))


def find_pieces_in_order(
    recorded: np.ndarray, expected: np.ndarray, piece: int = 7680, threshold: float = 0.9
) -> list[float]:
    """Correlation of each ``piece``-sample slice of ``expected`` found in ``recorded``, in order.

    Playback may legitimately pause between chunks (an underrun when synthesis is slower than
    real time inserts silence), which shifts everything after it; matching piece by piece, each
    at its earliest good match after the previous one, checks that every chunk was heard, intact
    and in order. (Earliest, not best: random-weight models repeat similar chunks.) Pieces of
    pure silence (the pause between sentences) have no shape to find and are passed over.
    """
    scores: list[float] = []
    start = 0
    for begin in range(0, len(expected) - piece + 1, piece):
        if not np.any(expected[begin : begin + piece]):
            continue
        correlations = _normalized_correlations(recorded[start:], expected[begin : begin + piece])
        if correlations.size == 0:
            scores.append(0.0)
            continue
        good = np.flatnonzero(correlations > threshold)
        if good.size:  # the peak right after the first crossing, not the crossing itself
            first = int(good[0])
            offset = first + int(np.argmax(correlations[first : first + piece // 2]))
        else:
            offset = int(np.argmax(correlations))
        scores.append(float(correlations[offset]))
        start += offset + piece
    return scores


def non_silent_span(samples: np.ndarray, threshold: float = 1e-3) -> tuple[int, int]:
    """First and one-past-last sample index louder than ``threshold`` (0, 0 if silent)."""
    loud = np.flatnonzero(np.abs(samples) > threshold)
    return (int(loud[0]), int(loud[-1]) + 1) if loud.size else (0, 0)


@dataclass
class Hearing:
    """What a sink carried, compared sample by sample with what was played (:func:`compare_heard`)."""

    losses: list[tuple[int, int]]  # (sample of the played audio where a loss began, samples lost)
    garbled_at: int | None  # first played sample not found intact after it, if any


def zero_runs(samples: np.ndarray) -> list[tuple[int, int]]:
    """Each run of exact zeros in ``samples``: (first index, one past the last)."""
    silent = np.concatenate([[False], samples == 0, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(silent))
    return [(int(begin), int(end)) for begin, end in zip(edges[::2], edges[1::2])]


def _without_silence(samples: np.ndarray, shortest: int) -> np.ndarray:
    """``samples`` with every run of ``shortest`` or more exact zeros taken out."""
    keep = np.ones(samples.size, dtype=bool)
    for begin, end in zero_runs(samples):
        if end - begin >= shortest:
            keep[begin:end] = False
    return samples[keep]


def _first_exact_match(needle: np.ndarray, haystack: np.ndarray, tolerance: float) -> int | None:
    """Where ``needle`` first appears in ``haystack`` within ``tolerance`` per sample."""
    if haystack.size < needle.size:
        return None
    windows = np.lib.stride_tricks.sliding_window_view(haystack, needle.size)
    found = np.flatnonzero(np.max(np.abs(windows - needle), axis=1) <= tolerance)
    return int(found[0]) if found.size else None


def compare_heard(recorded: np.ndarray, expected: np.ndarray, tolerance: float = 2e-3,
                  shortest_silence: int = 48, probe: int = 64) -> Hearing:
    """Compare what the sink carried with what was played, sample by sample.

    Silence is taken out of both first: a pause (an underrun, or the sink's own silence before
    and after) inserts exact zeros, which only delay what follows; model audio never holds
    ``shortest_silence`` exact zeros in a row. What is left must then be ``expected`` itself
    (to the sink's 16-bit rounding), except where samples went missing: each loss is found
    by where the recording picks up again. Unlike correlation, this cannot be fooled by the
    random test model's self-similar noise, and it counts every lost sample.
    """
    heard = _without_silence(recorded.astype(np.float64), shortest_silence)
    played = _without_silence(expected.astype(np.float64), shortest_silence)
    losses: list[tuple[int, int]] = []
    at_heard = at_played = 0
    while at_played < played.size:
        if at_heard + probe > heard.size:  # the recording ended first: the rest was lost
            if at_heard < heard.size and not np.allclose(
                    heard[at_heard:], played[at_played : at_played + heard.size - at_heard],
                    rtol=0, atol=tolerance):
                return Hearing(losses, at_played)
            at_played += heard.size - at_heard
            losses.append((at_played, played.size - at_played))
            break
        resume = _first_exact_match(heard[at_heard : at_heard + probe], played[at_played:],
                                    tolerance)
        if resume is None:
            return Hearing(losses, at_played)
        if resume:
            losses.append((at_played, resume))
            at_played += resume
        span = min(heard.size - at_heard, played.size - at_played)
        wrong = np.flatnonzero(np.abs(heard[at_heard : at_heard + span]
                                      - played[at_played : at_played + span]) > tolerance)
        step = int(wrong[0]) if wrong.size else span
        at_heard += step
        at_played += step
    garbled = at_played if at_heard < heard.size else None  # audio after the end: not ours
    return Hearing(losses, garbled)
