"""The rest of NAS-Bench-Suite-Zero's standard set: l2_norm, zen, params, flops."""

from __future__ import annotations

from typing import Any

import torch

from .engine import ArchContext, weight_layers
from .registry import register

SUITE = "NAS-Bench-Suite-Zero"


@register(
    "l2_norm",
    family="misc",
    higher_is_better=True,
    paper=SUITE,
    description="Σ over Conv2d/Linear layers of ‖θ‖₂ at initialisation",
)
def l2_norm(ctx: ArchContext) -> tuple[float, dict[str, Any]]:
    net = ctx.network()
    return float(
        sum(
            torch.linalg.vector_norm(m.weight.detach().to(torch.float64))
            for m in weight_layers(net)
        )
    ), {}


@register(
    "zen",
    family="misc",
    higher_is_better=True,
    paper=SUITE + " (Zen-NAS)",
    description="Gaussian re-init; log E‖f(x)−f(x+0.01ε)‖₁ before global pooling + "
    "Σ_BN log √mean(running_var); Gaussian inputs, train-mode BN",
)
def zen(ctx: ArchContext) -> tuple[float, dict[str, Any]]:
    log_diff, log_bn = ctx.zen_parts()
    return log_diff + log_bn, {"log_feature_diff": log_diff, "log_bn_scaling": log_bn}


@register(
    "params",
    family="misc",
    higher_is_better=True,
    paper=SUITE,
    description="parameters of the network (millions)",
)
def params(ctx: ArchContext) -> tuple[float, dict[str, Any]]:
    from zeroshot_nas.spaces import count_params_m

    return count_params_m(ctx.network()), {}


@register(
    "flops",
    family="misc",
    higher_is_better=True,
    paper=SUITE,
    description="FLOPs per image (millions, NATS convention)",
)
def flops(ctx: ArchContext) -> tuple[float, dict[str, Any]]:
    from zeroshot_nas.spaces import count_flops_m

    return count_flops_m(ctx.network(), ctx.dataset), {}
