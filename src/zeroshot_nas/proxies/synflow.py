"""Synaptic-flow scores from one float64 all-ones pass: ``synflow`` (zero-cost-nas),
``logsynflow`` (FreeREA), ``ssnr`` and ``ssnr_layerwise`` (layer-wise SSNR paper).

The pass: |θ| for every parameter in float64, every BatchNorm bypassed, input ones of shape
(1, C, H, W), R = Σ output; ∂R/∂θ for every Conv2d/Linear weight. All factors are ≥ 0, so
every saliency θ⊙∂R/∂θ is ≥ 0. float64 because values reach 1e67 on NB201.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from .registry import register

if TYPE_CHECKING:
    import torch

    from .context import ArchContext


def synflow_layers(ctx: ArchContext) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(|θ|, ∂R/∂θ) in float64 for every Conv2d/Linear weight, R = Σ net(1) with |θ| and
    BatchNorm bypassed. The network's own weights are never modified."""
    return ctx.shared("synflow", lambda: _run_synflow(ctx))


def _run_synflow(ctx: ArchContext) -> list[tuple[torch.Tensor, torch.Tensor]]:
    import torch
    from torch.func import functional_call

    from .network import bypass_batchnorm, weight_names

    net = ctx.network()
    # Substituted float64 |θ| tensors (functional_call) leave the network untouched, which
    # is the reference's "abs, then restore signs" without the round trip.
    params = {
        n: p.detach().to(torch.float64).abs().requires_grad_(True)
        for n, p in net.named_parameters()
    }
    buffers = {
        n: b.detach().to(torch.float64) if b.is_floating_point() else b.clone()
        for n, b in net.named_buffers()
    }
    keys = weight_names(net)
    ones = torch.ones((1, *ctx.x.shape[1:]), dtype=torch.float64, device=ctx.device)
    with torch.enable_grad(), bypass_batchnorm(net):
        out = functional_call(net, {**params, **buffers}, (ones,))
        grads = torch.autograd.grad(out.sum(), [params[k] for k in keys], allow_unused=True)
    return [
        (params[k].detach(), torch.zeros_like(params[k]) if g is None else g.detach())
        for k, g in zip(keys, grads, strict=True)
    ]


def saliencies(ctx: ArchContext) -> list[torch.Tensor]:
    """|θ ⊙ ∂R/∂θ| per Conv2d/Linear weight (float64), shared by the four scores."""
    return ctx.shared("synflow_saliency", lambda: [(t * g).abs() for t, g in synflow_layers(ctx)])


@register(
    "synflow",
    family="synflow",
    higher_is_better=True,
    paper="rank-based-training-free-nas (SynFlow, zero-cost-nas)",
    description="Σ|θ⊙∂R/∂θ| over Conv2d/Linear weights; all-ones input, |θ|, BN bypassed, float64",
)
def synflow(ctx: ArchContext) -> tuple[float, dict[str, Any]]:
    return float(sum(s.sum() for s in saliencies(ctx))), {}


@register(
    "logsynflow",
    family="synflow",
    higher_is_better=True,
    paper="rank-based-training-free-nas (LogSynFlow, FreeREA)",
    description="Σ|θ⊙log(∂R/∂θ + 1)| over Conv2d/Linear weights, same pass as synflow",
)
def logsynflow(ctx: ArchContext) -> tuple[float, dict[str, Any]]:
    import torch

    total = sum((t * torch.log(g + 1.0)).abs().sum() for t, g in synflow_layers(ctx))
    return float(total), {}


def ssnr_value(sal: list[torch.Tensor]) -> float:
    """S_n / σ over all saliencies, σ the population standard deviation (1/N)."""
    import torch

    flat = torch.cat([s.reshape(-1) for s in sal])
    s_n = flat.sum()
    sigma = flat.std(correction=0)
    return float(s_n / sigma)


def ssnr_layerwise_value(sal: list[torch.Tensor]) -> tuple[float, int]:
    """Σ_l S_n^l/σ^l over layers; layers whose saliencies are all zero carry no signal and
    are skipped (their 0/0 is undefined); returns (value, skipped layers). NaN if all are."""
    total = 0.0
    skipped = 0
    for s in sal:
        flat = s.reshape(-1)
        if not bool((flat != 0).any()):
            skipped += 1
            continue
        total += float(flat.sum() / flat.std(correction=0))
    if skipped == len(sal):
        return math.nan, skipped
    return total, skipped


@register(
    "ssnr",
    family="synflow",
    higher_is_better=True,
    paper="layerwise-ssnr",
    description="S_n/σ: sum over all synflow saliencies divided by their standard deviation",
)
def ssnr(ctx: ArchContext) -> tuple[float, dict[str, Any]]:
    return ssnr_value(saliencies(ctx)), {}


@register(
    "ssnr_layerwise",
    family="synflow",
    higher_is_better=True,
    paper="layerwise-ssnr",
    description="Σ_l S_n^l/σ^l over Conv2d/Linear layers of synflow saliencies; all-zero "
    "layers skipped (counted in extra)",
)
def ssnr_layerwise(ctx: ArchContext) -> tuple[float, dict[str, Any]]:
    sal = saliencies(ctx)
    value, skipped = ssnr_layerwise_value(sal)
    return value, {"zero_layers_skipped": skipped, "layers": len(sal)}
