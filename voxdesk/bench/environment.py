"""Where the figures come from: versions, machine, model, device and dtype."""

from __future__ import annotations

import datetime
import importlib.metadata
import os
import platform
import sys
from typing import Any

from voxdesk import __version__
from voxdesk.engine import Engine


def _package_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def model_parameters(tts: Any) -> int:
    """The model's weights, counting the packed linear layers' (kept as buffers, not parameters)."""
    from voxdesk.engine.packed_linear import PackedLinear

    packed = sum(m.packed_weight.numel() for m in tts.modules() if isinstance(m, PackedLinear))
    return packed + sum(p.numel() for p in tts.parameters())


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):  # not on Windows
        return None


def environment(engine: Engine, load_time_s: float) -> dict[str, Any]:
    import torch

    info = engine.info
    tts = engine._model.tts  # parameter count: tells the tiny test model from a real-size one
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "voxdesk": __version__,
        "voxcpm": _package_version("voxcpm"),
        "torch": torch.__version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        # Other programs' load skews every figure: say how busy the machine was.
        "load_average": load_average(),
        "cuda_available": torch.cuda.is_available(),
        "model_id": info.model_id,
        "model_path": str(info.path),
        "architecture": info.architecture,
        "parameters": model_parameters(tts),
        "device": info.device,
        "device_name": info.device_name,
        "dtype": info.dtype,
        "dtype_reason": info.dtype_reason,
        "acceleration": engine.acceleration.describe(),
        "compiled": engine.acceleration.compiled,
        "compile_error": engine.acceleration.compile_error,
        "sample_rate": info.sample_rate,
        "load_time_s": load_time_s,
    }
