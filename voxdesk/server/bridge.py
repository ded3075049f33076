"""Running the engine's blocking stream from asyncio, and admitting requests one at a time.

The engine generates on one model, one request at a time; the event loop must never block on
it. Each stream is iterated on its own thread and its chunks handed to the loop; when the client
goes away, the async consumer is cancelled and the stream is cancelled with it - generation
stops before the next model step. A small waiting room bounds the queue: past it, requests get
503 + Retry-After at once instead of hanging.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import numpy as np

from voxdesk.engine import SynthesisStream
from voxdesk.errors import as_voxdesk_error

log = logging.getLogger(__name__)

_END = object()
AHEAD_CHUNKS = 2  # model steps generated ahead of what the client has taken
STALL_TIMEOUT_S = 30.0
STALL_WHILE_OTHERS_WAIT_S = 1.0


class Busy(Exception):
    """The waiting room is full."""


class Admission:
    """At most one request generating and ``max_waiting`` waiting."""

    def __init__(self, max_waiting: int) -> None:
        self.max_waiting = max_waiting
        self._admitted = 0
        self._lock = threading.Lock()

    def enter(self) -> None:
        with self._lock:
            if self._admitted >= 1 + self.max_waiting:
                raise Busy
            self._admitted += 1

    def leave(self) -> None:
        with self._lock:
            self._admitted -= 1

    @property
    def admitted(self) -> int:
        return self._admitted


class ClientGone(Exception):
    """The client of a complete-file route went away before its audio was ready."""


async def stream_chunks(stream: SynthesisStream,
                        others_waiting: Callable[[], bool] = lambda: False
                        ) -> AsyncIterator[np.ndarray]:
    """Yield the stream's samples on the event loop while the model runs on a thread.

    The model runs at most AHEAD_CHUNKS chunks ahead of the consumer: a client that stops
    reading without closing its connection (its socket buffers full, every send waiting)
    would otherwise keep the model generating into memory. One that takes nothing for
    STALL_TIMEOUT_S - or for STALL_WHILE_OTHERS_WAIT_S while other requests wait for the
    model - is cancelled, which frees the model for them.

    A failure that is not a VoxDeskError (a bug, a library's error) is raised as a
    SynthesisError, so every caller answers it like any other synthesis error."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[object] = asyncio.Queue()
    room = threading.Semaphore(AHEAD_CHUNKS)
    gone = threading.Event()  # the consumer has stopped

    def hand_over(item: object) -> bool:
        try:
            loop.call_soon_threadsafe(queue.put_nowait, item)
            return True
        except RuntimeError:  # the loop is closed (the server stopped): nobody is listening
            stream.cancel()
            return False

    def wait_for_room() -> bool:
        since = time.monotonic()
        while not room.acquire(timeout=0.05):
            if gone.is_set() or stream.cancelled:
                return False
            stalled = time.monotonic() - since
            if stalled > STALL_TIMEOUT_S or (stalled > STALL_WHILE_OTHERS_WAIT_S
                                             and others_waiting()):
                log.info("The client stopped reading for %.1f s: generation cancelled", stalled)
                stream.cancel()
                return False
        return True

    def produce() -> None:
        try:
            for chunk in stream:
                if not wait_for_room() or not hand_over(chunk.samples):
                    break  # leaving the loop closes the stream, which frees the model
            else:
                hand_over(_END)
        except Exception as exc:  # noqa: BLE001 - handed to the consumer, raised there
            hand_over(as_voxdesk_error(exc))
        except BaseException as exc:  # noqa: BLE001 - (KeyboardInterrupt...) raised there too
            hand_over(exc)

    thread = threading.Thread(target=produce, name="voxdesk-http-synthesis", daemon=True)
    thread.start()
    try:
        while True:
            item = await queue.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
            room.release()  # the consumer has dealt with it (sent it): one more may come
    finally:
        gone.set()
        stream.cancel()  # client gone or error: stop the model before its next step


async def collect_chunks(chunks: AsyncIterator[np.ndarray],
                         disconnected: Callable[[], Awaitable[bool]]) -> np.ndarray:
    """All of ``chunks`` as one array; raises ClientGone (and so stops the model before its
    next step) when ``disconnected()`` says the client has gone meanwhile."""
    parts = []
    async with contextlib.aclosing(chunks) as each:  # type: ignore[type-var]
        async for samples in each:
            if await disconnected():
                raise ClientGone
            parts.append(samples)
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
