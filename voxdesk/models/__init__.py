"""Model management without Qt: the catalogue, downloads, the chosen model, hardware advice.

What a first-run dialog (or the `voxdesk models` command) drives::

    from voxdesk import models

    models.catalogue()                       # CatalogEntry per known model (+ the denoiser)
    models.is_downloaded("VoxCPM2")          # bool; also true for a copy in the HF cache
    models.hardware.detect()                 # GPU/MPS/CPU and memory (imports torch)
    models.hardware.advice(entry)            # fits? dtype? real time? + a sentence to show
    models.download("VoxCPM2", progress=cb, cancel=event)   # blocking: run it in a thread
    models.select_model("VoxCPM2")           # remembered in <config dir>/model.json
    models.selected_model()                  # what `speak`, `export` and the window load
    models.remove("VoxCPM2")

Importing this package is cheap (no torch, no huggingface_hub until a download starts).
"""

from __future__ import annotations

from pathlib import Path

from voxdesk.models import hardware
from voxdesk.models import store as _store
from voxdesk.models.catalog import (
    CATALOGUE,
    DEFAULT_MODEL,
    CatalogEntry,
    UnknownModelError,
    find,
    format_duration,
    format_size,
    lookup,
    tts_models,
)
from voxdesk.models.download import DownloadProgress, ProgressCallback, download, resolve_name
from voxdesk.models.errors import (
    AccessDeniedError,
    DownloadBusyError,
    DownloadCancelled,
    IntegrityError,
    NetworkError,
    NotEnoughSpaceError,
)
from voxdesk.models.selection import (
    chosen_model,
    clear_selection,
    local_path,
    needs_first_run,
    select_model,
    selected_model,
)
from voxdesk.models.store import InstalledModel, models_dir
from voxdesk.models.verify import verify

__all__ = [
    "CATALOGUE",
    "DEFAULT_MODEL",
    "AccessDeniedError",
    "CatalogEntry",
    "DownloadBusyError",
    "DownloadCancelled",
    "DownloadProgress",
    "InstalledModel",
    "IntegrityError",
    "NetworkError",
    "NotEnoughSpaceError",
    "ProgressCallback",
    "UnknownModelError",
    "catalogue",
    "chosen_model",
    "clear_selection",
    "denoiser_path",
    "download",
    "find",
    "format_duration",
    "format_size",
    "hardware",
    "installed",
    "is_downloaded",
    "local_path",
    "lookup",
    "models_dir",
    "needs_first_run",
    "partial_bytes",
    "remove",
    "resolve_name",
    "select_model",
    "selected_model",
    "tts_models",
    "verify",
]


def catalogue() -> tuple[CatalogEntry, ...]:
    return CATALOGUE


def installed(name: str) -> InstalledModel | None:
    """Where a downloaded model is (VoxDesk's folder or the Hugging Face cache), or None."""
    repo_id, _entry = resolve_name(name)
    return _store.installed(repo_id)


def is_downloaded(name: str) -> bool:
    return installed(name) is not None


def partial_bytes(name: str) -> int:
    """Bytes an interrupted download of ``name`` kept (0: none); the dialog can offer "Resume"."""
    repo_id, _entry = resolve_name(name)
    return _store.partial_bytes(repo_id)


def remove(name: str) -> list[tuple[Path, int]]:
    """Delete a downloaded model (also an unfinished download, and a copy in the Hugging Face
    cache). If it was the chosen model, the choice is forgotten. Returns (folder, bytes freed)."""
    repo_id, _entry = resolve_name(name)
    removed = _store.remove(repo_id)
    if chosen_model() == repo_id:
        clear_selection()
    return removed


def denoiser_path() -> str | None:
    """The downloaded denoiser's folder (for voxcpm's ZipEnhancer), or None."""
    found = installed("denoiser")
    return str(found.path) if found else None
