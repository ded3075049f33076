"""The controller's exports: the current text to a WAV, or a book (chapters to an M4B or a
file each), on the task runner's "export" lane, and their cancel. A part of
:class:`~voxdesk.gui.controller.SpeechController`, kept in its own module; it emits the
controller's signals."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from voxdesk.audiobook.export import (
    AudiobookExport,
    AudiobookJob,
    AudiobookResult,
    ExportProgress,
)
from voxdesk.engine import Engine, SynthesisParams, SynthesisRequest
from voxdesk.errors import VoxDeskError


class _ExportCancelled(Exception):
    """Raised from an audiobook export's progress callback when Cancel was pressed."""


class ExportControl:
    """Mixed into the controller, which provides these attributes and signals."""

    engine: Engine | None
    exporter: Any  # the ExportWorker
    tasks: Any  # the TaskRunner
    _exporting: bool
    _book_cancel: threading.Event | None
    failed: Any
    bookProgress: Any
    exportFinished: Any
    exportEnded: Any

    if TYPE_CHECKING:  # the controller's
        def request(self, text: str, params: SynthesisParams | None = None
                    ) -> SynthesisRequest: ...
        def _update_state(self) -> None: ...

    def export(self, text: str, path: str | Path) -> bool:
        """Export ``text`` in the current voice and settings to a WAV, in the background."""
        if self._exporting:
            return False
        try:
            request = self.request(text)
        except VoxDeskError as exc:
            self.failed.emit(exc.message, exc.hint)
            return False
        engine = self.engine
        if engine is None:
            self.failed.emit("No model is loaded.", "Wait for it to load, or choose a model "
                             "folder with File > Load model…")
            return False
        self._exporting = True
        self._update_state()
        epoch = self.exporter.epoch
        self.tasks.run(lambda: self.exporter.export(engine, request, str(path), epoch),
                       lane="export")
        return True

    def export_book(self, job: AudiobookJob) -> bool:
        """Export ``job`` (chapters to an M4B or a file each) on the "export" lane; progress
        as :attr:`bookProgress`. Cancel stops it; the same export again continues from the
        chapters already finished (the work folder)."""
        engine = self.engine
        if self._exporting or engine is None:
            if engine is None:
                self.failed.emit("No model is loaded.", "Wait for it to load.")
            return False
        cancel = self._book_cancel = threading.Event()

        def progress(p: ExportProgress) -> None:
            if cancel.is_set():  # raised inside the export: it stops between two chunks
                raise _ExportCancelled
            self.bookProgress.emit(p)

        def work() -> AudiobookResult:
            return AudiobookExport(engine, job, False, progress).run()

        def done(result: AudiobookResult) -> None:
            seconds = result.chapters[-1].end if result.chapters else 0.0
            self._on_export_finished(str(result.paths[0] if len(result.paths) == 1
                                         else result.paths[0].parent), seconds)

        def failed(exc: BaseException) -> None:
            if isinstance(exc, _ExportCancelled):
                self._end_export("cancelled")
            elif isinstance(exc, VoxDeskError):
                self._on_export_error(exc.message, exc.hint or "")
            else:
                self._on_export_error(f"The export failed: {exc}", "")

        self._exporting = True
        self._update_state()
        self.tasks.run(work, done, failed, lane="export")
        return True

    def cancel_export(self) -> None:
        self.exporter.cancel()
        if self._book_cancel is not None:
            self._book_cancel.set()

    def _on_export_finished(self, path: str, seconds: float) -> None:
        self.exportFinished.emit(path, seconds)
        self._end_export("finished")

    def _on_export_error(self, message: str, hint: str) -> None:
        self.failed.emit(message, hint)
        self._end_export("failed")

    def _end_export(self, outcome: str) -> None:
        self._exporting = False
        self._update_state()
        self.exportEnded.emit(outcome)
