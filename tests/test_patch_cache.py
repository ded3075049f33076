"""Each audio patch goes through the local encoder once (voxdesk.engine.patch_cache): a voice
prompt is not encoded again before every sentence, and the audio is the same cached or not."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from voxdesk.engine import SynthesisParams, SynthesisRequest
from voxdesk.engine.patch_cache import (
    CACHE_ATTRIBUTE,
    PatchEncodingCache,
    forget_patch_encodings,
    keep_patch_encodings,
)

TEXT = "A patch is encoded once. The next sentence needs the same prompt. So does this one."


def speak(engine, seed: int = 21) -> np.ndarray:
    params = SynthesisParams(min_len=6, max_len=6, seed=seed)
    return np.concatenate([c.samples for c in engine.synthesize(SynthesisRequest(TEXT,
                                                                                 params=params))])


def test_the_prompt_is_encoded_once_and_the_audio_does_not_depend_on_the_cache(warm_engine):
    tts = warm_engine._model.tts
    cache = getattr(tts.feat_encoder, CACHE_ATTRIBUTE, None)
    assert isinstance(cache, PatchEncodingCache)  # Engine.load did it (uncompiled, on a CPU)
    first = speak(warm_engine)
    misses, hits = cache.misses, cache.hits
    again = speak(warm_engine)
    # Everything the second time was known: the house voice's patches, the text positions and
    # the sentences' own patches (encoded once while generating, reused as continuity).
    assert cache.misses == misses and cache.hits > hits
    assert np.array_equal(again, first)
    forget_patch_encodings(tts)
    try:
        assert getattr(tts.feat_encoder, CACHE_ATTRIBUTE, None) is None
        plain = speak(warm_engine)  # voxcpm's own batched encoding
    finally:
        assert keep_patch_encodings(tts) is not None
    np.testing.assert_allclose(first, plain, rtol=0, atol=1e-4)  # float rounding only


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_each_distinct_patch_is_encoded_alone_and_kept_within_capacity(dtype):
    seen: list[tuple[int, ...]] = []

    def encoder(x: torch.Tensor) -> torch.Tensor:  # [B, T, P, D] -> [B, T, H], per patch
        seen.append(tuple(x.shape))
        return x.sum(dim=2) * 2

    cache = PatchEncodingCache(encoder, capacity=3)
    patches = torch.arange(5 * 2 * 4, dtype=torch.float32).reshape(1, 5, 2, 4).to(dtype)
    patches[0, 3] = patches[0, 1]  # a repeated patch: encoded once
    out = cache(patches)
    assert torch.equal(out, encoder(patches)) and out.dtype == dtype
    assert seen[:-1] == [(1, 1, 2, 4)] * 4  # 4 distinct patches, each on its own
    assert (cache.misses, cache.hits) == (4, 1)
    cache(patches[:, 4:])  # the newest patch is still kept...
    assert cache.misses == 4
    cache(patches[:, :1])  # ...the oldest was dropped (capacity 3)
    assert cache.misses == 5
