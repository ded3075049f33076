"""The real-time guard on and off: gaps inside sentences (seams) when synthesis is too slow."""

from __future__ import annotations

from voxdesk.bench import texts
from voxdesk.bench.context import Bench
from voxdesk.bench.measure import speak
from voxdesk.bench.result import ScenarioResult
from voxdesk.engine.realtime_guard import (
    DEFAULT_MIN_STEPS,
    RealtimeGuard,
    RealtimePolicy,
    SpeedModel,
)

GUARD_METRICS = ["seams", "underruns", "gap_s", "first_audible_latency", "playback_time",
                 "audio_duration", "total_time", "rtf", "timesteps", "holds", "held_s"]


def guard_units(bench: Bench) -> int:
    return 3 * bench.runs(1)


def guard(bench: Bench) -> ScenarioResult:
    result = ScenarioResult(
        "guard", "A three-sentence text heard through the player with the real-time guard off, "
        "on (holds a sentence back until it can play through) and on with keep-real-time "
        "(also lowers inference timesteps). Each guard starts cold, as `voxdesk speak` does.",
        metrics=GUARD_METRICS)
    if not bench.options.audio:
        result.skipped = "needs the player: run without --no-audio"
        return result
    policy = bench.options.policy
    floor = policy.min_steps if policy is not None else DEFAULT_MIN_STEPS
    configs = [("off", None), ("on", RealtimePolicy()),
               (f"keep real time (>= {floor} steps)", RealtimePolicy(True, floor))]
    runs = bench.runs(1)
    for run in range(runs):
        for name, config in configs:
            bench.progress.step(f"guard: {name} {run + 1}/{runs}")
            guard = None if config is None else RealtimeGuard(config, SpeedModel())
            result.samples.append({"variant": name, "run": run,
                                   **speak(bench, texts.MEDIUM, guard=guard)})
            bench.progress.advance()
    for name, _ in configs:
        seams = result.values(name, "seams")
        gaps = result.values(name, "gap_s")
        result.notes.append(f"{name}: seams {seams}, silence waiting for audio "
                            f"{[round(g, 2) for g in gaps]} s")
    return result
