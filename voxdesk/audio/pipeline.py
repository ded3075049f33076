"""Encoding on its own thread, so that it overlaps synthesis instead of adding to it.

The model generates on the caller's thread; each chunk is handed to a bounded queue and a
worker thread transforms (a speed change, once voxdesk.audio.tempo exists) and encodes it. The
queue is bounded, so a slow disk holds the model back rather than filling memory. An error on
the worker (a full disk) is raised in the caller at its next ``put`` or at ``finish``.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Protocol

import numpy as np

_END = object()


class SampleTransform(Protocol):
    """What sits between the model and the encoder: voxdesk.audio.tempo.TimeStretch has this
    shape (``process`` each chunk, ``flush`` the rest at the end)."""

    def process(self, samples: np.ndarray) -> np.ndarray: ...
    def flush(self) -> np.ndarray: ...


class EncodeThread:
    """``put(samples)`` from the synthesis loop; ``finish()`` waits for the last write."""

    def __init__(self, write: Callable[[np.ndarray], None],
                 transform: SampleTransform | None = None, max_chunks: int = 64,
                 block_samples: int = 0) -> None:
        self._write = write
        self._transform = transform
        #: Samples gathered before each write (0: every chunk as it comes). Each write is a
        #: round of Python calls into the codec, each taking the GIL from the synthesis thread:
        #: a file, which no one hears until it is done, is better written in big blocks.
        self._block = block_samples
        self._pending: list[np.ndarray] = []
        self._pending_samples = 0
        self._queue: queue.Queue[object] = queue.Queue(max_chunks)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="voxdesk-encoder", daemon=True)
        self._thread.start()

    def put(self, samples: np.ndarray) -> None:
        self._raise_if_failed()
        while True:  # never block forever on a worker that died with the queue full
            try:
                self._queue.put(samples, timeout=0.5)
                return
            except queue.Full:
                self._raise_if_failed()

    def finish(self) -> None:
        """Flush the transform, wait until everything is written; raise the worker's error."""
        self._queue.put(_END)
        self._thread.join()
        self._raise_if_failed()

    def abort(self) -> None:
        """Stop without writing what is still queued (the output is being thrown away)."""
        self._error = self._error or _Aborted()
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        self._queue.put(_END)
        self._thread.join()

    def _raise_if_failed(self) -> None:
        if self._error is not None and not isinstance(self._error, _Aborted):
            raise self._error

    def _run(self) -> None:
        try:
            while True:
                item = self._queue.get()
                if self._error is not None:
                    if item is _END:
                        return
                    continue  # failed or aborted: drain until the end marker
                if item is _END:
                    if self._transform is not None:
                        self._gather(self._transform.flush())
                    self._write_pending()
                    return
                samples = item if self._transform is None else self._transform.process(item)
                self._gather(samples)  # type: ignore[arg-type]
                if self._pending_samples >= self._block:
                    self._write_pending()
        except BaseException as exc:
            self._error = exc
            while True:  # let a blocked put() go on (it sees the error next)
                try:
                    if self._queue.get(timeout=5) is _END:
                        return
                except queue.Empty:
                    return

    def _gather(self, samples: np.ndarray) -> None:
        if samples.size:
            self._pending.append(samples)
            self._pending_samples += samples.size

    def _write_pending(self) -> None:
        if not self._pending:
            return
        block = self._pending[0] if len(self._pending) == 1 else np.concatenate(self._pending)
        self._pending, self._pending_samples = [], 0
        self._write(block)


class _Aborted(Exception):
    pass
