"""The audio decoder's speed-ups (voxdesk.engine.audio_decoder) give voxcpm's audio: baked weight
norms the same bits, transposed convolutions as matrix products the same values up to rounding,
chunk by chunk as a stream decodes them and in a whole utterance."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from voxdesk.engine import SynthesisParams, SynthesisRequest
from voxdesk.engine.audio_decoder import (
    FAST_STREAMING_ATTRIBUTE,
    bake_weight_norm,
    stream_as_voxcpm_does,
    stream_through_matmul,
    transposed_conv1d,
)


def shipped_vae(model_dir):
    """The tiny model's AudioVAE as voxcpm builds it (weight norm recomputed on each call)."""
    from safetensors.torch import load_file
    from voxcpm.modules.audiovae import AudioVAEConfigV2, AudioVAEV2

    config = json.loads((model_dir / "config.json").read_text())["audio_vae_config"]
    vae = AudioVAEV2(config=AudioVAEConfigV2(**config))
    vae.load_state_dict(load_file(str(model_dir / "audiovae.safetensors")))
    return vae.eval()


def stream(decoder, latents: list[torch.Tensor]) -> torch.Tensor:
    with torch.inference_mode(), decoder as dec:
        return torch.cat([dec.decode_chunk(z) for z in latents], dim=-1)


@pytest.mark.parametrize(("channels_in", "channels_out", "kernel", "stride", "frames", "bias"),
                         [(8, 4, 16, 8, 5, True), (6, 3, 12, 6, 1, False), (5, 7, 5, 2, 9, True),
                          (4, 4, 3, 3, 4, True)])
def test_a_transposed_convolution_as_a_matrix_product(channels_in, channels_out, kernel, stride,
                                                      frames, bias):
    torch.manual_seed(3)
    conv = torch.nn.ConvTranspose1d(channels_in, channels_out, kernel, stride, bias=bias)
    x = torch.randn(2, channels_in, frames)
    with torch.no_grad():
        torch.testing.assert_close(transposed_conv1d(x, conv), conv(x), rtol=1e-5, atol=1e-6)


def test_the_decoder_streams_the_same_audio_with_less_work(engine, tiny_model_dir):
    from torch.nn.utils.weight_norm import WeightNorm
    from voxcpm.modules.audiovae.audio_vae_v2 import StreamingVAEDecoder

    vae = engine._model.tts.audio_vae  # as Engine.load left it
    assert not any(isinstance(h, WeightNorm) for m in vae.modules()
                   for h in m._forward_pre_hooks.values())
    assert getattr(vae, FAST_STREAMING_ATTRIBUTE, False)
    assert type(vae.streaming_decode()) is not StreamingVAEDecoder

    torch.manual_seed(5)
    latents = [torch.randn(1, 64, 4) for _ in range(6)]  # six steps' patches
    original = shipped_vae(tiny_model_dir)
    as_shipped = stream(StreamingVAEDecoder(original), latents)
    assert bake_weight_norm(original) > 0
    assert torch.equal(stream(StreamingVAEDecoder(original), latents), as_shipped)  # same bits
    fast = stream(vae.streaming_decode(), latents)
    assert fast.shape == as_shipped.shape
    torch.testing.assert_close(fast, as_shipped, rtol=0, atol=1e-5 * as_shipped.abs().max().item())


def test_an_utterance_sounds_the_same_through_either_decoder(warm_engine):
    vae = warm_engine._model.tts.audio_vae

    def speak() -> np.ndarray:
        request = SynthesisRequest("The decoder is only faster.",
                                   params=SynthesisParams(min_len=5, max_len=5, seed=8))
        return np.concatenate([c.samples for c in warm_engine.synthesize(request)])

    fast = speak()
    stream_as_voxcpm_does(vae)
    try:
        assert not getattr(vae, FAST_STREAMING_ATTRIBUTE, False)
        plain = speak()
    finally:
        assert stream_through_matmul(vae)
    assert fast.shape == plain.shape and np.abs(plain).max() > 0
    np.testing.assert_allclose(fast, plain, rtol=0, atol=1e-4)
