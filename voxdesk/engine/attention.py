"""Each generation step attends to the part of the KV cache that holds something.

voxcpm's language models keep a static KV cache of ``max_length`` positions (8192 for
VoxCPM2) so that a CUDA graph can capture a step with fixed shapes. Every step then runs
attention over all 8192 positions and masks all but the few hundred filled ones. On the CPU,
where nothing is captured, that masked attention was 37 % of a full-size VoxCPM2 step (profiled
in session 5: 3.9 ms a call, 1296 calls a generation; docs/performance.md). Attending to the
filled positions only is the same computation without the masked-out terms: the same voice,
at a cost that grows with the context actually used rather than with the cache's size.

Only on the CPU, for a model that runs uncompiled: a compiled (graph-captured) step needs the
fixed shapes, and on a GPU the slice's length read back every layer would synchronise the
device for work it does in parallel anyway (voxdesk.engine.acceleration decides).
"""

from __future__ import annotations

import logging
import types
from typing import Any

log = logging.getLogger(__name__)

#: The attribute set on each patched attention module (and how to tell one is patched).
PATCHED = "_voxdesk_filled_cache_only"


def _forward_step_on_filled_cache(
    self: Any, hidden_states: Any, position_emb: Any, position_id: Any, kv_cache: Any
) -> Any:
    """voxcpm's MiniCPMAttention.forward_step, attending to positions 0..position_id only."""
    import torch
    from voxcpm.modules.minicpm4.model import apply_rotary_pos_emb

    bsz, _ = hidden_states.size()
    query = self.q_proj(hidden_states).view(bsz, 1, self.num_heads, self.head_dim).transpose(1, 2)
    key = self.k_proj(hidden_states).view(bsz, 1, self.num_key_value_heads, self.head_dim)
    value = self.v_proj(hidden_states).view(bsz, 1, self.num_key_value_heads, self.head_dim)
    key, value = key.transpose(1, 2), value.transpose(1, 2)
    if position_emb is not None:
        cos, sin = position_emb
        query, key = apply_rotary_pos_emb(query, key, cos, sin)
    key_cache, value_cache = kv_cache
    key_cache[:, :, position_id, :] = key
    value_cache[:, :, position_id, :] = value
    filled = int(position_id) + 1  # the step's own position included, as voxcpm's mask has it
    output = torch.nn.functional.scaled_dot_product_attention(
        query.contiguous(),
        key_cache[:, :, :filled, :],
        value_cache[:, :, :filled, :],
        enable_gqa=True,
    )
    output = output.transpose(1, 2).reshape(bsz, self.num_heads * self.head_dim)
    return self.o_proj(output)


def _attention_modules(tts: Any) -> list[Any]:
    try:
        from voxcpm.modules.minicpm4.model import MiniCPMAttention
    except ImportError:  # another voxcpm layout: leave the model as it is
        return []
    modules: list[Any] = []
    for name in ("base_lm", "residual_lm"):
        lm = getattr(tts, name, None)
        if lm is not None:
            modules += [m for m in lm.modules() if isinstance(m, MiniCPMAttention)]
    return modules


def attend_to_filled_cache(tts: Any) -> int:
    """Make every decoding step of ``tts``'s language models attend to the filled part of its
    KV cache only; returns how many attention modules now do (0 when voxcpm's layout is not
    the one this knows). Undone by :func:`attend_to_whole_cache`."""
    modules = _attention_modules(tts)
    for module in modules:
        module.forward_step = types.MethodType(_forward_step_on_filled_cache, module)
        setattr(module, PATCHED, True)
    if modules:
        log.debug("attention on the filled KV cache only, in %d layers", len(modules))
    return len(modules)


def attend_to_whole_cache(tts: Any) -> None:
    """voxcpm's own step again (fixed shapes, for compilation)."""
    for module in _attention_modules(tts):
        if getattr(module, PATCHED, False):
            del module.forward_step
            delattr(module, PATCHED)
