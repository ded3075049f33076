"""What this computer can run: the accelerator PyTorch sees, its memory, and plain advice.

    info = detect()                      # CUDA GPU, Apple GPU (MPS) or CPU, with memory sizes
    advice(entry, info)                  # fits? which dtype? faster than real time?
    recommended_model(info)              # what the first-run dialog pre-selects

The dtype VoxDesk loads with follows what the device computes natively (:func:`dtype_choice`):
the checkpoint's bfloat16 on GPUs that compute in it (NVIDIA Ampere and newer) and on CPUs with
AVX-512 BF16 or AMX (measured on a Zen 5 CPU: 4x faster to the first chunk and 1.9x faster
overall than float32); float32 on CPUs without them (there bfloat16 is emulated and 1.4x
*slower* than float32), on Apple GPUs (voxcpm's own rule: half precision drifts there) and on
older NVIDIA GPUs, as long as float32 fits in memory; else the half-size dtype that fits.
"""

from __future__ import annotations

import functools
import os
import platform
import sys
from collections.abc import Iterable
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
    cpu_capability: str = ""  # torch.backends.cpu.get_cpu_capability(): "AVX512", "AVX2", ...
    cpu_bf16: bool = False  # the CPU computes bfloat16 natively (AVX-512 BF16 or AMX)

    @property
    def native_bf16(self) -> bool:
        if self.device == "cpu":
            return self.cpu_bf16
        return (self.cuda_capability or (0, 0)) >= (8, 0)

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


#: CPU flags (Linux /proc/cpuinfo names) with which oneDNN computes bfloat16 matrix products in
#: hardware rather than converting to float32 and back.
BF16_CPU_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})


def cpu_computes_bf16(flags: Iterable[str], capability: str = "",
                      max_isa: str | None = None) -> bool:
    """Whether bfloat16 runs natively on this CPU: its flags include AVX-512 BF16 or AMX, torch's
    kernels can use AVX-512 at all (``capability``, e.g. "AVX512"; empty: unknown), and oneDNN is
    not capped below them (``max_isa``: ONEDNN_MAX_CPU_ISA, e.g. "AVX2")."""
    if not BF16_CPU_FLAGS & {flag.lower() for flag in flags}:
        return False
    if capability and capability.upper() not in ("AVX512", "AVX512_BF16", "AMX"):
        return False  # AVX2 or DEFAULT: torch itself was told not to use AVX-512
    if max_isa:
        isa = max_isa.strip().upper()
        if isa not in ("ALL", "DEFAULT") and not any(k in isa for k in ("BF16", "AMX", "AVX10")):
            return False
    return True


def _cpu_flags() -> set[str]:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith(("flags", "Features")):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()  # not Linux: unknown, so not assumed


def _cpu_capability() -> str:
    try:
        import torch

        return str(torch.backends.cpu.get_cpu_capability())
    except Exception:  # noqa: BLE001 - an old or broken torch: unknown
        return ""


@functools.lru_cache(maxsize=1)
def detect() -> HardwareInfo:
    """The accelerator PyTorch would use (imports torch: a few seconds the first time)."""
    ram = _ram_bytes()
    cpu_name = f"CPU ({platform.machine() or 'unknown'}, {os.cpu_count() or '?'} cores)"
    capability = _cpu_capability()
    bf16 = cpu_computes_bf16(_cpu_flags(), capability,
                             os.environ.get("ONEDNN_MAX_CPU_ISA") or os.environ.get(
                                 "DNNL_MAX_CPU_ISA"))
    try:
        import torch
    except Exception:  # a broken install must still be diagnosable
        return HardwareInfo("cpu", cpu_name, None, ram, cpu_capability=capability, cpu_bf16=bf16)
    version = str(torch.__version__)
    try:
        if torch.cuda.is_available():
            props = torch.cuda.get_device_properties(0)
            return HardwareInfo("cuda", str(props.name), int(props.total_memory), ram,
                                (int(props.major), int(props.minor)), version,
                                torch.version.cuda, capability, bf16)
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return HardwareInfo("mps", "Apple GPU (MPS)", None, ram, None, version,
                                cpu_capability=capability, cpu_bf16=bf16)
    except Exception:  # a driver problem: PyTorch will fall back to the CPU as well
        pass
    return HardwareInfo("cpu", cpu_name, None, ram, None, version, torch.version.cuda,
                        capability, bf16)


DTYPES = ("auto", "bfloat16", "float32", "float16")


@dataclass(frozen=True)
class DtypeChoice:
    dtype: str
    reason: str  # one sentence: why this dtype, for diagnostics and the bench header


def dtype_choice(device: str, configured: str, info: HardwareInfo | None = None,
                 weights_gb: float | None = None, requested: str = "auto") -> DtypeChoice:
    """The dtype to load a checkpoint saved in ``configured`` (``weights_gb`` on disk) with, on
    ``device``, and why. ``requested`` other than "auto" is the user's override and wins."""
    if requested not in DTYPES:
        raise ValueError(f"unknown dtype {requested!r}")
    if requested != "auto":
        return DtypeChoice(requested, f"{requested}: chosen by the user (--dtype / settings)")
    low_precision = configured in ("bfloat16", "float16")
    if not low_precision:
        return DtypeChoice(configured, f"{configured}: the checkpoint's own dtype")
    # float32 holds each weight in 4 bytes instead of 2; plus activations and the rest of the
    # computer (the same allowance as advice() makes for the model itself).
    fp32_gb = None if weights_gb is None else 2 * weights_gb

    def fp32_fits(memory: int | None, factor: float) -> bool:
        return memory is None or fp32_gb is None or memory >= (fp32_gb * factor) * 1000**3 + 2 * GIB

    if device.startswith("mps"):
        return DtypeChoice("float32", "float32: half precision drifts on Apple GPUs (voxcpm)")
    info = info or detect()
    if device.startswith("cuda"):
        if configured == "bfloat16" and (info.device != "cuda" or info.native_bf16):
            return DtypeChoice("bfloat16", "bfloat16: the checkpoint's dtype, native on this GPU")
        if configured == "bfloat16" and fp32_fits(info.vram_bytes, 1.0):
            return DtypeChoice("float32", "float32: this GPU (before Ampere) emulates bfloat16 "
                               "slowly, and float32 fits in its memory")
        return DtypeChoice("float16", "float16: this GPU emulates bfloat16 slowly and float32 "
                           "does not fit in its memory") if configured == "bfloat16" else \
            DtypeChoice(configured, f"{configured}: the checkpoint's own dtype")
    # The CPU.
    if configured == "bfloat16" and info.cpu_bf16:
        return DtypeChoice("bfloat16", "bfloat16: this CPU computes it natively (AVX-512 BF16 "
                           "or AMX)")
    if fp32_fits(info.ram_bytes, 1.5):
        return DtypeChoice("float32", f"float32: this CPU has no native {configured} "
                           f"(no AVX-512 BF16 or AMX), where float32 is faster, and it fits "
                           f"in memory")
    return DtypeChoice(configured, f"{configured}: float32 would be faster on this CPU but does "
                       f"not fit in its memory")


def runtime_dtype(device: str, configured: str, info: HardwareInfo | None = None,
                  weights_gb: float | None = None, requested: str = "auto") -> str:
    """The dtype to load a checkpoint saved in ``configured`` with, on ``device``."""
    return dtype_choice(device, configured, info, weights_gb, requested).dtype


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
        return Advice(entry, "cpu", runtime_dtype("cpu", "bfloat16", info, weights_gb), False,
                      False, f"{name} needs about {need:.0f} GB of GPU memory; your GPU has "
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
                  f"after the first sentence but pauses while the model catches up. It loads "
                  f"in {dtype_choice('cpu', 'bfloat16', info, weights_gb).reason}.")


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
