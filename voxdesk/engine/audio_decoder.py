"""The audio decoder (voxcpm's AudioVAE) with the same numbers in less time.

The decoder turns each step's latent patch into audio. On the full-size VoxCPM2 on a 2-core CPU
it took ~185 ms a chunk (0.16 s of audio), ~15 % of a step (session 6, docs/performance.md):

* **Weight normalisation recomputed on every call.** voxcpm builds every convolution with
  ``torch.nn.utils.weight_norm``, which recomputes ``weight = g * v / |v|`` before each forward
  (~45 ms a chunk on the CPU). That is for training; :func:`bake_weight_norm` computes each weight
  once (the same function on the same values, so the same bits), as vocoders do for inference.
* **Transposed convolutions on PyTorch's slow path.** A streamed chunk is a few frames, and for
  inputs that small PyTorch's CPU heuristics skip oneDNN: the first upsampling layer (2048
  channels, 5 frames) went through ``slow_conv_transpose2d``, ~100 ms a chunk. A transposed
  convolution is a matrix product followed by an overlap-add (``F.fold``, i.e. col2im): that
  runs as one memory-bound ``mm`` per layer. Only the summation order changes (float rounding,
  ~1e-6 of full scale). CPU only: on a GPU cuDNN's kernels are the fast ones.

:func:`speed_up_audio_decoder` does what applies to the model's decoder and device; no Qt here.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

log = logging.getLogger(__name__)

#: The attribute that marks an AudioVAE whose streaming decoder is VoxDesk's.
FAST_STREAMING_ATTRIBUTE = "_voxdesk_fast_streaming"


def bake_weight_norm(module: Any) -> int:
    """Replace every weight-normalised parameter under ``module`` by the weight it computes (old
    hook-style ``weight_norm`` and the newer parametrisation); returns how many were baked."""
    from torch.nn.utils import parametrize, remove_weight_norm
    from torch.nn.utils.weight_norm import WeightNorm

    baked = 0
    for sub in module.modules():
        for hook in list(sub._forward_pre_hooks.values()):
            if isinstance(hook, WeightNorm):
                remove_weight_norm(sub, hook.name)
                baked += 1
        for name in list(getattr(sub, "parametrizations", {}) or {}):
            if any(type(p).__name__ == "_WeightNorm" for p in sub.parametrizations[name]):
                parametrize.remove_parametrizations(sub, name, leave_parametrized=True)
                baked += 1
    return baked


def transposed_conv1d(x: Any, conv: Any) -> Any:
    """``nn.ConvTranspose1d.forward(conv, x)`` as a matrix product and an overlap-add, for the
    plain case (no padding, output padding, dilation or groups; the caller checks)."""
    import torch.nn.functional as F

    batch, channels_in, frames = x.shape
    _, channels_out, kernel = conv.weight.shape
    stride = conv.stride[0]
    # columns[b, o*K + k, t] = sum_i x[b, i, t] * w[i, o, k]: each input frame's K output taps
    columns = (x.transpose(1, 2) @ conv.weight.reshape(channels_in, channels_out * kernel))
    length = (frames - 1) * stride + kernel
    out = F.fold(columns.transpose(1, 2), output_size=(1, length), kernel_size=(1, kernel),
                 stride=(1, stride)).squeeze(2)
    return out if conv.bias is None else out + conv.bias[None, :, None]


def is_plain_transposed_conv1d(conv: Any) -> bool:
    import torch

    return (isinstance(conv, torch.nn.ConvTranspose1d) and conv.groups == 1
            and tuple(conv.padding) == (0,) and tuple(conv.output_padding) == (0,)
            and tuple(conv.dilation) == (1,))


@functools.lru_cache(maxsize=1)
def _fast_streaming_decoder_class() -> type:
    """voxcpm's StreamingVAEDecoder (VoxCPM2), its transposed convolutions through
    :func:`transposed_conv1d`. The causal state handling is voxcpm's: each chunk's input is
    prefixed with the last ``ctx`` frames of the one before and the overlapping output trimmed."""
    import torch
    import torch.nn.functional as F
    from voxcpm.modules.audiovae.audio_vae_v2 import StreamingVAEDecoder

    class FastStreamingVAEDecoder(StreamingVAEDecoder):  # type: ignore[misc, valid-type]
        def _patch_transpose_conv(self, mod: Any, ctx: int, trim: int) -> None:
            if not is_plain_transposed_conv1d(mod):
                super()._patch_transpose_conv(mod, ctx, trim)
                return
            states: dict[int, Any] = self._states
            key = id(mod)
            left = ctx * mod.stride[0]

            def forward(x: Any) -> Any:
                full = torch.cat([states[key], x], dim=-1) if key in states else F.pad(x, (ctx, 0))
                states[key] = x[:, :, -ctx:].detach()
                out = transposed_conv1d(full, mod)
                return out[..., left:-trim] if trim > 0 else out[..., left:]

            self._originals.append((mod, mod.forward))
            mod.forward = forward

    return FastStreamingVAEDecoder


def stream_through_matmul(vae: Any) -> bool:
    """Make ``vae.streaming_decode()`` return the fast decoder; False where the VAE has none
    (VoxCPM 1.x decodes whole windows, where oneDNN is used already)."""
    if getattr(vae, FAST_STREAMING_ATTRIBUTE, False):
        return True
    if not callable(getattr(vae, "streaming_decode", None)):
        return False
    try:
        from voxcpm.modules.audiovae.audio_vae_v2 import StreamingVAEDecoder
    except ImportError:  # a voxcpm without the VoxCPM2 streaming decoder
        return False
    if type(vae.streaming_decode()) is not StreamingVAEDecoder:
        return False  # some other decoder: leave it alone
    decoder_class = _fast_streaming_decoder_class()
    vae.streaming_decode = lambda: decoder_class(vae)
    setattr(vae, FAST_STREAMING_ATTRIBUTE, True)
    return True


def stream_as_voxcpm_does(vae: Any) -> None:
    if getattr(vae, FAST_STREAMING_ATTRIBUTE, False):
        del vae.streaming_decode
        delattr(vae, FAST_STREAMING_ATTRIBUTE)


def speed_up_audio_decoder(tts: Any, device: str) -> None:
    """Bake the weight norm (any device), and on a CPU stream through matrix products."""
    vae = getattr(tts, "audio_vae", None)
    if vae is None:
        return
    baked = bake_weight_norm(vae)
    fast = device.startswith("cpu") and stream_through_matmul(vae)
    log.info("audio decoder: %d weight norms baked; transposed convolutions %s", baked,
             "as matrix products" if fast else "as shipped")
