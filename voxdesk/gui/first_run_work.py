"""The first-run dialog's background work: hardware detection and downloads (one at a time), and
the speed measurement in a child process, on lanes of the window's task runner."""

from __future__ import annotations

import json
import subprocess
import sys
import threading

from PySide6.QtCore import QObject, Signal

from voxdesk import models
from voxdesk.gui.errors import describe
from voxdesk.gui.tasks import TaskRunner
from voxdesk.models import hardware, measured

#: The task runner's lanes: downloads (after hardware detection) one at a time, and the speed
#: measurement beside them.
LANE = "first-run"
MEASURE_LANE = "first-run-measure"


class DownloadWorker(QObject):
    """Hardware detection, then downloads, run on the :data:`LANE` lane. It lives on the GUI
    thread and its signals are emitted from the lane: Qt queues them to the dialog, and drops
    them once the dialog is gone (a callback could reach a deleted dialog)."""

    hardwareReady = Signal(object)  # hardware.HardwareInfo
    progress = Signal(object)  # DownloadProgress
    finished = Signal(str)  # the model's catalogue name
    failed = Signal(str, str, str)  # message, hint, kind: "cancelled", "network" or "error"

    def detect(self) -> None:
        self.hardwareReady.emit(hardware.detect())

    def download(self, name: str, cancel: threading.Event) -> None:
        try:
            models.download(name, progress=self.progress.emit, cancel=cancel)
        except models.DownloadCancelled as exc:
            self.failed.emit(exc.message, exc.hint, "cancelled")
        except models.NetworkError as exc:
            self.failed.emit(exc.message, exc.hint, "network")
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message, not a crash
            self.failed.emit(*describe(exc), "error")
        else:
            self.finished.emit(name)


class SpeedMeasurer(QObject):
    """Measures models one by one in a child process (python -m voxdesk.models.measured), on
    the task runner's :data:`MEASURE_LANE`: the window never waits, and :meth:`skip` ends it at
    once. Its signals are queued to the GUI thread."""

    started = Signal(str)  # model
    measured = Signal(object)  # measured.Measurement
    failed = Signal(str, str)  # model, message
    done = Signal(bool)  # True: every model measured; False: skipped or failed

    def __init__(self, names: list[str], extra_args: tuple[str, ...] = (),
                 tasks: TaskRunner | None = None) -> None:
        super().__init__()
        self.names = names
        self.extra_args = extra_args
        self.tasks = tasks if tasks is not None else TaskRunner(self)
        self._process: subprocess.Popen[str] | None = None
        self._skipped = threading.Event()
        # Skip and starting the next process take turns: a Skip between the check and the
        # start would otherwise let that model's measurement run to its end.
        self._spawn_lock = threading.Lock()
        self._started = False
        self._finished = threading.Event()

    def start(self) -> None:
        self._started = True
        self.tasks.run(self._run_to_end, lane=MEASURE_LANE)

    def running(self) -> bool:
        return self._started and not self._finished.is_set()

    def skip(self) -> None:
        with self._spawn_lock:
            self._skipped.set()
            process = self._process
        if process is not None and process.poll() is None:
            process.terminate()

    def wait(self, timeout: float) -> bool:
        if self._started:
            self._finished.wait(timeout)
        return not self.running()

    def _run_to_end(self) -> None:
        try:
            self._run()
        finally:
            self._finished.set()

    def _run(self) -> None:
        complete = True
        for name in self.names:
            with self._spawn_lock:
                if self._skipped.is_set():
                    complete = False
                    break
                self._process = subprocess.Popen(
                    [sys.executable, "-m", "voxdesk.models.measured", name, *self.extra_args],
                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                    text=True)
            self.started.emit(name)
            result = None
            assert self._process.stdout is not None
            for line in self._process.stdout:
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if event.get("event") == "result":
                    result = measured.Measurement.from_dict(event)
                elif event.get("event") == "error":
                    self.failed.emit(name, str(event.get("message")))
            self._process.wait()
            if result is not None:
                self.measured.emit(result)
            else:
                complete = False
                if not self._skipped.is_set() and self._process.returncode not in (0, 1):
                    self.failed.emit(name, f"the measurement ended with code "
                                           f"{self._process.returncode}")
        self.done.emit(complete and not self._skipped.is_set())
