"""The window: event-loop stalls while it speaks a long text, and Stop -> silence.

Drives the real :class:`voxdesk.gui.main_window.MainWindow` (offscreen when there is no display)
with the bench's engine: a periodic timer in its event loop measures how late each tick comes
(a stall is what a person feels as a frozen window), then the Stop button is clicked.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from typing import Any

from voxdesk.bench import texts
from voxdesk.bench.context import Bench
from voxdesk.bench.result import ScenarioResult
from voxdesk.bench.stats import summarize

TICK_MS = 10  # the probe timer's period
WATCH_S = 3.0  # how long stalls are measured while speaking...
MIN_CHUNKS = 2  # ...and at least this many chunks must be made meanwhile (slow models)
WATCH_MAX_S = 30.0


def gui_units(bench: Bench) -> int:
    return bench.runs(3)


@contextlib.contextmanager
def _private_user_folders() -> Iterator[None]:
    """The window reads settings and voice profiles: point it at empty folders, so the bench
    neither depends on nor touches the user's own."""
    names = ("VOXDESK_CONFIG_DIR", "VOXDESK_DATA_DIR")
    saved = {name: os.environ.get(name) for name in names}
    with tempfile.TemporaryDirectory(prefix="voxdesk-bench-gui-") as folder:
        for name in names:
            os.environ[name] = os.path.join(folder, name.lower())
        try:
            yield
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def _wait(condition: Callable[[], bool], timeout_s: float) -> bool:
    """Run the Qt event loop until ``condition()`` or the timeout."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    deadline = time.monotonic() + timeout_s
    poll = QTimer(interval=5)
    poll.timeout.connect(lambda: loop.quit() if condition() or time.monotonic() > deadline
                         else None)
    poll.start()
    loop.exec()
    poll.stop()
    return condition()


class _StallProbe:
    """A precise periodic timer; a tick later than its period means the event loop was busy."""

    def __init__(self) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.gaps: list[float] = []
        self._last = time.monotonic()
        self._timer = QTimer(interval=TICK_MS)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = time.monotonic()
        self.gaps.append(now - self._last)
        self._last = now

    def start(self) -> None:
        self._last = time.monotonic()
        self._timer.start()

    def stop(self) -> list[float]:
        self._timer.stop()
        return [max(0.0, gap - TICK_MS / 1000) for gap in self.gaps]


def gui(bench: Bench) -> ScenarioResult:
    result = ScenarioResult(
        "gui", "The window speaking a 10,000-character text: event-loop stalls (lateness of a "
        f"{TICK_MS} ms timer) while it synthesises, and Stop -> silence.",
        metrics=["stall_p50", "stall_p99", "stall_max", "stop_latency", "stop_heard",
                 "stop_to_idle", "first_audible_latency"])
    if not bench.options.audio:
        result.skipped = "the window always plays: run without --no-audio"
        return result
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    try:
        from voxdesk.gui.app import application
        from voxdesk.gui.main_window import MainWindow
        from voxdesk.settings import Settings
    except ImportError as exc:
        result.skipped = f"the window cannot be imported ({exc})"
        return result
    from voxdesk.testing.sink import SinkRecorder

    application()
    document = texts.document(10_000)
    with _private_user_folders():
        window = MainWindow(Settings(params=bench.params), engine=bench.engine)
        window.show()
        try:
            runs = bench.runs(3)
            for run in range(runs):
                bench.progress.step(f"gui: run {run + 1}/{runs}")
                recorder = SinkRecorder() if SinkRecorder.available() else None
                sample = _one_run(window, document, recorder)
                result.samples.append({"variant": "window", "run": run, **sample})
                bench.progress.advance()
        finally:
            window.shutdown()
            window.hide()
            window.deleteLater()
    all_stalls = [s for sample in result.samples for s in sample["stalls"]]
    pooled = summarize(all_stalls)
    if pooled:
        result.notes.append(
            f"all runs pooled: stall p50 {pooled['median'] * 1000:.1f} ms, p99 "
            f"{_p99(all_stalls) * 1000:.1f} ms, max {pooled['max'] * 1000:.1f} ms "
            f"over {len(all_stalls)} ticks")
    if not SinkRecorder.available():
        result.notes.append("stop_heard needs the test sink (VOXDESK_TEST_SINK): not measured")
    return result


def _p99(values: list[float]) -> float:
    from voxdesk.bench.stats import percentile

    return percentile(sorted(values), 99)


def _one_run(window: Any, document: str, recorder: Any) -> dict[str, Any]:
    chunks: list[object] = []
    window.controller.chunkReady.connect(chunks.append)
    window.editor.setPlainText(document)
    with recorder if recorder is not None else contextlib.nullcontext():
        pressed = time.monotonic()
        window.play_button.click()  # the play/pause toggle, idle: play
        def heard() -> bool:  # this utterance's first sample, not a former one's (player reused)
            player = window.controller.player
            audible = None if player is None else player.times.first_sample_audible
            return audible is not None and audible >= pressed

        if not _wait(heard, 600):
            raise RuntimeError("the window never started speaking")
        player = window.controller.player
        # Read now: the next utterance clears the player's times.
        first_audible = player.times.first_sample_audible - pressed
        probe = _StallProbe()
        probe.start()
        watch_from, chunks_before = time.monotonic(), len(chunks)
        _wait(lambda: time.monotonic() - watch_from >= WATCH_S
              and len(chunks) - chunks_before >= MIN_CHUNKS, WATCH_MAX_S)
        stalls = probe.stop()
        chunks_watched = len(chunks) - chunks_before
        speaking = window.controller.speaking
        recorded_at_click = recorder._path.stat().st_size // 4 if recorder is not None else None
        clicked = time.monotonic()
        window.stop_button.click()
        stopped_at = player.times.finished
        _wait(lambda: not window.controller.speaking, 600)
        idle_at = time.monotonic()
        time.sleep(0.3)  # let the monitor see whatever still came out
    window.controller.chunkReady.disconnect(chunks.append)
    stop_heard = None
    if recorder is not None and recorded_at_click is not None:
        from voxdesk.testing.sink import non_silent_span

        _, end = non_silent_span(recorder.samples)
        stop_heard = max(0.0, (end - recorded_at_click) / recorder.rate)
    ordered = sorted(stalls)
    stats = summarize(stalls)
    return {
        "speaking_while_measured": speaking,
        "chunks_while_measured": chunks_watched,
        "ticks": len(stalls),
        "stall_p50": None if stats is None else stats["median"],
        "stall_p99": None if not ordered else _p99(ordered),
        "stall_max": None if stats is None else stats["max"],
        "stop_latency": None if stopped_at is None else max(0.0, stopped_at - clicked),
        "stop_heard": stop_heard,
        "stop_to_idle": idle_at - clicked,
        "first_audible_latency": first_audible,
        "stalls": stalls,
    }
