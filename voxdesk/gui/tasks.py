"""Background work with its outcome delivered on the GUI thread (after MusicBrainz Picard's
``run_task``): the one way VoxDesk's GUI runs anything slow.

``runner.run(work, on_done, on_error, lane="speech")`` calls ``work()`` on a thread and then
``on_done(result)`` - or ``on_error(exception)`` - on the thread that owns ``runner`` (the GUI
thread). Tasks on one *lane* run one after the other on that lane's own thread (the speaking
loop, the export, the model loader, the API's start/stop); a task without a lane gets a thread
of its own. Stopping work that is under way is the work's own business (a thread-safe cancel):
a queued call could not reach a thread busy inside the model.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)

Done = Callable[[Any], None]
Failed = Callable[[BaseException], None]
_STOP = object()


class _Lane:
    """One thread running its tasks in order."""

    def __init__(self, name: str) -> None:
        self.tasks: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._loop, name=f"voxdesk-{name}", daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while True:
            task = self.tasks.get()
            if task is _STOP:
                return
            task()


class TaskRunner(QObject):
    """Runs callables off the GUI thread and hands their outcome back to it."""

    _outcome = Signal(object, object)  # callback, argument (queued onto the owner's thread)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lanes: dict[str, _Lane] = {}
        self._closed = False
        self._outcome.connect(self._deliver)

    def run(self, work: Callable[[], Any], on_done: Done | None = None,
            on_error: Failed | None = None, lane: str | None = None) -> None:
        """Run ``work`` on ``lane``'s thread (or a new one); its result or exception goes to
        ``on_done`` / ``on_error`` on this object's thread. An exception nobody handles is
        logged, never lost."""
        if self._closed:
            return

        def task() -> None:
            try:
                result = work()
            except Exception as exc:  # noqa: BLE001 - handed to on_error, or logged
                if on_error is None:
                    log.error("background task failed", exc_info=exc)
                else:
                    self._post(on_error, exc)
                return
            if on_done is not None:
                self._post(on_done, result)

        if lane is None:
            threading.Thread(target=task, name="voxdesk-task", daemon=True).start()
            return
        if lane not in self._lanes:
            self._lanes[lane] = _Lane(lane)
        self._lanes[lane].tasks.put(task)

    def _post(self, callback: Callable[[Any], None], argument: object) -> None:
        try:
            self._outcome.emit(callback, argument)
        except RuntimeError:  # the owner is gone (window closed): nobody to tell
            pass

    def _deliver(self, callback: Callable[[Any], None], argument: object) -> None:
        if not self._closed:
            callback(argument)

    def busy(self, lane: str) -> bool:
        return lane in self._lanes and self._lanes[lane].thread.is_alive()

    def shutdown(self, timeout_s: float = 3.0, lanes: tuple[str, ...] | None = None) -> bool:
        """Let each lane finish what it runs, then end its thread; False if one did not end
        within ``timeout_s`` (it is a daemon thread: it cannot keep the process alive)."""
        if lanes is None:
            self._closed = True
        clean = True
        for name, lane in list(self._lanes.items()):
            if lanes is not None and name not in lanes:
                continue
            lane.tasks.put(_STOP)
            lane.thread.join(timeout_s)
            if lane.thread.is_alive():
                clean = False
            else:
                del self._lanes[name]
        return clean
