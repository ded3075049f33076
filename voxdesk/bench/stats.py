"""Summary statistics of benchmark samples (numbers only; None values are left out)."""

from __future__ import annotations

import math
from collections.abc import Iterable


def percentile(sorted_values: list[float], q: float) -> float:
    """The ``q``-th percentile (0-100) with linear interpolation, like numpy's default."""
    if not sorted_values:
        raise ValueError("no values")
    position = (len(sorted_values) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    fraction = position - low
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * fraction


def summarize(values: Iterable[float | int | bool | None]) -> dict[str, float] | None:
    """n, min, median, p95, max and mean of the numeric values; None if there are none."""
    numbers = sorted(float(v) for v in values
                     if v is not None and not isinstance(v, bool) and math.isfinite(v))
    if not numbers:
        return None
    return {
        "n": len(numbers),
        "min": numbers[0],
        "median": percentile(numbers, 50),
        "p95": percentile(numbers, 95),
        "max": numbers[-1],
        "mean": sum(numbers) / len(numbers),
    }


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator
