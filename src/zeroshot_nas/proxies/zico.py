"""ZiCo (Li et al., ICLR 2023): the inverse coefficient of variation of the gradients.

For every Conv2d/Linear weight the cross-entropy gradient is taken on several batches; per
weight entry the ratio mean_batches|g| / std_batches(g) measures how consistently the batches
push it, and ZiCo = Σ_layers log Σ_entries that ratio. The authors' ``getzico`` runs one
forward and backward per batch of a loader (two batches in their search), zeroing the
gradients in between; we split the run's one batch into ``ZICO_SPLITS`` consecutive parts
(two halves), each with its own forward and backward, so that every architecture sees the
same images and train-mode BatchNorm normalises each part on its own statistics as theirs
does for each loaded batch.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from .registry import register

if TYPE_CHECKING:
    import torch

    from .context import ArchContext

ZICO_SPLITS = 2
ZICO_SOURCE = "SLDGroup/ZiCo@b0fec65923a90e84501593f675b1e2f422d79e3d ZeroShotProxy/compute_zico.py"


def split_gradients(ctx: ArchContext) -> list[torch.Tensor]:
    """Per Conv2d/Linear weight (forward order), a ``ZICO_SPLITS × numel`` float64 matrix:
    row k is ∂L_k/∂θ flattened, L_k the mean cross-entropy of the k-th part of the batch."""
    return ctx.shared("zico_gradients", lambda: _run_split_gradients(ctx))


def _run_split_gradients(ctx: ArchContext) -> list[torch.Tensor]:
    import torch
    import torch.nn.functional as F

    from .network import weight_layers

    net = ctx.network()
    y = ctx.labels()
    weights = [m.weight for m in weight_layers(net)]
    n = ctx.x.shape[0]
    if n < ZICO_SPLITS:
        raise ValueError(f"zico needs at least {ZICO_SPLITS} images (one per part), got {n}")
    rows: list[list[torch.Tensor]] = []
    with torch.enable_grad():
        for part in range(ZICO_SPLITS):
            lo, hi = part * n // ZICO_SPLITS, (part + 1) * n // ZICO_SPLITS
            loss = F.cross_entropy(net(ctx.x[lo:hi]), y[lo:hi])
            grads = torch.autograd.grad(loss, weights, allow_unused=True)
            # An unused weight has no gradient: zero in every part, so no spread (skipped).
            rows.append([(torch.zeros_like(w) if g is None else g.detach()).reshape(-1)
                         for w, g in zip(weights, grads, strict=True)])
    return [torch.stack(parts).to(torch.float64) for parts in zip(*rows, strict=True)]


def zico_value(per_layer: list[torch.Tensor]) -> tuple[float, int]:
    """(Σ_layers log Σ_entries mean|g|/std(g), layers that contributed) from the per-layer
    ``parts × entries`` gradient matrices, as the reference computes it: the population std
    across the parts; entries with zero spread are left out; a layer with none left adds
    nothing (so a network whose gradients never differ scores 0)."""
    total, used = 0.0, 0
    for grads in per_layer:
        std = grads.std(dim=0, correction=0)
        keep = std != 0
        if not bool(keep.any()):
            continue
        ratio = grads.abs().mean(dim=0)[keep] / std[keep]
        total += math.log(float(ratio.sum()))
        used += 1
    return total, used


@register(
    "zico",
    family="zico",
    higher_is_better=True,
    needs_labels=True,
    paper="ZiCo (ICLR 2023)",
    source=ZICO_SOURCE,
    description=f"Σ over Conv2d/Linear layers of log Σ_θ mean|∂L/∂θ| / std(∂L/∂θ) across "
    f"the {ZICO_SPLITS} consecutive parts of the batch (each its own forward and backward); "
    "entries with zero spread left out",
)
def zico(ctx: ArchContext) -> tuple[float, dict[str, Any]]:
    per_layer = split_gradients(ctx)
    value, used = zico_value(per_layer)
    return value, {"layers_used": used, "layers": len(per_layer), "parts": ZICO_SPLITS}
