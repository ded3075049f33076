"""Making a loaded model fast before its first utterance: compilation and a warm-up.

* Compilation: the modules that run once per model step (the two language models' ``forward_step``,
  the local encoder and the diffusion estimator) go through ``torch.compile``, exactly the ones
  voxcpm's own ``optimize()`` compiles, in its mode on CUDA ("reduce-overhead": CUDA graphs).
  VoxDesk does it itself rather than calling ``optimize()`` because that one swallows every
  error (and compilation errors only show on the first call anyway) and runs on CUDA only: here
  a failure at any point puts the original modules back and the model speaks uncompiled.
* Warm-up: the first generation after loading pays one-off costs (memory allocation, oneDNN
  kernel selection, TorchScript profiling of the audio decoder, compilation): one short
  generation at load time pays them instead of the first utterance, and measures the model's
  step time for the real-time guard.

No Qt here; the engine runs this on a background thread that holds the model (Engine.load).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from voxdesk.engine.attention import attend_to_filled_cache, attend_to_whole_cache
from voxdesk.engine.patch_cache import forget_patch_encodings, keep_patch_encodings

log = logging.getLogger(__name__)

COMPILE_MODES = ("auto", "on", "off")
#: The warm-up: a short text, a few steps (the first ones of a generation cost the most).
WARM_UP_TEXT = "Warming up."
WARM_UP_STEPS = 6


@dataclass
class Acceleration:
    """What was done to make the model fast, for diagnostics and the benchmark."""

    compile_mode: str = "auto"
    compiled: bool = False  # the step modules run compiled (after a successful warm-up)
    compile_error: str | None = None  # why compilation was abandoned, if it was
    warm_up_s: float | None = None  # the whole warm-up, compilation included
    warm_up_steps_s: list[float] = field(default_factory=list)  # each chunk's time in it

    def describe(self) -> str:
        if self.compiled:
            state = "compiled (torch.compile)"
        elif self.compile_error:
            state = f"not compiled: compilation failed ({self.compile_error})"
        else:
            state = "not compiled"
        warm = "" if self.warm_up_s is None else f", warm-up {self.warm_up_s:.1f} s"
        return state + warm


def apply_uncompiled_speed_ups(tts: Any, device: str) -> None:
    """What makes an uncompiled model faster on the CPU at the same weights and steps: attention
    over the filled KV cache only (voxdesk.engine.attention), each prompt patch encoded once
    (voxdesk.engine.patch_cache), the linear layers' weights laid out for oneDNN
    (voxdesk.engine.packed_linear; it sums in another order: bfloat16 audio moves by rounding,
    SNR ~59 dB, docs/performance.md). The first two change shapes from step to step, which
    compilation (CUDA graphs) cannot have: :func:`undo_uncompiled_speed_ups` before compiling.
    Packing cannot be undone, so this runs only on a model that will not be compiled (at load,
    or after compilation failed). Not on a GPU: the first two read a value back to the host
    every step (a synchronisation), for work a GPU does in parallel anyway; oneDNN is the CPU's."""
    if not device.startswith("cpu"):
        return
    attend_to_filled_cache(tts)
    keep_patch_encodings(tts)
    from voxdesk.engine.packed_linear import pack_linear_weights  # (imports torch)

    packed = pack_linear_weights(tts)
    log.info("%d linear layers packed for oneDNN", packed)


def undo_uncompiled_speed_ups(tts: Any) -> None:
    """Undo what compilation cannot have (packed linear layers stay: compilation is decided
    before they are packed)."""
    attend_to_whole_cache(tts)
    forget_patch_encodings(tts)


def should_compile(mode: str, device: str) -> bool:
    """"auto": on CUDA when triton (torch.compile's GPU code generator) is installed. On the CPU
    compiling the step modules showed no gain where it was tried (and costs minutes of
    compilation; docs/performance.md), so only "on"."""
    if mode not in COMPILE_MODES:
        raise ValueError(f"unknown compile mode {mode!r}")
    if mode != "auto":
        return mode == "on"
    if not device.startswith("cuda"):
        return False
    try:
        import triton  # noqa: F401
    except ImportError:
        return False
    return True


def _targets(tts: Any) -> list[tuple[Any, str]]:
    return [(tts.base_lm, "forward_step"), (tts.residual_lm, "forward_step"),
            (tts, "feat_encoder"), (tts.feat_decoder, "estimator")]


Originals = dict[tuple[int, str], tuple[Any, Any]]


def compile_step_modules(tts: Any, device: str) -> Originals:
    """Replace the per-step modules by compiled ones; returns what :func:`restore` needs.
    Raises whatever torch.compile raises (the originals are back in place then)."""
    import torch

    from voxdesk import paths

    # Keep the compiled kernels across runs (torch's default is a temporary folder).
    os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", str(paths.cache_dir() / "torchinductor"))
    mode = "reduce-overhead" if device.startswith("cuda") else None
    originals: Originals = {(id(owner), name): (owner, getattr(owner, name))
                            for owner, name in _targets(tts)}
    # voxcpm prefills (variable length) through the uncompiled encoder when this is set.
    tts._feat_encoder_raw = tts.feat_encoder
    try:
        for (_, name), (owner, original) in originals.items():
            setattr(owner, name, torch.compile(original, mode=mode, fullgraph=True))
    except BaseException:
        restore(originals)
        raise
    return originals


def restore(originals: Originals) -> None:
    for (_, name), (owner, original) in originals.items():
        setattr(owner, name, original)


def warm_up(tts: Any, device: str, mode: str,
            generate: Callable[[], list[float]]) -> Acceleration:
    """Compile (if ``mode`` and the device say so) and run ``generate`` (one short generation,
    returning each chunk's seconds) once; never raises: a model that cannot be warmed up or
    compiled still speaks, uncompiled and cold."""
    result = Acceleration(compile_mode=mode)
    started = time.monotonic()
    originals: Originals | None = None
    if should_compile(mode, device):
        undo_uncompiled_speed_ups(tts)  # a captured step needs voxcpm's fixed shapes
        try:
            originals = compile_step_modules(tts, device)
        except Exception as exc:  # noqa: BLE001 - any failure: speak uncompiled
            result.compile_error = f"{type(exc).__name__}: {exc}"
            log.warning("Compiling the model failed; it runs uncompiled: %s", exc)
            apply_uncompiled_speed_ups(tts, device)
    try:
        result.warm_up_steps_s = generate()
        result.compiled = originals is not None
    except Exception as exc:  # noqa: BLE001
        if originals is None:
            log.warning("The warm-up generation failed: %s", exc)
        else:  # compilation errors surface on the first call: undo it and warm up again
            restore(originals)
            apply_uncompiled_speed_ups(tts, device)
            result.compile_error = f"{type(exc).__name__}: {exc}"
            log.warning("The compiled model failed its warm-up; it runs uncompiled: %s", exc)
            try:
                result.warm_up_steps_s = generate()
            except Exception as again:  # noqa: BLE001
                log.warning("The warm-up generation failed: %s", again)
    result.warm_up_s = time.monotonic() - started
    log.info("Model warm-up: %s", result.describe())
    return result
