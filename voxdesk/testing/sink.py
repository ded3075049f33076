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

    def __exit__(self, *exc: object) -> None:
        time.sleep(0.2)  # let the sink's last buffers reach the monitor
        assert self._proc is not None and self._path is not None
        self._proc.terminate()
        self._proc.wait(5)
        self.samples = np.fromfile(self._path, dtype="<f4")
        self._path.unlink()


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


def non_silent_span(samples: np.ndarray, threshold: float = 1e-3) -> tuple[int, int]:
    """First and one-past-last sample index louder than ``threshold`` (0, 0 if silent)."""
    loud = np.flatnonzero(np.abs(samples) > threshold)
    return (int(loud[0]), int(loud[-1]) + 1) if loud.size else (0, 0)
