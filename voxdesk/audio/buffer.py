"""A thread-safe FIFO of audio samples between the synthesis thread and the audio callback."""

from __future__ import annotations

import collections
import threading

import numpy as np


class SampleQueue:
    """Float32 mono samples in, fixed-size blocks out.

    ``push`` is called from the synthesis thread, ``pop_into`` from the PortAudio callback, which
    must never block for long: the lock only guards deque operations and a copy.
    """

    def __init__(self) -> None:
        self._chunks: collections.deque[np.ndarray] = collections.deque()
        self._offset = 0  # samples of _chunks[0] already consumed
        self._available = 0
        self._lock = threading.Lock()

    def push(self, samples: np.ndarray) -> None:
        samples = np.ascontiguousarray(samples, dtype=np.float32).reshape(-1)
        if samples.size == 0:
            return
        with self._lock:
            self._chunks.append(samples)
            self._available += samples.size

    def pop_into(self, out: np.ndarray) -> int:
        """Fill ``out`` from the front of the queue; returns how many samples were written."""
        wanted = out.shape[0]
        written = 0
        with self._lock:
            while written < wanted and self._chunks:
                head = self._chunks[0]
                take = min(wanted - written, head.size - self._offset)
                out[written : written + take] = head[self._offset : self._offset + take]
                written += take
                self._offset += take
                if self._offset == head.size:
                    self._chunks.popleft()
                    self._offset = 0
            self._available -= written
        return written

    def pop(self, count: int) -> np.ndarray:
        """Up to ``count`` samples from the front of the queue (fewer if it holds fewer)."""
        out = np.empty(max(0, min(count, self._available)), dtype=np.float32)
        return out[: self.pop_into(out)]

    def clear(self) -> None:
        with self._lock:
            self._chunks.clear()
            self._offset = 0
            self._available = 0

    def __len__(self) -> int:
        return self._available
