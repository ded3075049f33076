"""The model's linear layers on the CPU with their weights laid out once for oneDNN.

About 70 % of a full-size VoxCPM2 step on a 2-core CPU is matrix products of a few rows (one
decoding position, the diffusion's patch) by the weights: memory-bound work, so what counts is
how fast the weights stream from memory. ``F.linear`` reached ~16 GB/s there, on a machine that
reads ~29 GB/s; oneDNN with the weight reordered once into its blocked layout (what inductor's
CPU backend does when it freezes a model) reached 18-21 GB/s in bfloat16 and 18-28 GB/s in
float32, and a whole step went from 0.97 s to 0.70 s (session 6, docs/performance.md). The
weights and the arithmetic are the same; oneDNN's kernel sums in another order, so the audio
differs by rounding (measured and reported by ``docs/scripts/packed_linear_deviation.py``).

:func:`pack_linear_weights` replaces each ``nn.Linear`` under a module by a
:class:`PackedLinear` holding only the reordered weight (no second copy in memory). It cannot be
undone, so it is applied only to a model that will run uncompiled (acceleration.py). It checks
the kernel against ``F.linear`` once per dtype first and packs nothing if they disagree, or if
this torch has no oneDNN.
"""

from __future__ import annotations

import logging
from typing import TypeGuard

import torch
from torch import nn

log = logging.getLogger(__name__)

#: Smaller layers stay as they are: oneDNN's call costs ~15-20 us more than ``F.linear``'s, which
#: a weight this big (bfloat16, 1 row) earns back; the tiny test model's layers (64 wide) lost
#: 3x. Every layer of the full-size models is above it (the smallest, 1024 x 256).
MIN_ELEMENTS = 256 * 1024
#: What packing may change in one product (relative to its largest value): rounding only.
SELF_CHECK_TOLERANCE = 2e-2
PACKABLE_DTYPES = (torch.float32, torch.bfloat16)


def _reorder(weight: torch.Tensor) -> torch.Tensor:
    # batch_size is a hint for the layout (decoding multiplies one row at a time).
    return torch.ops.mkldnn._reorder_linear_weight(weight.detach(), 1)


def _product(x: torch.Tensor, packed: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    return torch.ops.mkldnn._linear_pointwise(x, packed, bias, "none", [], "")


class PackedLinear(nn.Module):
    """``nn.Linear`` for inference, its weight in oneDNN's layout (not usable as a matrix)."""

    packed_weight: torch.Tensor
    bias: torch.Tensor | None

    def __init__(self, linear: nn.Linear) -> None:
        super().__init__()
        self.in_features = linear.in_features
        self.out_features = linear.out_features
        self.register_buffer("packed_weight", _reorder(linear.weight))
        bias = linear.bias
        self.register_buffer("bias", None if bias is None else bias.detach().clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _product(x, self.packed_weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, packed"


def kernel_agrees(dtype: torch.dtype) -> bool:
    """Whether the packed product matches ``F.linear`` here (oneDNN present, layout as expected)."""
    try:
        generator = torch.Generator().manual_seed(0)
        weight = torch.randn(96, 64, generator=generator).to(dtype)
        x = torch.randn(3, 64, generator=generator).to(dtype)
        bias = torch.randn(96, generator=generator).to(dtype)
        got = _product(x, _reorder(weight), bias).float()
    except (RuntimeError, AttributeError, NotImplementedError) as exc:
        log.info("packed linear layers unavailable (%s): %s", dtype, exc)
        return False
    want = torch.nn.functional.linear(x, weight, bias).float()
    return bool((got - want).abs().max() <= SELF_CHECK_TOLERANCE * want.abs().max())


def _packable(module: nn.Module, min_elements: int) -> TypeGuard[nn.Linear]:
    """A plain ``nn.Linear`` (not a subclass with its own forward) worth packing."""
    if type(module) is not nn.Linear:
        return False
    weight = module.weight
    return (weight.device.type == "cpu" and weight.dim() == 2
            and weight.dtype in PACKABLE_DTYPES and weight.numel() >= min_elements)


def pack_linear_weights(model: nn.Module, min_elements: int = MIN_ELEMENTS) -> int:
    """Replace the model's plain CPU linear layers of at least ``min_elements`` weights by
    packed ones; returns how many."""
    if not torch.backends.mkldnn.is_available():
        return 0
    agrees: dict[torch.dtype, bool] = {}
    packed = 0
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if not _packable(child, min_elements):
                continue
            dtype = child.weight.dtype
            if dtype not in agrees:
                agrees[dtype] = kernel_agrees(dtype)
            if agrees[dtype]:
                setattr(parent, name, PackedLinear(child))
                packed += 1
    return packed
