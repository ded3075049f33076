"""The benchmark's outputs: a table on the terminal and the JSON file with every raw sample."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, TextIO

from voxdesk.atomic import atomic_write_text
from voxdesk.bench.result import ScenarioResult

SCHEMA = "voxdesk-bench/1"

#: Display name and unit ("s" seconds, "x" a factor, "n" a count) of each metric.
METRICS: dict[str, tuple[str, str]] = {
    "first_chunk_latency": ("first chunk", "s"),
    "first_audible_latency": ("first audible", "s"),
    "time_to_first_audio": ("first audio", "s"),
    "total_time": ("total time", "s"),
    "audio_duration": ("audio length", "s"),
    "rtf": ("RTF", "x"),
    "chunks": ("chunks", "n"),
    "chunk_s": ("chunk size", "s"),
    "underruns": ("underruns", "n"),
    "device_underflows": ("device underflows", "n"),
    "stalls": ("playback stalls", "n"),
    "seams": ("seams", "n"),
    "gap_s": ("waiting silence", "s"),
    "playback_time": ("heard to the end", "s"),
    "timesteps": ("timesteps", "n"),
    "holds": ("sentences held", "n"),
    "held_s": ("held back", "s"),
    "segments": ("sentences", "n"),
    "text_chars": ("characters", "n"),
    "stall_p50": ("stall p50", "s"),
    "stall_p99": ("stall p99", "s"),
    "stall_max": ("stall max", "s"),
    "stop_latency": ("stop -> aborted", "s"),
    "stop_heard": ("stop -> silent", "s"),
    "stop_to_idle": ("stop -> idle", "s"),
    "first_byte": ("first byte", "s"),
    "bytes": ("bytes", "n"),
    "cpu_per_heard_s": ("CPU per s heard", "%"),
    "cpu_per_audio_s": ("CPU per s audio", "%"),
    "audible_after_chunk_s": ("audible - chunk", "s"),
    "rtf_vs_idle": ("RTF / idle RTF", "x"),
    "first_chunk_vs_idle": ("1st chunk / idle", "x"),
}
COLUMNS = ("n", "min", "median", "p95", "max")


def format_value(value: float | None, unit: str) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    if unit == "s":
        return f"{value * 1000:.0f} ms" if abs(value) < 1 else f"{value:.2f} s"
    if unit == "x":
        return f"{value:.2f}"
    if unit == "%":
        return f"{value:.2f} %"
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def table(environment: dict[str, Any], results: list[ScenarioResult]) -> str:
    env = environment
    lines = [
        f"VoxDesk {env['voxdesk']} benchmark - voxcpm {env['voxcpm']}, torch {env['torch']}, "
        f"{env['date']}",
        f"model {env['model_id']} ({env['architecture']}, {env['parameters'] / 1e6:,.0f} M "
        f"parameters, {env['dtype']}) on {env['device_name']} [{env['device']}], "
        f"loaded in {env['load_time_s']:.1f} s",
    ]
    if env.get("dtype_reason"):
        lines.append(f"dtype rule: {env['dtype_reason']}")
    if env.get("acceleration"):
        lines.append(f"model: {env['acceleration']}")
    cold = env.get("first_generation_s"), env.get("later_generation_s")
    if None not in cold:
        lines.append(f"first generation after loading {cold[0]:.2f} s, the next one "
                     f"{cold[1]:.2f} s (the same {env.get('warm_up_chunks')} chunks): the "
                     f"warm-up at load pays the difference")
    if env.get("load_average") and env.get("cpu_count"):
        start, end = env["load_average"][0], (env.get("load_average_end") or [None])[0]
        threads = env.get("torch_threads") or 1
        # The benchmark itself keeps about `threads` cores busy: more than one core's worth
        # beyond that is other programs competing with it.
        busy = max(start, end or 0) > threads + 1
        lines.append(
            f"{env.get('cpu', 'CPU')}, {env['cpu_count']} cores, {threads} torch threads; "
            f"load average {start:.1f} at the start"
            + ("" if end is None else f", {end:.1f} at the end")
            + (" (other programs competed for the CPU: figures are slower and noisier)"
               if busy else ""))
    return "\n".join(lines + [results_table(results)])


def results_table(results: list[ScenarioResult]) -> str:
    """Each scenario's figures (summaries, ratios, notes): the table under the header."""
    lines: list[str] = []
    for result in results:
        lines += ["", f"{result.name}: {result.description}"]
        if result.skipped:
            lines.append(f"  skipped: {result.skipped}")
            continue
        variant_width = max([len(v) for v in result.variants()] + [7])
        header = f"  {'variant':<{variant_width}}  {'metric':<17}" + "".join(
            f"{c:>10}" for c in COLUMNS)
        lines.append(header)
        for variant, metrics in result.summary().items():
            for metric, stats in metrics.items():
                if stats is None:
                    continue
                name, unit = METRICS.get(metric, (metric, "n"))
                cells = [f"{stats['n']:>10.0f}"] + [
                    f"{format_value(stats[c], unit):>10}" for c in COLUMNS[1:]]
                lines.append(f"  {variant:<{variant_width}}  {name:<17}" + "".join(cells))
        for name, value in result.ratios.items():
            lines.append(f"  ratio {name}: {'-' if value is None else f'{value:.3f}'}")
        for note in result.notes:
            lines.append(f"  note: {note}")
    return "\n".join(lines)


def print_table(environment: dict[str, Any], results: list[ScenarioResult],
                out: TextIO) -> None:
    out.write(table(environment, results) + "\n")
    out.flush()


def _plain(value: Any) -> Any:
    """numpy scalars and other stragglers as JSON numbers; NaN/inf as null."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if not str(k).startswith("_")}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def report_dict(environment: dict[str, Any], settings: dict[str, Any],
                results: list[ScenarioResult]) -> dict[str, Any]:
    return _plain({
        "schema": SCHEMA,
        "environment": environment,
        "settings": settings,
        "scenarios": {r.name: r.as_dict() for r in results},
    })


def write_json(path: Path, report: dict[str, Any]) -> None:
    atomic_write_text(path, json.dumps(report, indent=2, default=str) + "\n")
