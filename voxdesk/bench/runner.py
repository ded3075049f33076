"""Run `voxdesk bench`: load the model, warm it up, run the scenarios, write the outputs."""

from __future__ import annotations

import dataclasses
import sys
import threading
import time
from pathlib import Path
from typing import Any, TextIO

from voxdesk.bench import report, texts
from voxdesk.bench.context import Bench, BenchOptions
from voxdesk.bench.measure import raw_streaming, speak
from voxdesk.bench.progress import Progress
from voxdesk.bench.result import ScenarioResult
from voxdesk.bench.scenarios import SCENARIOS
from voxdesk.engine import Engine
from voxdesk.errors import InvalidRequestError


def resolve_scenarios(names: list[str]) -> list[str]:
    if not names:
        return ["quick"]
    if "all" in names:  # the in-process ones: `server` loads a second model, so runs alone
        return [name for name, scenario in SCENARIOS.items() if scenario.in_process]
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        raise InvalidRequestError(f"Unknown scenario {unknown[0]!r}.",
                                  f"Choose from: {', '.join(SCENARIOS)}, all.")
    chosen = list(dict.fromkeys(names))  # in the order given, each once
    if len(chosen) > 1 and any(not SCENARIOS[name].in_process for name in chosen):
        raise InvalidRequestError("The server scenario runs on its own.",
                                  "Run `voxdesk bench server` separately from the others.")
    return chosen


def _warm_up(bench: Bench) -> None:
    """First calls pay one-off costs (allocation, lazy imports, opening the sound device), and
    the first generation of a given length is slower than the next: warm up at full length."""
    speak(bench, texts.SHORT, play_out=False)
    raw_streaming(bench, texts.SHORT, params=bench.params.replace(min_len=1, max_len=2))


def _cold_cost(engine: Engine) -> dict[str, Any]:
    """The warm-up at load was the model's first generation: run the same one again to see
    what being first cost (compilation included, where it is on)."""
    first = engine.acceleration.warm_up_steps_s
    if not first:
        return {}
    with engine._generation_slot(threading.Event()):
        later = engine._warm_up_generation()
    return {"first_generation_s": sum(first), "later_generation_s": sum(later),
            "warm_up_chunks": len(first), "first_generation_chunks_s": first,
            "later_generation_chunks_s": later, "warm_up_s": engine.acceleration.warm_up_s}


def settings(options: BenchOptions, scenarios: list[str]) -> dict[str, Any]:
    values = dataclasses.asdict(options)
    values["voice"] = None if options.voice is None else {
        k: None if v is None else str(v) for k, v in dataclasses.asdict(options.voice).items()}
    values["scenarios"] = scenarios
    return values


def run_bench(
    options: BenchOptions,
    scenario_names: list[str],
    json_path: Path | None = None,
    plot_path: Path | None = None,
    out: TextIO = sys.stdout,
    show_progress: bool = True,
) -> dict[str, Any]:
    names = resolve_scenarios(scenario_names)
    if plot_path is not None:
        from voxdesk.bench.plot import require_matplotlib

        require_matplotlib()  # fail before minutes of measuring, not after

    print(f"Loading {options.model}...", file=sys.stderr, flush=True)
    started = time.monotonic()
    engine = Engine.load(options.model, options.device, dtype=options.dtype,
                         compile=options.compile)
    load_time = time.monotonic() - started
    engine.wait_until_warm()  # its first generation (and compilation): timed, compared below
    from voxdesk.bench.environment import environment, load_average

    env = environment(engine, load_time)
    env.update(_cold_cost(engine))
    print(f"Ready: {env['model_id']} on {env['device_name']} ({env['dtype']}) in "
          f"{load_time:.1f} s; {env['acceleration']}.\ndtype rule: {env['dtype_reason']}",
          file=sys.stderr, flush=True)

    progress = Progress(1, enabled=show_progress)
    bench = Bench(engine, options, progress)
    results: list[ScenarioResult] = []

    def save(complete: bool) -> dict[str, Any]:
        data = report.report_dict(env, settings(options, names), results)
        data["complete"] = complete  # False: interrupted or failed, these scenarios only
        if json_path is not None:
            report.write_json(json_path, data)
        return data

    complete = False
    try:
        progress.total = 1 + sum(SCENARIOS[name].units(bench) for name in names)
        progress.step("warm-up")
        _warm_up(bench)
        progress.advance()
        planned = 1
        for name in names:
            scenario = SCENARIOS[name]
            planned += scenario.units(bench)
            before = load_average()
            result = scenario.run(bench)
            after = load_average()
            if before and after:
                result.load_average = [before[0], after[0]]
            results.append(result)
            progress.done = planned  # a skipped scenario's units count as done
            if json_path is not None and name != names[-1]:
                save(False)  # minutes of measurements survive a later failure or Ctrl+C
        complete = True
    finally:
        progress.close()
        bench.close()
        env["load_average_end"] = load_average()
        if not complete and results:  # what was measured before the failure, not lost
            report.print_table(env, results, out)
            save(False)
            if json_path is not None:
                print(f"Stopped early: wrote the finished scenarios to {json_path}.",
                      file=sys.stderr)

    report.print_table(env, results, out)
    data = save(True)
    if json_path is not None:
        print(f"Wrote {json_path}.", file=sys.stderr)
    if plot_path is not None:
        from voxdesk.bench.plot import write_plot

        write_plot(plot_path, results, f"VoxDesk {env['voxdesk']} - {env['model_id']} on "
                   f"{env['device_name']} ({env['date']})")
        print(f"Wrote {plot_path}.", file=sys.stderr)
    return data
