"""Test helpers for writing audio the way `voxdesk export` does."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from voxdesk.audio.export import AtomicAudioWriter, ExportResult


def export_chunks(chunks: Iterable[np.ndarray], path: str | Path, sample_rate: int,
                  encoding: str | None = None) -> ExportResult:
    """Write ``chunks`` to ``path`` atomically through the export writer; what was written."""
    with AtomicAudioWriter(path, sample_rate, encoding) as writer:
        for samples in chunks:
            writer.write(samples)
    return writer.result()
