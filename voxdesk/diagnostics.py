"""A plain-text report for bug reports: versions, platform, device, models and recent errors.

``voxdesk diagnostics`` prints it; the window's "Copy diagnostics" puts the same text on the
clipboard. Nothing secret goes in: tokens are reported as set or not, and the home folder is
written as ``~``.
"""

from __future__ import annotations

import os
import platform
import re
import sys
from importlib import metadata
from pathlib import Path

from voxdesk import __version__

PACKAGES = ("voxcpm", "torch", "torchaudio", "transformers", "huggingface_hub", "numpy",
            "PySide6-Essentials", "sounddevice", "soundfile", "modelscope")
ENV_VARS = ("HF_ENDPOINT", "HF_HOME", "HF_HUB_CACHE", "HF_HUB_OFFLINE", "MODELSCOPE_DOMAIN",
            "VOXDESK_CONFIG_DIR", "VOXDESK_DATA_DIR", "VOXDESK_CACHE_DIR", "VOXDESK_LOG_DIR",
            "VOXDESK_MODELS_DIR", "CUDA_VISIBLE_DEVICES")
SECRET_VARS = ("HF_TOKEN", "MODELSCOPE_API_TOKEN")
_ENTRY = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (\w+) ")


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def recent_errors(limit: int = 20, log_files: list[Path] | None = None) -> list[str]:
    """The last ``limit`` WARNING/ERROR/CRITICAL entries of the log (with their tracebacks),
    oldest first, across the rotated files."""
    if log_files is None:
        from voxdesk.logging_setup import BACKUPS, log_file

        current = log_file()
        log_files = [current.with_name(f"{current.name}.{i}") for i in range(BACKUPS, 0, -1)]
        log_files.append(current)
    entries: list[str] = []
    for path in log_files:
        try:
            lines = path.read_text("utf-8", errors="replace").splitlines()
        except OSError:
            continue
        current_entry: list[str] | None = None
        for line in lines:
            match = _ENTRY.match(line)
            if match:
                if current_entry is not None:
                    entries.append("\n".join(current_entry))
                current_entry = [line] if match.group(1) in ("WARNING", "ERROR", "CRITICAL") \
                    else None
            elif current_entry is not None:
                current_entry.append(line)  # a traceback or a multi-line message
        if current_entry is not None:
            entries.append("\n".join(current_entry))
    return entries[-limit:]


def _models_section() -> list[str]:
    from voxdesk import models
    from voxdesk.models import store

    lines = [f"selected model: {models.selected_model()}",
             f"models folder: {store.models_dir()}"]
    for entry in models.catalogue():
        found = store.installed(entry.repo_id)
        if found is not None:
            revision = found.manifest.revision[:12] if found.manifest else "?"
            lines.append(f"  {entry.id}: {found.location} {found.path} "
                         f"({models.format_size(found.size_bytes)}, revision {revision})")
        elif store.partial_bytes(entry.repo_id):
            lines.append(f"  {entry.id}: partial download "
                         f"({models.format_size(store.partial_bytes(entry.repo_id))})")
    return lines


def _hardware_section() -> list[str]:
    from voxdesk.models import hardware

    info = hardware.detect()
    lines = [f"device: {info.device} ({info.device_name})"]
    if info.vram_bytes:
        lines.append(f"GPU memory: {info.vram_bytes / hardware.GIB:.1f} GB")
    if info.cuda_capability:
        lines.append(f"CUDA compute capability: {info.cuda_capability[0]}.{info.cuda_capability[1]}")
    if info.cuda_version:
        lines.append(f"torch CUDA build: {info.cuda_version}")
    if info.ram_bytes:
        lines.append(f"RAM: {info.ram_bytes / hardware.GIB:.1f} GB")
    lines.append(f"CPU cores: {os.cpu_count()}")
    lines.append(f"CPU capability: {info.cpu_capability or 'unknown'}, native bfloat16: "
                 f"{'yes' if info.cpu_bf16 else 'no'}")
    from voxdesk.models import catalog

    # The rule the model loader applies to the real (bfloat16) checkpoint, and why.
    entry = catalog.lookup("VoxCPM2")
    choice = hardware.dtype_choice(info.device, "bfloat16", info,
                                   entry.approx_size_bytes / 1000**3)
    lines.append(f"dtype for VoxCPM2 here: {choice.reason}")
    return lines


def _audio_section() -> list[str]:
    try:
        import sounddevice

        default = sounddevice.query_devices(kind="output")
        return [f"default output: {default['name']}",
                f"PortAudio: {sounddevice.get_portaudio_version()[1]}"]
    except Exception as exc:  # no PortAudio, no devices: exactly what a report should show
        return [f"audio: unavailable ({type(exc).__name__}: {exc})"]


def _section(title: str, build) -> list[str]:  # type: ignore[no-untyped-def]
    try:
        body = build()
    except Exception as exc:  # a report must come out even when part of the app is broken
        body = [f"(could not be collected: {type(exc).__name__}: {exc})"]
    return [f"## {title}", *body, ""]


def collect(max_errors: int = 20) -> str:
    """The whole report as text (imports torch: a few seconds if it is not loaded yet)."""
    from voxdesk import paths
    from voxdesk.logging_setup import log_file

    def versions() -> list[str]:
        frozen = " (bundled application)" if getattr(sys, "frozen", False) else ""
        return [f"VoxDesk {__version__}{frozen}",
                f"Python {platform.python_version()} ({sys.executable})",
                f"OS: {platform.platform()}",
                *(f"{name}: {_version(name)}" for name in PACKAGES)]

    def folders() -> list[str]:
        return [f"config: {paths.config_dir()}", f"data: {paths.data_dir()}",
                f"cache: {paths.cache_dir()}", f"log: {log_file()}"]

    def environment() -> list[str]:
        lines = [f"{name}={os.environ[name]}" for name in ENV_VARS if os.environ.get(name)]
        lines += [f"{name} is {'set' if os.environ.get(name) else 'not set'}"
                  for name in SECRET_VARS]
        return lines

    def errors() -> list[str]:
        found = recent_errors(max_errors)
        return found or ["(none)"]

    lines = ["# VoxDesk diagnostics", ""]
    lines += _section("Versions", versions)
    lines += _section("Hardware", _hardware_section)
    lines += _section("Audio", _audio_section)
    lines += _section("Models", _models_section)
    lines += _section("Folders", folders)
    lines += _section("Environment", environment)
    lines += _section(f"Recent warnings and errors (last {max_errors})", errors)
    return _private("\n".join(lines).rstrip() + "\n")


def _private(text: str) -> str:
    home = str(Path.home())
    return text.replace(home, "~") if len(home) > 1 else text
