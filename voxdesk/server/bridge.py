"""Running the engine's blocking stream from asyncio, and admitting requests one at a time.

The engine generates on one model, one request at a time; the event loop must never block on
it. Each stream is iterated on its own thread and its chunks handed to the loop; when the client
goes away, the async consumer is cancelled and the stream is cancelled with it - generation
stops before the next model step. A small waiting room bounds the queue: past it, requests get
503 + Retry-After at once instead of hanging.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator

import numpy as np

from voxdesk.engine import SynthesisStream

_END = object()


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


async def stream_chunks(stream: SynthesisStream) -> AsyncIterator[np.ndarray]:
    """Yield the stream's samples on the event loop while the model runs on a thread."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[object] = asyncio.Queue()

    def hand_over(item: object) -> bool:
        try:
            loop.call_soon_threadsafe(queue.put_nowait, item)
            return True
        except RuntimeError:  # the loop is closed (the server stopped): nobody is listening
            stream.cancel()
            return False

    def produce() -> None:
        try:
            for chunk in stream:
                if not hand_over(chunk.samples):
                    break  # leaving the loop closes the stream, which frees the model
            else:
                hand_over(_END)
        except BaseException as exc:  # handed to the consumer, raised there
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
    finally:
        stream.cancel()  # client gone or error: stop the model before its next step
