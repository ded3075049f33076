"""The window: event-loop stalls while speaking a long text, and Stop -> silence."""

from __future__ import annotations

from voxdesk.bench.context import Bench
from voxdesk.bench.result import ScenarioResult


def gui_units(bench: Bench) -> int:
    return 1


def gui(bench: Bench) -> ScenarioResult:
    result = ScenarioResult("gui", "Event-loop stalls in the window while speaking, and stop "
                            "latency.", metrics=[])
    result.skipped = "pending: the window (voxdesk.gui.main_window) does not exist yet"
    return result
