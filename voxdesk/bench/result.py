"""What a scenario returns: every raw sample, plus the summaries and ratios computed from them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from voxdesk.bench.stats import summarize

Sample = dict[str, Any]


@dataclass
class ScenarioResult:
    name: str
    description: str
    #: One dict per measured run; ``variant`` says which side of a comparison it belongs to.
    samples: list[Sample] = field(default_factory=list)
    #: The sample keys to summarise, in display order.
    metrics: list[str] = field(default_factory=list)
    #: Named ratios (e.g. "voxdesk / raw first chunk"), None where not measurable.
    ratios: dict[str, float | None] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    skipped: str | None = None  # why the scenario did not run, if it did not
    #: 1-minute load average before and after the scenario: how busy the machine was.
    load_average: list[float] = field(default_factory=list)

    def variants(self) -> list[str]:
        seen: list[str] = []
        for sample in self.samples:
            if sample.get("variant") not in seen:
                seen.append(sample.get("variant"))
        return seen

    def values(self, variant: str, metric: str) -> list[Any]:
        return [s.get(metric) for s in self.samples if s.get("variant") == variant]

    def summary(self) -> dict[str, dict[str, dict[str, float] | None]]:
        """{variant: {metric: {n, min, median, p95, max, mean} or None}}."""
        return {
            variant: {metric: summarize(self.values(variant, metric)) for metric in self.metrics}
            for variant in self.variants()
        }

    def median(self, variant: str, metric: str) -> float | None:
        stats = summarize(self.values(variant, metric))
        return None if stats is None else stats["median"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "description": self.description,
            "skipped": self.skipped,
            "load_average": self.load_average,
            "metrics": self.metrics,
            "ratios": self.ratios,
            "notes": self.notes,
            "summary": self.summary(),
            "samples": self.samples,
        }
