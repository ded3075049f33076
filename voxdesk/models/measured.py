"""What each catalogue model does on *this* computer: advice from measurement, not a rule.

    figures = load_figures(info)          # earlier measurements here (cache folder, atomic)
    advise(entry, info, figures)          # fits? dtype? expected real-time factor?
    recommend(info, figures)              # best-sounding model that keeps up, else the fastest
    python -m voxdesk.models.measured VoxCPM-0.5B VoxCPM1.5   # measure (one JSON line each)

A measurement runs a few generation steps of the architecture's full-size random model
(voxdesk.testing.tiny_model: the same computation per step as the real weights), built once
into the cache folder, and loaded through the same loader as a real checkpoint, so in the dtype
VoxDesk would really use here. It runs in its own process: the window starts it from a
background thread and can stop it at once (Skip), and its memory is freed when it ends.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from voxdesk.models import catalog, hardware

#: The tiny_model architecture of each catalogue model.
ARCHITECTURES = {"VoxCPM2": "voxcpm2", "VoxCPM1.5": "voxcpm1.5", "VoxCPM-0.5B": "voxcpm-0.5b"}
MEASURE_STEPS = 4  # generation steps timed (after one warm-up step): 0.3-0.6 s of audio
STORE_NAME = "model-speed.json"
SCHEMA = 1


@dataclass(frozen=True)
class Measurement:
    model: str  # catalogue id
    machine: str  # machine_key(): figures of another computer (or GPU) do not apply
    device: str
    dtype: str  # what the loader picked here
    rtf: float  # synthesis time / audio time: below 1 keeps up with playback
    first_chunk_s: float | None
    steps: int
    measured_at: str  # ISO date, UTC

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Measurement | None:
        try:
            rtf = float(data["rtf"])
            if not rtf > 0 or rtf == float("inf"):
                return None
            first = data.get("first_chunk_s")
            return cls(str(data["model"]), str(data["machine"]), str(data["device"]),
                       str(data["dtype"]), rtf, None if first is None else float(first),
                       int(data["steps"]), str(data["measured_at"]))
        except (KeyError, TypeError, ValueError):
            return None  # a damaged entry is ignored, not fatal


def machine_key(info: hardware.HardwareInfo) -> str:
    return f"{info.device}|{info.device_name}|{os.cpu_count() or 0} cpus"


def store_path() -> Path:
    from voxdesk.paths import cache_dir

    return cache_dir() / STORE_NAME


def _read_all(path: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    entries = data.get("measurements") if isinstance(data, dict) else None
    return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []


def load_figures(info: hardware.HardwareInfo, path: Path | None = None) -> dict[str, Measurement]:
    """This machine's latest figure per model (a missing or damaged file: none)."""
    key = machine_key(info)
    figures: dict[str, Measurement] = {}
    for entry in _read_all(path or store_path()):
        measurement = Measurement.from_dict(entry)
        if measurement is not None and measurement.machine == key:
            figures[measurement.model] = measurement
    return figures


def record(measurement: Measurement, path: Path | None = None) -> None:
    """Keep ``measurement`` (replacing this machine's earlier one for the model), atomically."""
    from voxdesk.atomic import atomic_write_json

    path = path or store_path()
    kept = [e for e in _read_all(path)
            if (e.get("model"), e.get("machine")) != (measurement.model, measurement.machine)]
    atomic_write_json(path, {"schema": SCHEMA, "measurements": kept + [asdict(measurement)]})


# -- advice ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelAdvice:
    entry: catalog.CatalogEntry
    device: str
    dtype: str
    fits: bool
    realtime: bool  # measured RTF < 1 where measured, else the hardware rule's guess
    rtf: float | None  # measured here; None: not measured
    message: str


def advise(entry: catalog.CatalogEntry, info: hardware.HardwareInfo,
           figures: dict[str, Measurement]) -> ModelAdvice:
    base = hardware.advice(entry, info)
    measured = figures.get(entry.id)
    if measured is None or not base.fits:
        return ModelAdvice(entry, base.device, base.dtype, base.fits, base.realtime, None,
                           base.message)
    realtime = measured.rtf < 1.0
    where = "the GPU" if measured.device.startswith("cuda") else (
        "the Apple GPU" if measured.device == "mps" else "the CPU")
    if realtime:
        verdict = "faster than real time: long texts play without pauses"
    else:
        verdict = (f"{measured.rtf:.1f}× slower than speech: speech starts soon but pauses "
                   "between sentences while the model catches up")
    first = (f", first sound after about {measured.first_chunk_s:.1f} s"
             if measured.first_chunk_s is not None else "")
    message = (f"Measured on this computer: expected real-time factor {measured.rtf:.2f} "
               f"({measured.dtype} on {where}{first}), {verdict}.")
    return ModelAdvice(entry, measured.device, measured.dtype, True, realtime, measured.rtf,
                       message)


def recommend(info: hardware.HardwareInfo, figures: dict[str, Measurement]
              ) -> catalog.CatalogEntry:
    """The best-sounding model that keeps up here (catalogue order: best first), else the
    fastest one measured, else the hardware rule's choice."""
    advices = [advise(entry, info, figures) for entry in catalog.tts_models()]
    fitting = [a for a in advices if a.fits]
    for advice in fitting:
        if advice.realtime:
            return advice.entry
    measured = [a for a in fitting if a.rtf is not None]
    if measured:
        return min(measured, key=lambda a: a.rtf or 0.0).entry
    return hardware.recommended_model(info)


# -- measuring -----------------------------------------------------------------------------------


def speed_model_dir(architecture: str, tiny: bool = False) -> Path:
    from voxdesk.paths import cache_dir

    return cache_dir() / "speed-models" / (architecture + ("-tiny" if tiny else ""))


def _build_once(architecture: str, tiny: bool) -> Path:
    """The random model, built on first use into the cache folder (a folder is only used once
    complete: it is built beside it and renamed)."""
    from voxdesk.testing import tiny_model

    folder = speed_model_dir(architecture, tiny)
    if (folder / "model.safetensors").is_file() and (folder / "audiovae.safetensors").is_file():
        return folder
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    tiny_model.build(partial, full_size=not tiny, architecture=architecture, stop_never=True)
    shutil.rmtree(folder, ignore_errors=True)
    partial.rename(folder)
    return folder


def measure(model: str, device: str = "auto", steps: int = MEASURE_STEPS,
            tiny: bool = False) -> Measurement:
    """Time ``steps`` generation steps of ``model``'s architecture here (one warm-up first)."""
    from voxdesk.engine import Engine, SynthesisParams, SynthesisRequest

    entry = catalog.lookup(model)
    architecture = ARCHITECTURES[entry.id]
    engine = Engine.load(str(_build_once(architecture, tiny)), device)
    text = "Measuring how fast this computer speaks."
    warm = engine.synthesize(SynthesisRequest(text, None, SynthesisParams(min_len=1, max_len=1)))
    for _ in warm:
        pass
    stream = engine.synthesize(SynthesisRequest(text, None,
                                                SynthesisParams(min_len=steps, max_len=steps)))
    for _ in stream:
        pass
    stats = stream.stats
    if not stats.real_time_factor:
        raise RuntimeError("the measurement produced no audio")
    return Measurement(
        model=entry.id, machine=("tiny|" if tiny else "") + machine_key(hardware.detect()),
        device=engine.info.device,
        dtype=engine.info.dtype, rtf=float(stats.real_time_factor),
        first_chunk_s=stats.first_chunk_latency, steps=steps,
        measured_at=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m voxdesk.models.measured",
        description="Measure each model's speed on this computer (full-size random weights) "
        "and keep the figures for the first-run dialog and `voxdesk models list`.")
    parser.add_argument("models", nargs="*", metavar="MODEL",
                        help=f"catalogue models (default: all: {', '.join(ARCHITECTURES)})")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--steps", type=int, default=MEASURE_STEPS)
    parser.add_argument("--tiny", action="store_true",
                        help="the tiny random model instead (tests: the whole path in seconds)")
    args = parser.parse_args(argv)
    names = args.models or list(ARCHITECTURES)
    failures = 0
    for name in names:
        print(json.dumps({"event": "start", "model": name}), flush=True)
        try:
            measurement = measure(name, args.device, max(1, args.steps), args.tiny)
            record(measurement)
        except Exception as exc:  # noqa: BLE001 - reported as a line, the next model goes on
            failures += 1
            print(json.dumps({"event": "error", "model": name, "message": str(exc)}), flush=True)
            continue
        print(json.dumps({"event": "result", **asdict(measurement)}), flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
