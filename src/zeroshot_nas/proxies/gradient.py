"""Cross-entropy gradient scores (zero-cost-nas definitions): snip, grasp, fisher, grad_norm,
plain. All sum over Conv2d/Linear weights of the network; loss = mean cross-entropy of the
labelled batch.
"""

from __future__ import annotations

from typing import Any

import torch

from .engine import ArchContext, weight_layers, weight_names
from .registry import register

ZCN = "rank-based-training-free-nas (zero-cost-nas definitions)"


def weight_grads(ctx: ArchContext) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(θ, ∂L/∂θ) of every Conv2d/Linear weight, from the shared cross-entropy backward."""
    net = ctx.network()
    grads = ctx.ce_grads()
    return [
        (m.weight.detach(), grads[name])
        for m, name in zip(weight_layers(net), weight_names(net), strict=True)
    ]


def _sum(values) -> float:
    return float(sum(v.to(torch.float64) for v in values))


@register(
    "snip",
    family="gradient",
    higher_is_better=True,
    needs_labels=True,
    paper=ZCN,
    requires=("ce",),
    description="Σ|θ⊙∂L/∂θ| (connection sensitivity)",
)
def snip(ctx: ArchContext) -> tuple[float, dict[str, Any]]:
    return _sum((t * g).abs().sum() for t, g in weight_grads(ctx)), {}


@register(
    "grad_norm",
    family="gradient",
    higher_is_better=True,
    needs_labels=True,
    paper=ZCN,
    requires=("ce",),
    description="Σ over layers of ‖∂L/∂θ‖₂",
)
def grad_norm(ctx: ArchContext) -> tuple[float, dict[str, Any]]:
    return _sum(torch.linalg.vector_norm(g) for _, g in weight_grads(ctx)), {}


@register(
    "plain",
    family="gradient",
    higher_is_better=True,
    needs_labels=True,
    paper=ZCN,
    requires=("ce",),
    description="Σ θ⊙∂L/∂θ (signed)",
)
def plain(ctx: ArchContext) -> tuple[float, dict[str, Any]]:
    return _sum((t * g).sum() for t, g in weight_grads(ctx)), {}


@register(
    "fisher",
    family="gradient",
    higher_is_better=True,
    needs_labels=True,
    paper=ZCN,
    requires=("fisher",),
    description="Σ over Conv2d/Linear outputs and channels of 0.5·mean_batch(Σ_spatial a⊙∂L/∂a)²",
)
def fisher(ctx: ArchContext) -> tuple[float, dict[str, Any]]:
    return float(sum(ctx.fisher_terms())), {}


@register(
    "grasp",
    family="gradient",
    higher_is_better=True,
    needs_labels=True,
    paper=ZCN,
    requires=("ce",),
    description="Σ −θ⊙(H g), g = ∂L/∂θ (−θᵀHg; fused: forward-over-forward, standalone: "
    "double backward as the reference)",
)
def grasp(ctx: ArchContext) -> tuple[float, dict[str, Any]]:
    return -ctx.grasp_curvature(), {}
