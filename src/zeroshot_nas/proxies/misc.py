"""The rest of NAS-Bench-Suite-Zero's standard set: l2_norm, zen, params, flops."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from .registry import register

if TYPE_CHECKING:
    from .context import ArchContext

SUITE = "NAS-Bench-Suite-Zero"


@register(
    "l2_norm",
    family="misc",
    higher_is_better=True,
    paper=SUITE,
    description="Σ over Conv2d/Linear layers of ‖θ‖₂ at initialisation",
)
def l2_norm(ctx: ArchContext) -> tuple[float, dict[str, Any]]:
    import torch

    from .network import weight_layers

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
    version=2,
    description="Gaussian re-init; log E‖f(x)−f(x+0.01ε)‖₁ before global pooling + "
    "Σ_BN log √mean(running_var); Gaussian inputs, train-mode BN",
)
def zen(ctx: ArchContext) -> tuple[float, dict[str, Any]]:
    log_diff, log_bn = zen_parts(ctx)
    return log_diff + log_bn, {"log_feature_diff": log_diff, "log_bn_scaling": log_bn}


def zen_parts(ctx: ArchContext) -> tuple[float, float]:
    """(log E‖f(x) − f(x + 0.01ε)‖₁, Σ_BN log √mean(running_var)) of the Zen score."""
    return ctx.shared("zen", lambda: _run_zen(ctx))


def _gaussian_copy(ctx: ArchContext):
    """A copy of the network re-initialised as Zen-NAS does: N(0, 1) weights, BN 1/0."""
    import copy

    import torch
    from torch import nn

    from .network import BN_TYPES
    from .numerics import derived_seed

    net = copy.deepcopy(ctx.network())
    gen = torch.Generator().manual_seed(derived_seed(ctx.protocol.seed, "zen-init"))
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                w = torch.randn(m.weight.shape, generator=gen, dtype=torch.float64)
                m.weight.copy_(w)
                if m.bias is not None:
                    m.bias.zero_()
            elif isinstance(m, BN_TYPES):
                if m.affine:
                    m.weight.fill_(1.0)
                    m.bias.zero_()
                m.reset_running_stats()
    return net


def _run_zen(ctx: ArchContext) -> tuple[float, float]:
    import torch
    from torch import nn

    from .network import BN_TYPES
    from .numerics import randn_like_seeded

    net = _gaussian_copy(ctx)
    # Zen is defined with batch statistics (its BN term reads the running variance the
    # two forwards leave behind), so it always runs in train mode.
    net.train()
    # Two forwards and no gradient: channels_last in a fused context on CPU, as every
    # forward-only pass (1.3x faster here; values within 1e-6 of NCHW, far inside zen's own
    # float32 error, docs/proxies.md).
    x1 = ctx.layout(randn_like_seeded(ctx.x, ctx.protocol.seed, "zen-x"), gradients=False)
    x2 = ctx.layout(randn_like_seeded(ctx.x, ctx.protocol.seed, "zen-x2"), gradients=False)
    gap = [m for m in net.modules() if isinstance(m, nn.AdaptiveAvgPool2d)][-1]
    feats: list[torch.Tensor] = []
    h = gap.register_forward_pre_hook(lambda _m, inp: feats.append(inp[0].detach()))
    try:
        with torch.no_grad():
            net(x1)
            net(x1 + 0.01 * x2)
    finally:
        h.remove()
    diff = (feats[0] - feats[1]).abs().to(torch.float64).sum(dim=(1, 2, 3)).mean()
    log_bn = 0.0
    for m in net.modules():
        if isinstance(m, BN_TYPES):
            log_bn += math.log(math.sqrt(float(m.running_var.to(torch.float64).mean())))
    return float(torch.log(diff)), log_bn


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
    description="FLOPs per image of the batch's shape (millions, NATS convention)",
)
def flops(ctx: ArchContext) -> tuple[float, dict[str, Any]]:
    from zeroshot_nas.spaces import count_flops

    # The batch's image shape is the data set's, so this equals count_flops_m(net, dataset),
    # and it also counts a network given without a data set.
    return count_flops(ctx.network(), tuple(ctx.x.shape[1:])) / 1e6, {}
