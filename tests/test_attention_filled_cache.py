"""Each step attends to the filled part of the KV cache only (voxdesk.engine.attention): the
same audio as voxcpm's masked attention over its whole static cache, on the real tiny model."""

from __future__ import annotations

import numpy as np

from voxdesk.engine import SynthesisParams, SynthesisRequest
from voxdesk.engine.attention import PATCHED, attend_to_filled_cache, attend_to_whole_cache
from voxdesk.engine.attention import _attention_modules as attention_modules

TEXT = "Attention is paid here. And once more, a little longer, in a second sentence."


def speak(engine) -> np.ndarray:
    params = SynthesisParams(min_len=12, max_len=12, seed=11)
    return np.concatenate([c.samples for c in engine.synthesize(SynthesisRequest(TEXT,
                                                                                 params=params))])


def test_a_cpu_engine_attends_to_the_filled_cache_and_says_the_same(warm_engine):
    tts = warm_engine._model.tts
    layers = attention_modules(tts)
    # Engine.load did it: every attention layer of both language models (uncompiled on a CPU).
    assert layers and all(getattr(m, PATCHED, False) for m in layers)
    assert tts.base_lm.kv_cache.max_length > 100  # far more cache than these sentences fill
    filled = speak(warm_engine)
    attend_to_whole_cache(tts)
    try:
        assert not any(getattr(m, PATCHED, False) for m in layers)
        whole = speak(warm_engine)
    finally:
        assert attend_to_filled_cache(tts) == len(layers)
    assert filled.size == whole.size > 0
    # The same computation without the masked-out terms: equal up to float rounding.
    np.testing.assert_allclose(filled, whole, rtol=0, atol=1e-5)
    assert np.array_equal(speak(warm_engine), filled)  # and repeatable
