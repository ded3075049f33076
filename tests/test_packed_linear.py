"""The linear layers run with their weights laid out once for oneDNN (voxdesk.engine.packed_linear):
the same products up to rounding, no second copy of the weights, and on the real tiny model the
same speech as voxcpm's own layers."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest
import torch
from torch import nn

from voxdesk.engine import Engine, SynthesisParams, SynthesisRequest
from voxdesk.engine.model import load_model
from voxdesk.engine.packed_linear import PackedLinear, pack_linear_weights


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("bias", [True, False])
def test_a_packed_layer_multiplies_as_the_plain_one(dtype, bias):
    torch.manual_seed(2)
    plain = nn.Linear(256, 384, bias=bias).to(dtype)
    packed = PackedLinear(plain)
    for shape in ((1, 256), (7, 256), (2, 5, 256)):  # a decoding row, a prefill, a batch
        x = torch.randn(*shape).to(dtype)
        with torch.inference_mode():
            want, got = plain(x).float(), packed(x).float()
        assert got.shape == want.shape
        tolerance = 1e-5 if dtype == torch.float32 else 1e-2  # bfloat16 rounds at 2^-8
        assert (got - want).abs().max() <= tolerance * want.abs().max()


def test_packing_replaces_every_linear_layer_and_keeps_one_copy_of_each_weight():
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(),
                          nn.Sequential(nn.Linear(128, 32, bias=False), nn.LayerNorm(32)))
    weights = [weakref.ref(m.weight) for m in model.modules() if isinstance(m, nn.Linear)]
    x = torch.randn(4, 64)
    with torch.inference_mode():
        want = model(x)
    assert pack_linear_weights(model) == 0  # all too small to pay for oneDNN's call
    assert pack_linear_weights(model, min_elements=0) == 2
    assert not any(isinstance(m, nn.Linear) for m in model.modules())
    assert isinstance(model[2][1], nn.LayerNorm)  # everything else as it was
    gc.collect()
    assert all(ref() is None for ref in weights)  # the plain weights are gone from memory
    with torch.inference_mode():
        torch.testing.assert_close(model(x), want, rtol=1e-5, atol=1e-5)
    assert pack_linear_weights(model, min_elements=0) == 0  # nothing left to pack


def test_packed_layers_speak_as_voxcpm_s_own_layers_do(warm_engine, tiny_model_dir):
    tts = warm_engine._model.tts
    # Engine.load packs only layers big enough to gain (the full-width build in
    # test_tiny_model_architectures has them): the tiny model's are not.
    assert not any(isinstance(m, PackedLinear) for m in tts.modules())
    plain = Engine(load_model(str(tiny_model_dir), "cpu", False, False))  # no speed-ups
    packed = Engine(load_model(str(tiny_model_dir), "cpu", False, False))
    assert pack_linear_weights(packed._model.tts, min_elements=0) > 10
    assert not any(type(m) is nn.Linear for m in packed._model.tts.modules())

    def speak(engine: Engine) -> np.ndarray:
        request = SynthesisRequest("Packed weights. The same voice, a little sooner.",
                                   params=SynthesisParams(min_len=6, max_len=6, seed=4))
        return np.concatenate([c.samples for c in engine.synthesize(request)])

    fast, shipped = speak(packed), speak(plain)
    assert fast.shape == shipped.shape and np.abs(shipped).max() > 0
    np.testing.assert_allclose(fast, shipped, rtol=0, atol=1e-4)  # float rounding only
