"""Finding and loading a VoxCPM model: a Hugging Face id or a local directory.

This is the only module that calls ``voxcpm``'s loading API; the rest of VoxDesk sees a
:class:`LoadedModel` with plain facts about it.
"""

from __future__ import annotations

import contextlib
import io
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voxdesk.engine.heap import freeze_late_imports
from voxdesk.errors import ModelLoadError, ModelNotFoundError, VoxDeskError
from voxdesk.models.catalog import DEFAULT_MODEL
from voxdesk.models.store import looks_like_path

__all__ = ["DEFAULT_MODEL", "LoadedModel", "ModelInfo", "load_model", "looks_like_path",
           "resolve_model_dir", "warm_up_audio_loading"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelInfo:
    model_id: str  # what the user asked for: hub id or directory
    path: Path  # the local directory it was loaded from
    architecture: str  # "voxcpm2" or "voxcpm"
    device: str
    device_name: str  # "NVIDIA H100 80GB HBM3", "CPU", ...
    dtype: str
    sample_rate: int
    dtype_reason: str = ""  # why this dtype (voxdesk.models.hardware.dtype_choice)

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


def resolve_model_dir(spec: str, allow_download: bool = True) -> Path:
    """The local directory for ``spec``: a model folder, or a short name ("VoxCPM2") or hub id
    found in VoxDesk's model folder or the Hugging Face cache, downloaded there if allowed."""
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
            "Check the path, or choose another model with `voxdesk models use`.",
        )
    return _hub_model(spec, allow_download)


def _hub_model(spec: str, allow_download: bool) -> Path:
    from voxdesk.models import download, resolve_name, sources, store

    repo_id, entry = resolve_name(spec)
    short = entry.id if entry else repo_id
    found = store.installed(repo_id)
    if found is not None:
        damaged = store.missing_or_damaged(found.path, found.manifest) if found.manifest else []
        if damaged:
            raise ModelLoadError(
                f"The download of {short} is damaged ({', '.join(damaged)} missing or "
                f"the wrong size).",
                f"Repair it with `voxdesk models download {short}`.",
            )
        return found.path
    if not allow_download or sources.offline_mode():
        raise ModelNotFoundError(
            f"The model {short} is not downloaded.",
            f"Download it with `voxdesk models download {short}`, or pass a local model folder "
            f"with --model.",
        )
    log.info("Downloading %s", repo_id)
    return download(repo_id, progress=_log_progress)


def _log_progress(progress: Any) -> None:
    if progress.phase != "downloading" or progress.file is None:
        return
    log.info("Downloading %s: %d%% (%s)", progress.model, int(progress.fraction * 100),
             progress.file)


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


_dtype_lock = threading.Lock()


def _weights_gb(path: Path) -> float | None:
    return sum(f.stat().st_size for f in path.glob("*.safetensors")) / 1000**3 or None


@contextlib.contextmanager
def _dtype_rule(path: Path, requested: str, chosen: list[Any]) -> Iterator[None]:
    """Load in the dtype :func:`voxdesk.models.hardware.dtype_choice` picks (``requested``:
    the user's override, or "auto"); the choice made is appended to ``chosen``.

    voxcpm keeps the checkpoint's dtype (bfloat16) on CPUs and CUDA GPUs alike, including those
    that only emulate it (slowly): its ``pick_runtime_dtype`` is replaced for the load.
    """
    import voxcpm.model.voxcpm
    import voxcpm.model.voxcpm2

    from voxdesk.models import hardware

    info = hardware.detect()
    weights_gb = _weights_gb(path)
    modules = [m for m in (voxcpm.model.voxcpm, voxcpm.model.voxcpm2)
               if hasattr(m, "pick_runtime_dtype")]
    with _dtype_lock:
        originals = {m: m.pick_runtime_dtype for m in modules}
        for module in modules:
            original = originals[module]

            def pick(dev: str, configured: str, _original: Any = original) -> str:
                if str(dev).startswith("mps") and requested == "auto":
                    choice = hardware.DtypeChoice(_original(dev, configured),
                                                  "voxcpm's rule for Apple GPUs")
                else:
                    choice = hardware.dtype_choice(str(dev), str(configured), info, weights_gb,
                                                   requested)
                chosen.append(choice)
                return choice.dtype

            module.pick_runtime_dtype = pick
        try:
            yield
        finally:
            for module, original in originals.items():
                module.pick_runtime_dtype = original


def load_model(
    spec: str = DEFAULT_MODEL,
    device: str | None = None,
    load_denoiser: bool = False,
    allow_download: bool = True,
    dtype: str = "auto",
) -> LoadedModel:
    """Load a VoxCPM model. ``device`` None or "auto" picks CUDA, then MPS, then CPU; ``dtype``
    "auto" follows voxdesk.models.hardware's rule, anything else overrides it. (Compilation and
    warm-up are the engine's: voxdesk.engine.acceleration.)"""
    from voxdesk.models.hardware import DTYPES

    if dtype not in DTYPES:
        raise ModelLoadError(f"Unknown dtype {dtype!r}.", f"Choose one of {', '.join(DTYPES)}.")
    path = resolve_model_dir(spec, allow_download)
    try:
        from voxcpm import VoxCPM

        _silence_progress_bars()
    except ImportError as exc:
        raise ModelLoadError(f"The voxcpm package cannot be imported ({exc}).",
                             "Reinstall VoxDesk with its dependencies.") from exc
    chosen: list[Any] = []
    try:
        with contextlib.redirect_stdout(_LogWriter()), contextlib.redirect_stderr(_LogWriter()), \
                _dtype_rule(path, dtype, chosen):
            model = VoxCPM.from_pretrained(
                str(path),
                load_denoiser=load_denoiser,
                optimize=False,  # VoxDesk compiles itself, with a fallback (acceleration.py)
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
        dtype_reason=chosen[-1].reason if chosen else "",
    )
    log.info("Loaded %s on %s (%s: %s; %s Hz)", spec, info.device_name, info.dtype,
             info.dtype_reason, info.sample_rate)
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
        freeze_late_imports()  # thousands of module objects, alive as long as the process

    thread = threading.Thread(target=work, name="voxdesk-warmup", daemon=True)
    thread.start()
    return thread
