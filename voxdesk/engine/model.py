"""Finding and loading a VoxCPM model: a Hugging Face id or a local directory.

This is the only module that calls ``voxcpm``'s loading API; the rest of VoxDesk sees a
:class:`LoadedModel` with plain facts about it.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voxdesk.errors import ModelLoadError, ModelNotFoundError, VoxDeskError

log = logging.getLogger(__name__)

DEFAULT_MODEL = "openbmb/VoxCPM2"


@dataclass(frozen=True)
class ModelInfo:
    model_id: str  # what the user asked for: hub id or directory
    path: Path  # the local directory it was loaded from
    architecture: str  # "voxcpm2" or "voxcpm"
    device: str
    device_name: str  # "NVIDIA H100 80GB HBM3", "CPU", ...
    dtype: str
    sample_rate: int

    @property
    def supports_reference_only(self) -> bool:
        """VoxCPM2 clones from a clip alone; older models need the clip's transcript."""
        return self.architecture == "voxcpm2"


@dataclass
class LoadedModel:
    voxcpm: Any  # voxcpm.VoxCPM
    info: ModelInfo

    @property
    def tts(self) -> Any:
        return self.voxcpm.tts_model


def looks_like_path(spec: str) -> bool:
    """Hub ids are ``owner/name``; anything else with a slash or a leading . / ~ is a path."""
    return spec.startswith((".", "/", "~")) or spec.count("/") > 1 or "\\" in spec


def resolve_model_dir(spec: str, allow_download: bool = True) -> Path:
    """The local directory for ``spec``: the directory itself, or the hub snapshot."""
    path = Path(spec).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ModelNotFoundError(
                f"{spec} is not a VoxCPM model directory (it has no config.json).",
                "Pass the folder that contains config.json and the weights.",
            )
        return path
    if looks_like_path(spec) or path.exists():
        raise ModelNotFoundError(
            f"No model directory at {spec}.",
            "Check the path, or pass a Hugging Face id such as openbmb/VoxCPM2.",
        )
    return _hub_snapshot(spec, allow_download)


def _hub_snapshot(repo_id: str, allow_download: bool) -> Path:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HFValidationError, LocalEntryNotFoundError

    try:
        return Path(snapshot_download(repo_id=repo_id, local_files_only=True))
    except HFValidationError as exc:
        raise ModelNotFoundError(
            f"{repo_id!r} is neither a model directory nor a Hugging Face model id.",
            "Pass a local folder or an id such as openbmb/VoxCPM2.",
        ) from exc
    except LocalEntryNotFoundError:
        if not allow_download:
            raise ModelNotFoundError(
                f"The model {repo_id} is not downloaded.",
                f"Download it with `voxdesk models download {repo_id}` or pass a local folder.",
            ) from None
    log.info("Downloading %s from the Hugging Face hub", repo_id)
    try:
        return Path(snapshot_download(repo_id=repo_id))
    except Exception as exc:  # network, auth, 404: all mean "not available here"
        raise ModelNotFoundError(
            f"The model {repo_id} is not downloaded and could not be fetched "
            f"({type(exc).__name__}).",
            "Check the network connection (HF_ENDPOINT selects a mirror), or pass a local "
            "model folder with --model.",
        ) from exc


def _device_name(device: str) -> str:
    import torch

    if device.startswith("cuda"):
        return torch.cuda.get_device_name(torch.device(device))
    if device == "mps":
        return "Apple GPU (MPS)"
    return "CPU"


class _LogWriter(io.TextIOBase):
    """Sends what voxcpm prints during loading to our log instead of the user's terminal."""

    def write(self, text: str) -> int:
        if text.strip():
            log.debug("voxcpm: %s", text.strip())
        return len(text)


def _silence_progress_bars() -> None:
    """voxcpm draws a tqdm bar on stderr for every generation; a desktop app and a CLI must not.

    (TQDM_DISABLE only works if set before anything imports tqdm, which torch may already have.)
    """
    import voxcpm.model.voxcpm
    import voxcpm.model.voxcpm2

    for module in (voxcpm.model.voxcpm, voxcpm.model.voxcpm2):
        if hasattr(module, "tqdm"):
            module.tqdm = lambda iterable, *args, **kwargs: iterable


def load_model(
    spec: str = DEFAULT_MODEL,
    device: str | None = None,
    load_denoiser: bool = False,
    optimize: bool = False,
    allow_download: bool = True,
) -> LoadedModel:
    """Load a VoxCPM model. ``device`` None or "auto" picks CUDA, then MPS, then CPU."""
    path = resolve_model_dir(spec, allow_download)
    try:
        from voxcpm import VoxCPM

        _silence_progress_bars()
    except ImportError as exc:
        raise ModelLoadError(f"The voxcpm package cannot be imported ({exc}).",
                             "Reinstall VoxDesk with its dependencies.") from exc
    try:
        with contextlib.redirect_stdout(_LogWriter()), contextlib.redirect_stderr(_LogWriter()):
            model = VoxCPM.from_pretrained(
                str(path),
                load_denoiser=load_denoiser,
                optimize=optimize,
                device=None if device in (None, "", "auto") else device,
            )
    except VoxDeskError:
        raise
    except ValueError as exc:  # voxcpm's "requested device X is not available"
        raise ModelLoadError(str(exc).split(". Use")[0] + ".",
                             "Use --device auto to pick what is available.") from exc
    except Exception as exc:
        raise ModelLoadError(
            f"Could not load the model from {path}: {exc}",
            "The download may be incomplete: download it again or pick another model.",
        ) from exc
    tts = model.tts_model
    info = ModelInfo(
        model_id=spec,
        path=path,
        architecture="voxcpm2" if type(tts).__name__ == "VoxCPM2Model" else "voxcpm",
        device=str(tts.device),
        device_name=_device_name(str(tts.device)),
        dtype=str(tts.config.dtype),
        sample_rate=int(tts.sample_rate),
    )
    log.info("Loaded %s on %s (%s, %s)", spec, info.device_name, info.dtype, info.sample_rate)
    return LoadedModel(model, info)


def warm_up_audio_loading() -> threading.Thread:
    """Import librosa (which voxcpm uses to read reference clips) in the background.

    Its first use compiles numba caches, ~12 s on a fresh machine: better during model load than
    on the user's first Play with a cloned voice.
    """

    def work() -> None:
        try:
            import librosa
            import numpy as np

            librosa.resample(np.zeros(4410, dtype=np.float32), orig_sr=44100, target_sr=16000)
        except Exception:  # a warm-up must never break anything
            log.debug("librosa warm-up failed", exc_info=True)

    thread = threading.Thread(target=work, name="voxdesk-warmup", daemon=True)
    thread.start()
    return thread
