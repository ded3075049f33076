"""The one inter-process file lock (the ``filelock`` package: flock on Unix, msvcrt on
Windows), for the voice store's changes and a model's download."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock, Timeout


class LockBusy(Exception):
    """Another process holds the lock (raised only when not waiting for it)."""


@contextlib.contextmanager
def file_lock(path: Path, wait: bool = True) -> Iterator[None]:
    """Hold the lock file ``path`` (created if needed) while the block runs. With ``wait``
    False, raise :class:`LockBusy` at once when another process holds it. The lock goes with
    the process, should it die."""
    lock = FileLock(str(path), timeout=-1 if wait else 0)
    try:
        lock.acquire()
    except Timeout:
        raise LockBusy(str(path)) from None
    try:
        yield
    finally:
        lock.release()
