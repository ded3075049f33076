"""The benchmark scenarios, by name, in the order `voxdesk bench all` runs them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from voxdesk.bench.context import Bench
from voxdesk.bench.result import ScenarioResult
from voxdesk.bench.scenarios import (
    busy,
    comparison,
    documents,
    export,
    gui,
    latency,
    realtime,
    server,
    speed,
)


@dataclass(frozen=True)
class Scenario:
    name: str
    units: Callable[[Bench], int]  # measured calls, for the progress bar
    run: Callable[[Bench], ScenarioResult]
    #: False: measures a server process with its own model (run alone, not in `all`).
    in_process: bool = True


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario("quick", latency.quick_units, latency.quick),
        Scenario("compare", comparison.compare_units, comparison.compare),
        Scenario("repeat", latency.repeat_units, latency.repeat),
        Scenario("overhead", comparison.overhead_units, comparison.overhead),
        Scenario("long-text", latency.long_text_units, latency.long_text),
        Scenario("voice-cache", latency.voice_cache_units, latency.voice_cache),
        Scenario("guard", realtime.guard_units, realtime.guard),
        Scenario("gui", gui.gui_units, gui.gui),
        Scenario(server.NAME, lambda bench: 0, server.in_process, in_process=False),
        Scenario("export", export.export_units, export.export),
        Scenario("speed", speed.speed_units, speed.speed),
        Scenario("document", documents.document_units, documents.document),
        Scenario("busy", busy.busy_units, busy.busy),
    )
}
