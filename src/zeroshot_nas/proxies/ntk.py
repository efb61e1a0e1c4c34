"""Condition number of the empirical neural tangent kernel (TE-NAS; rank-based paper)."""

from __future__ import annotations

import math
from typing import Any

from .engine import ArchContext
from .registry import register


@register(
    "ntk",
    family="ntk",
    higher_is_better=False,
    paper="rank-based-training-free-nas (TE-NAS)",
    description="λmax/λmin of G·Gᵀ, G = per-sample ∂(Σ logits)/∂(all weight tensors) on the "
    "first ntk_batch_size images; eigvalsh in float64; lower is better",
)
def ntk(ctx: ArchContext) -> tuple[float, dict[str, Any]]:
    eig = ctx.ntk_eigenvalues()
    lo, hi = float(eig[0]), float(eig[-1])
    extra = {"lambda_min": lo, "lambda_max": hi, "n": int(eig.shape[0])}
    if lo <= 0.0:
        # A singular kernel (λmin 0, or a round-off negative) has an infinite condition
        # number; the raw ratio would be ≤ 0 and rank the degenerate net as the best.
        return (math.nan if hi <= 0.0 else math.inf), extra
    return hi / lo, extra
