"""The local encoder's output, kept per audio patch: a voice prompt is encoded once, not before
every sentence.

Before each sentence voxcpm prefills its prompt: the voice's audio patches (the house voice's
25, a clip's few hundred) and, with continuity, the patches of the sentence before. Every patch
goes through the local encoder (``feat_encoder``), a small transformer that looks at one patch at
a time, so a patch's encoding depends on that patch alone. Yet voxcpm encodes the same prompt
again for every sentence, and the patches it generated itself (encoded already, one per step) once
more when they come back as continuity. On the full-size VoxCPM2 on a 2-core CPU that was ~0.6 s
of each sentence's first chunk (session 5, docs/performance.md).

:func:`keep_patch_encodings` wraps the encoder so that each distinct patch (its exact bytes) is
encoded once, kept in a bounded LRU, and looked up afterwards. Patches are encoded one at a time
on a miss, never batched with others, so that an encoding never depends on which other patches
happened to be encoded with it: the same text and seed give the same audio, cached or not.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any

log = logging.getLogger(__name__)

#: Patches kept (each one hidden-size vector: 8 KB for VoxCPM2 in bfloat16, so ~32 MB).
CAPACITY = 4096
#: The attribute that marks a wrapped encoder (and holds its cache).
CACHE_ATTRIBUTE = "_voxdesk_patch_cache"


class PatchEncodingCache:
    """``encoder.forward`` for inputs ``[B, T, P, D]``, one encoding per distinct patch."""

    def __init__(self, forward: Any, capacity: int = CAPACITY) -> None:
        self._forward = forward
        self.capacity = capacity
        self._kept: OrderedDict[bytes, Any] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def __call__(self, x: Any) -> Any:
        import torch

        if x.dim() != 4 or x.requires_grad:
            return self._forward(x)
        batch, steps, patch, dim = x.shape
        rows = x.reshape(batch * steps, 1, 1, patch, dim)
        # Exact bytes as the key: a bfloat16 tensor has no numpy type, its int16 view does.
        raw = rows.reshape(batch * steps, patch * dim).contiguous()
        raw = raw.view(torch.int16) if raw.element_size() == 2 else raw
        keys = [bytes(row) for row in raw.cpu().numpy()]
        encoded = []
        for key, row in zip(keys, rows):
            found = self._kept.get(key)
            if found is None:
                self.misses += 1
                found = self._forward(row)[0, 0]  # one patch on its own (see the module doc)
                self._kept[key] = found
                if len(self._kept) > self.capacity:
                    self._kept.popitem(last=False)
            else:
                self.hits += 1
                self._kept.move_to_end(key)
            encoded.append(found)
        return torch.stack(encoded).reshape(batch, steps, -1)


def keep_patch_encodings(tts: Any, capacity: int = CAPACITY) -> PatchEncodingCache | None:
    """Wrap ``tts.feat_encoder`` (once); the cache, or None when the model has no such encoder."""
    encoder = getattr(tts, "feat_encoder", None)
    if encoder is None or not callable(getattr(encoder, "forward", None)):
        return None
    existing = getattr(encoder, CACHE_ATTRIBUTE, None)
    if existing is not None:
        return existing
    cache = PatchEncodingCache(encoder.forward, capacity)
    encoder.forward = cache
    setattr(encoder, CACHE_ATTRIBUTE, cache)
    return cache


def forget_patch_encodings(tts: Any) -> None:
    """The encoder as voxcpm made it (for compilation, which needs its plain forward)."""
    encoder = getattr(tts, "feat_encoder", None)
    if encoder is not None and getattr(encoder, CACHE_ATTRIBUTE, None) is not None:
        del encoder.forward
        delattr(encoder, CACHE_ATTRIBUTE)
