"""`--plot`: a PNG of the latency distributions (matplotlib, an optional dependency)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from voxdesk.bench.report import METRICS
from voxdesk.bench.result import ScenarioResult
from voxdesk.errors import VoxDeskError

#: What is plotted: the times a person waits for (or sees the window freeze for).
PLOTTED = ("first_chunk_latency", "first_audible_latency", "time_to_first_audio", "gap_s",
           "stall_p99", "stall_max", "stop_latency", "stop_heard", "stop_to_idle")


def require_matplotlib() -> Any:
    """Import matplotlib for PNG output, or explain how to get it (checked before any run)."""
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only: no display needed, none touched
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise VoxDeskError(
            f"--plot needs matplotlib, which is not installed ({exc}).",
            "Install it with `pip install 'voxdesk[bench]'` (or `pip install matplotlib`), "
            "or leave out --plot.",
        ) from exc
    return plt


def _series(result: ScenarioResult) -> list[tuple[str, list[float]]]:
    series = []
    for variant in result.variants():
        for metric in result.metrics:
            if metric not in PLOTTED:
                continue
            values = [float(v) for v in result.values(variant, metric) if v is not None]
            if values:
                series.append((f"{variant}: {METRICS[metric][0]}", values))
    return series


def write_plot(path: Path, results: list[ScenarioResult], title: str) -> None:
    plt = require_matplotlib()
    panels = [(r, s) for r in results if not r.skipped and (s := _series(r))]
    if not panels:
        raise VoxDeskError("Nothing to plot: no scenario measured a latency.")
    heights = [0.9 + 0.35 * len(series) for _, series in panels]
    height = sum(heights) + 0.8
    figure, axes = plt.subplots(len(panels), 1, figsize=(9, height),
                                gridspec_kw={"height_ratios": heights}, squeeze=False)
    for ax, (result, series) in zip(axes[:, 0], panels):
        labels = [label for label, _ in series]
        data = [values for _, values in series]
        ax.boxplot(data, vert=False, widths=0.6, showfliers=False)
        for row, values in enumerate(data, start=1):  # every raw sample, as dots
            ax.plot(values, [row] * len(values), "o", color="tab:blue", alpha=0.5,
                    markersize=3)
        ax.set_yticks(range(1, len(labels) + 1), labels, fontsize=8)
        ax.invert_yaxis()
        flat = [v for values in data for v in values if v > 0]
        if flat and max(flat) / min(flat) > 30:
            ax.set_xscale("log")
        ax.set_title(result.name, fontsize=10, loc="left")
        ax.set_xlabel("seconds", fontsize=8)
        ax.grid(axis="x", alpha=0.3)
    figure.suptitle(title, fontsize=10)
    figure.tight_layout(rect=(0, 0, 1, 1 - 0.45 / height))  # keep clear of the title
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)
