"""What this computer can run: the accelerator PyTorch sees, its memory, and plain advice.

    info = detect()                      # CUDA GPU, Apple GPU (MPS) or CPU, with memory sizes
    advice(entry, info)                  # fits? which dtype? faster than real time?
    recommended_model(info)              # what the first-run dialog pre-selects

The dtype VoxDesk loads with follows the device: the checkpoint's bfloat16 on GPUs that compute
in it natively (NVIDIA Ampere and newer) and on the CPU (token-by-token generation is bound by
memory traffic, so the half-size weights are as fast as float32 there while needing half the
RAM); float32 on Apple GPUs (voxcpm's own rule: half precision drifts there) and on older NVIDIA
GPUs (which emulate bfloat16 slowly) when it fits, else float16.
"""

from __future__ import annotations

import functools
import os
import platform
import sys
from dataclasses import dataclass

from voxdesk.models import catalog

GIB = 1024**3


@dataclass(frozen=True)
class HardwareInfo:
    device: str  # "cuda", "mps" or "cpu": what "auto" picks
    device_name: str  # "NVIDIA GeForce RTX 4090", "Apple GPU (MPS)", "CPU (x86_64, 8 cores)"
    vram_bytes: int | None  # accelerator memory; None on the CPU (and MPS: shared with RAM)
    ram_bytes: int | None
    cuda_capability: tuple[int, int] | None = None
    torch_version: str = ""
    cuda_version: str | None = None

    @property
    def native_bf16(self) -> bool:
        return self.device == "cpu" or (self.cuda_capability or (0, 0)) >= (8, 0)

    def summary(self) -> str:
        if self.device == "cuda" and self.vram_bytes:
            return f"{self.device_name} ({self.vram_bytes / GIB:.0f} GB)"
        if self.device == "cpu":
            return f"{self.device_name}, no GPU that PyTorch can use"
        return self.device_name


@dataclass(frozen=True)
class Advice:
    model: catalog.CatalogEntry
    device: str
    dtype: str
    fits: bool  # enough accelerator memory (always True on the CPU: it uses RAM)
    realtime: bool  # generation keeps ahead of playback: no pauses in long texts
    message: str


def _ram_bytes() -> int | None:
    try:
        if sys.platform == "win32":
            import ctypes

            class MemoryStatus(ctypes.Structure):
                _fields_ = [("length", ctypes.c_ulong), ("load", ctypes.c_ulong),
                            ("total", ctypes.c_ulonglong), ("available", ctypes.c_ulonglong),
                            ("page_total", ctypes.c_ulonglong), ("page_free", ctypes.c_ulonglong),
                            ("virtual_total", ctypes.c_ulonglong),
                            ("virtual_free", ctypes.c_ulonglong), ("extended", ctypes.c_ulonglong)]

            status = MemoryStatus()
            status.length = ctypes.sizeof(MemoryStatus)
            ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(status))  # type: ignore[attr-defined]
            return int(status.total)
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (OSError, ValueError, AttributeError):
        return None


@functools.lru_cache(maxsize=1)
def detect() -> HardwareInfo:
    """The accelerator PyTorch would use (imports torch: a few seconds the first time)."""
    ram = _ram_bytes()
    cpu_name = f"CPU ({platform.machine() or 'unknown'}, {os.cpu_count() or '?'} cores)"
    try:
        import torch
    except Exception:  # a broken install must still be diagnosable
        return HardwareInfo("cpu", cpu_name, None, ram)
    version = str(torch.__version__)
    try:
        if torch.cuda.is_available():
            props = torch.cuda.get_device_properties(0)
            return HardwareInfo("cuda", str(props.name), int(props.total_memory), ram,
                                (int(props.major), int(props.minor)), version,
                                torch.version.cuda)
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return HardwareInfo("mps", "Apple GPU (MPS)", None, ram, None, version)
    except Exception:  # a driver problem: PyTorch will fall back to the CPU as well
        pass
    return HardwareInfo("cpu", cpu_name, None, ram, None, version, torch.version.cuda)


def runtime_dtype(device: str, configured: str, info: HardwareInfo | None = None,
                  weights_gb: float | None = None) -> str:
    """The dtype to load a checkpoint saved in ``configured`` with, on ``device``."""
    low_precision = configured in ("bfloat16", "float16")
    if device.startswith("mps"):
        return "float32" if low_precision else configured
    if device.startswith("cuda") and configured == "bfloat16":
        info = info or detect()
        if info.device == "cuda" and not info.native_bf16:
            fits_fp32 = (info.vram_bytes is None or weights_gb is None
                         or info.vram_bytes >= 2 * weights_gb * 1000**3 + 2 * GIB)
            return "float32" if fits_fp32 else "float16"
    return configured


def advice(entry: catalog.CatalogEntry, info: HardwareInfo | None = None) -> Advice:
    info = info or detect()
    need = entry.vram_gb or 0.0
    weights_gb = entry.approx_size_bytes / 1000**3
    dtype = runtime_dtype(info.device, "bfloat16", info, weights_gb)
    name = entry.id
    if info.device == "cuda":
        vram_gb = (info.vram_bytes or 0) / GIB
        if vram_gb + 0.5 >= need:
            return Advice(entry, "cuda", dtype, True, True,
                          f"{name} fits your GPU ({vram_gb:.0f} GB, it needs about {need:.0f} GB) "
                          f"and speaks faster than real time.")
        return Advice(entry, "cpu", "bfloat16", False, False,
                      f"{name} needs about {need:.0f} GB of GPU memory; your GPU has "
                      f"{vram_gb:.0f} GB, so it would run on the CPU, slower than real time.")
    if info.device == "mps":
        return Advice(entry, "mps", dtype, True, False,
                      f"{name} runs on the Apple GPU; it may be slower than real time, so long "
                      f"texts can pause between sentences.")
    ram_gb = (info.ram_bytes or 0) / GIB
    if info.ram_bytes and ram_gb < weights_gb * 1.5 + 2:
        return Advice(entry, "cpu", dtype, False, False,
                      f"{name} needs about {weights_gb * 1.5 + 2:.0f} GB of memory; this "
                      f"computer has {ram_gb:.0f} GB. Choose a smaller model.")
    slower = "much slower" if need >= 8 else "slower"
    return Advice(entry, "cpu", dtype, True, False,
                  f"No GPU found: {name} runs on the CPU, {slower} than real time. Speech starts "
                  f"after the first sentence but pauses while the model catches up.")


def recommended_model(info: HardwareInfo | None = None) -> catalog.CatalogEntry:
    """The model to pre-select: the best one that speaks in real time here, else the fastest.

    (VoxCPM1.5 is the fastest of the three; VoxCPM2 is the only one for languages other than
    Chinese and English, which the dialog should say next to the choice.)"""
    info = info or detect()
    models = catalog.tts_models()
    for entry in models:
        if advice(entry, info).realtime:
            return entry
    return catalog.lookup("VoxCPM1.5")
