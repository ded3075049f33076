"""Where downloaded models live, and how VoxDesk tells a complete one from a partial one.

Each model gets a folder under :func:`models_dir` (``VOXDESK_MODELS_DIR``, default
``<data dir>/models``) named after its repository (``openbmb--VoxCPM2``): a plain model folder a
person can also copy elsewhere and use with ``voxdesk models use DIR``. A manifest
(``.voxdesk-model.json``) is written last, when every file is there and verified; a folder
without one is an unfinished download. Partial files wait in its ``.download`` subfolder.

Models already in the Hugging Face cache (downloaded by other programs, e.g. voxcpm itself)
count as downloaded too, so nobody fetches 5 GB twice.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voxdesk import paths
from voxdesk.atomic import atomic_write_json
from voxdesk.errors import VoxDeskError

log = logging.getLogger(__name__)

MANIFEST = ".voxdesk-model.json"
PARTIAL_DIR = ".download"
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


def looks_like_path(spec: str) -> bool:
    """Hub ids are ``owner/name``; anything else with a slash or a leading . / ~ is a path."""
    return spec.startswith((".", "/", "~")) or spec.count("/") > 1 or "\\" in spec


def models_dir() -> Path:
    override = os.environ.get("VOXDESK_MODELS_DIR")
    path = Path(override).expanduser() if override else paths.data_dir() / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


def folder_name(repo_id: str) -> str:
    return repo_id.replace("/", "--")


def model_dir(repo_id: str) -> Path:
    return models_dir() / folder_name(repo_id)


@dataclass(frozen=True)
class ManifestFile:
    path: str
    size: int
    sha256: str | None = None
    git_sha1: str | None = None


@dataclass(frozen=True)
class Manifest:
    repo_id: str
    source: str
    endpoint: str
    revision: str
    files: tuple[ManifestFile, ...]

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": 1,
            "repo_id": self.repo_id,
            "source": self.source,
            "endpoint": self.endpoint,
            "revision": self.revision,
            "files": [vars(f) for f in self.files],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Manifest:
        return cls(
            repo_id=data["repo_id"],
            source=data["source"],
            endpoint=data.get("endpoint", ""),
            revision=data["revision"],
            files=tuple(ManifestFile(**f) for f in data["files"]),
        )


def read_manifest(directory: Path) -> Manifest | None:
    try:
        return Manifest.from_json(json.loads((directory / MANIFEST).read_text("utf-8")))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        log.warning("Unreadable model manifest in %s", directory, exc_info=True)
        return None


def write_manifest(directory: Path, manifest: Manifest) -> None:
    atomic_write_json(directory / MANIFEST, manifest.to_json())


def missing_or_damaged(directory: Path, manifest: Manifest) -> list[str]:
    """Files whose size is not what was downloaded: a quick check (no hashing) before loading."""
    bad = []
    for f in manifest.files:
        try:
            if (directory / f.path).stat().st_size != f.size:
                bad.append(f.path)
        except OSError:
            bad.append(f.path)
    return bad


def is_model_folder(directory: Path) -> bool:
    """A folder ``VoxCPM.from_pretrained`` can load: a config and weights."""
    return (directory / "config.json").is_file() and any(
        (directory / name).is_file() for name in WEIGHT_FILES)


@dataclass(frozen=True)
class InstalledModel:
    repo_id: str
    path: Path
    location: str  # "voxdesk" (our store) or "hf-cache"
    size_bytes: int
    manifest: Manifest | None = None


def _folder_size(directory: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(directory):
        for name in files:
            try:
                total += os.stat(os.path.join(root, name)).st_size  # follows HF cache symlinks
            except OSError:
                pass
    return total


def in_store(repo_id: str) -> InstalledModel | None:
    directory = model_dir(repo_id)
    manifest = read_manifest(directory)
    if manifest is None:
        return None
    return InstalledModel(repo_id, directory, "voxdesk", manifest.total_bytes, manifest)


def hf_cache_dir() -> Path:
    """huggingface_hub's cache folder, from the environment as it is now."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE)


def in_hf_cache(repo_id: str) -> InstalledModel | None:
    """A complete snapshot of ``repo_id`` in the Hugging Face cache, without network access."""
    if not (hf_cache_dir() / f"models--{folder_name(repo_id)}").is_dir():
        return None  # the common case, answered without importing huggingface_hub's machinery
    try:
        from huggingface_hub import snapshot_download

        path = Path(snapshot_download(repo_id=repo_id, local_files_only=True,
                                      cache_dir=hf_cache_dir()))
    except Exception:  # not there, incomplete, or an id huggingface_hub rejects
        return None
    if not is_model_folder(path):
        return None
    return InstalledModel(repo_id, path, "hf-cache", _folder_size(path))


def installed(repo_id: str) -> InstalledModel | None:
    return in_store(repo_id) or in_hf_cache(repo_id)


def store_contents() -> list[InstalledModel]:
    """Every complete model in VoxDesk's own folder (catalogue models or not)."""
    found = []
    for directory in sorted(models_dir().iterdir()):
        manifest = read_manifest(directory) if directory.is_dir() else None
        if manifest is not None:
            found.append(InstalledModel(manifest.repo_id, directory, "voxdesk",
                                        manifest.total_bytes, manifest))
    return found


def partial_bytes(repo_id: str) -> int:
    """Bytes an unfinished download of ``repo_id`` has kept for resuming."""
    return _folder_size(model_dir(repo_id) / PARTIAL_DIR) if (
        model_dir(repo_id) / PARTIAL_DIR).is_dir() else 0


def remove(repo_id: str) -> list[tuple[Path, int]]:
    """Delete ``repo_id`` from VoxDesk's folder (finished or partial) and from the Hugging Face
    cache. Returns the folders removed and the bytes each freed."""
    removed = []
    for folder in (model_dir(repo_id), hf_cache_dir() / f"models--{folder_name(repo_id)}"):
        if not folder.is_dir():
            continue
        size = _folder_size(folder)
        try:
            # The manifest goes first: an interrupted removal must not leave a "complete" model.
            (folder / MANIFEST).unlink(missing_ok=True)
            shutil.rmtree(folder)
        except OSError as exc:
            raise VoxDeskError(
                f"Cannot delete {folder}: {exc.strerror or exc}.",
                "Close VoxDesk windows that use this model (Windows keeps open files) and "
                "try again.") from exc
        removed.append((folder, size))
    return removed
