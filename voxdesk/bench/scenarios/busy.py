"""A busy desktop: first chunk and RTF while other programs compete for the CPU.

People read while a browser and other programs run. The bench starts one and then two
CPU-bound processes itself (voxdesk.bench.competitors, bounded in time, always stopped) and
compares each figure with the idle one, for each torch thread count tried: on N cores with one
competitor the fair share is N / (N + 1) of the machine, so RTF x (N + 1) / N is what a
well-behaved program gets (2 x on 2 cores); oversubscribed OpenMP threads that wait for each
other at every operation do much worse.
"""

from __future__ import annotations

import os

from voxdesk.bench import texts
from voxdesk.bench.competitors import competing_processes
from voxdesk.bench.context import Bench
from voxdesk.bench.measure import speak
from voxdesk.bench.result import ScenarioResult

BUSY_METRICS = ["first_chunk_latency", "rtf", "first_chunk_vs_idle", "rtf_vs_idle",
                "total_time", "audio_duration"]
COMPETITORS = (0, 1, 2)
#: The goal with one competitor: RTF at most this times the idle RTF.
RTF_GOAL_ONE_COMPETITOR = 2.2


def thread_counts() -> list[int | None]:
    """None: VoxDesk's own choice (voxdesk.engine.threads: the cores others leave); then torch's
    full count and one thread (which never waits for a sibling), fixed."""
    import torch

    current = torch.get_num_threads()
    return [None, *sorted({current, 1}, reverse=True)]


def _label(threads: int | None) -> str:
    if threads is None:
        return "auto threads"
    return f"{threads} thread{'s' if threads > 1 else ''}"


def busy_units(bench: Bench) -> int:
    return bench.runs(1) * len(COMPETITORS) * len(thread_counts())


def busy(bench: Bench) -> ScenarioResult:
    import torch

    result = ScenarioResult(
        "busy", f"A three-sentence text with 0, 1 and 2 competing CPU-bound processes "
        f"(started by the bench, bounded in time) on {os.cpu_count()} cores, for each torch "
        f"thread count; ratios are to the idle figures of the same thread count.",
        metrics=BUSY_METRICS)
    runs = bench.runs(1)
    original = torch.get_num_threads()
    tuner = bench.engine.threads
    tuning = tuner.enabled
    try:
        for threads in thread_counts():
            tuner.enabled = tuning and threads is None
            torch.set_num_threads(threads or original)
            tuner.threads = threads or original
            idle: dict[str, float] = {}
            for competitors in COMPETITORS:
                variant = f"{_label(threads)}, {competitors} busy"
                with competing_processes(competitors):
                    for run in range(runs):
                        bench.progress.step(f"busy: {variant} {run + 1}/{runs}")
                        # No guard: busy figures must not go into the speed figures a later run starts from.
                        sample = speak(bench, texts.MEDIUM, player=False)
                        if competitors == 0 and run == 0:
                            idle = {k: sample[k] for k in ("rtf", "first_chunk_latency")}
                        sample["rtf_vs_idle"] = _ratio(sample["rtf"], idle.get("rtf"))
                        sample["first_chunk_vs_idle"] = _ratio(sample["first_chunk_latency"],
                                                               idle.get("first_chunk_latency"))
                        result.samples.append({"variant": variant, "run": run,
                                               "threads": threads or "auto",
                                               "threads_used": torch.get_num_threads(),
                                               "competitors": competitors, **sample})
                        bench.progress.advance()
    finally:
        tuner.enabled = tuning
        torch.set_num_threads(original)
        tuner.threads = original
    for threads in thread_counts():
        name = f"{_label(threads)}, 1 busy"
        ratio = result.median(name, "rtf_vs_idle")
        result.ratios[f"{name}: RTF / idle RTF"] = ratio
        if ratio is not None:
            met = "met" if ratio <= RTF_GOAL_ONE_COMPETITOR else "NOT met"
            result.notes.append(f"{name}: RTF {ratio:.2f} x idle (goal <= "
                                f"{RTF_GOAL_ONE_COMPETITOR} x, fair share 2 x on 2 cores): {met}")
    return result


def _ratio(value: float | None, reference: float | None) -> float | None:
    return None if value is None or not reference else value / reference
