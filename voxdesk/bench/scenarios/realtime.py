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

GUARD_METRICS = ["seams", "underruns", "device_underflows", "gap_s", "first_chunk_latency",
                 "first_audible_latency", "audible_after_chunk_s", "playback_time",
                 "audio_duration", "total_time", "rtf", "timesteps", "holds", "held_s"]
#: The goal for a model faster than real time: heard within this long of its first chunk.
AUDIBLE_AFTER_CHUNK_GOAL_S = 0.06


def guard_units(bench: Bench) -> int:
    return 4 * bench.runs(1)


def guard(bench: Bench) -> ScenarioResult:
    result = ScenarioResult(
        "guard", "A three-sentence text heard through the player with the real-time guard off, "
        "on (holds a sentence back until it can play through) and on with keep-real-time "
        "(also lowers inference timesteps). Each guard starts cold, as `voxdesk speak` does: "
        "'cold start' with what a fresh VoxDesk knows (the warm-up's figures, or those an "
        "earlier run left in the cache folder), 'first run, nothing known' with nothing.",
        metrics=GUARD_METRICS)
    if not bench.options.audio:
        result.skipped = "needs the player: run without --no-audio"
        return result
    policy = bench.options.policy
    floor = policy.min_steps if policy is not None else DEFAULT_MIN_STEPS
    configs = [("off", None, False), ("on, cold start", RealtimePolicy(), True),
               ("on, first run, nothing known", RealtimePolicy(), False),
               (f"keep real time (>= {floor} steps), cold start", RealtimePolicy(True, floor),
                True)]
    runs = bench.runs(1)
    for run in range(runs):
        for name, config, known in configs:
            bench.progress.step(f"guard: {name} {run + 1}/{runs}")
            speed = bench.cold_speed() if known else SpeedModel()
            guard = None if config is None else RealtimeGuard(config, speed)
            result.samples.append({"variant": name, "run": run,
                                   **speak(bench, texts.MEDIUM, guard=guard)})
            bench.progress.advance()
    for name, _, _ in configs:
        seams = result.values(name, "seams")
        gaps = result.values(name, "gap_s")
        late = result.values(name, "audible_after_chunk_s")
        result.notes.append(f"{name}: seams {seams}, silence waiting for audio "
                            f"{[round(g, 2) for g in gaps]} s, first audible - first chunk "
                            f"{[round(x * 1000) for x in late if x is not None]} ms")
    fast = [s for s in result.samples if s["variant"] == "on, cold start" and s.get("rtf")
            and s["rtf"] < 0.8 and s.get("audible_after_chunk_s") is not None]
    if fast:
        met = all(s["audible_after_chunk_s"] <= AUDIBLE_AFTER_CHUNK_GOAL_S for s in fast)
        result.notes.append(f"goal (RTF < 0.8: first audible <= first chunk + "
                            f"{AUDIBLE_AFTER_CHUNK_GOAL_S * 1000:.0f} ms, cold start): "
                            f"{'met' if met else 'NOT met'}")
    return result
