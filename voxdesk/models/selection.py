"""Which model VoxDesk speaks with: the one chosen with ``voxdesk models use`` (or in the
window), remembered in ``<config dir>/model.json``.

Without a choice, the first downloaded catalogue model is used, and without any download the
default (VoxCPM2), which the first-run guidance then offers to download.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from voxdesk import paths
from voxdesk.atomic import atomic_write_json
from voxdesk.errors import ModelNotFoundError
from voxdesk.models import catalog, store

log = logging.getLogger(__name__)

SELECTION_FILE = "model.json"


def _selection_path() -> Path:
    return paths.config_dir() / SELECTION_FILE


def chosen_model() -> str | None:
    """What was chosen explicitly: a repository id or an absolute folder; None if nothing."""
    try:
        value = json.loads(_selection_path().read_text("utf-8")).get("model")
    except FileNotFoundError:
        return None
    except (OSError, ValueError, AttributeError):
        log.warning("Ignoring unreadable %s", _selection_path(), exc_info=True)
        return None
    return value if isinstance(value, str) and value.strip() else None


def selected_model() -> str:
    """The model to load when none is named: the choice, else the first downloaded catalogue
    model, else the default."""
    chosen = chosen_model()
    if chosen:
        return chosen
    for entry in catalog.tts_models():
        if store.installed(entry.repo_id) is not None:
            return entry.repo_id
    return catalog.DEFAULT_MODEL


def local_path(spec: str) -> Path | None:
    """The folder ``spec`` (a folder, short name or repository id) loads from, if it is here."""
    path = Path(spec).expanduser()
    if path.is_dir() or store.looks_like_path(spec):
        return path if store.is_model_folder(path) else None
    entry = catalog.find(spec)
    found = store.installed(entry.repo_id if entry else spec)
    return found.path if found else None


def needs_first_run() -> bool:
    """True when the model VoxDesk would load is not on this computer: time to guide the user
    to a download (or to a model folder)."""
    return local_path(selected_model()) is None


def select_model(spec: str) -> str:
    """Remember ``spec`` (short name, repository id or model folder) as the model to use;
    returns what was stored. The model must be on this computer already."""
    path = Path(spec).expanduser()
    if path.is_dir() or store.looks_like_path(spec):
        if not path.is_dir():
            raise ModelNotFoundError(f"There is no folder {spec}.", "Check the path.")
        if not store.is_model_folder(path):
            raise ModelNotFoundError(
                f"{spec} is not a VoxCPM model folder (it needs config.json and "
                f"model.safetensors or pytorch_model.bin).",
                "Pass the folder that contains config.json and the weights.")
        value = str(path.resolve())
    else:
        entry = catalog.find(spec)
        value = entry.repo_id if entry else spec
        if entry is not None and not entry.is_tts:
            raise catalog.UnknownModelError(f"{entry.id} is not a speech model.",
                                            "Choose one of the speech models.")
        if store.installed(value) is None:
            short = entry.id if entry else value
            raise ModelNotFoundError(f"{short} is not downloaded.",
                                     f"Download it first: `voxdesk models download {short}`.")
    atomic_write_json(_selection_path(), {"model": value})
    return value


def clear_selection() -> None:
    _selection_path().unlink(missing_ok=True)
