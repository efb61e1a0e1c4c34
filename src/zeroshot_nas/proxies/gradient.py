"""Cross-entropy gradient scores (zero-cost-nas definitions): snip, grasp, fisher, grad_norm,
plain. All sum over Conv2d/Linear weights of the network; loss = mean cross-entropy of the
labelled batch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .registry import register

if TYPE_CHECKING:
    import torch
    from torch import nn

    from .context import ArchContext

ZCN = "rank-based-training-free-nas (zero-cost-nas definitions)"
DB = "double_backward"


def weight_grads(ctx: ArchContext) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(θ, ∂L/∂θ) of every Conv2d/Linear weight, from the shared cross-entropy backward."""
    from .network import weight_layers, weight_names

    net = ctx.network()
    grads = ctx.ce_grads()
    return [
        (m.weight.detach(), grads[name])
        for m, name in zip(weight_layers(net), weight_names(net), strict=True)
    ]


def _sum(values) -> float:
    import torch

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
    import torch

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
    # 3: each layer output is paired with the module that produced it (version 2 paired the
    # outputs in call order with the layers in registration order, which rotated the fan-ins
    # of the three convolutions of every NB201 reduction block)
    version=3,
    description="zero-cost-nas' Fisher: Σ over Conv2d/Linear layers l of n_l · Σ_channels "
    "0.5·mean_batch(Σ_spatial a⊙∂L/∂a)², a the output of layer l itself, n_l = elements "
    "per output channel of its weight (their per-channel values are broadcast over the "
    "weight before the sum)",
)
def fisher(ctx: ArchContext) -> tuple[float, dict[str, Any]]:
    from .network import weight_layers

    terms = ctx.fisher_terms()
    fan_in = [m.weight[0].numel() for m in weight_layers(ctx.network())]
    value = float(sum(n * t for n, t in zip(fan_in, terms, strict=True)))
    return value, {"per_channel_sum": float(sum(terms))}


@register(
    "grasp",
    family="gradient",
    higher_is_better=True,
    needs_labels=True,
    paper=ZCN,
    requires=("ce", "ce_graph"),
    version=2,
    description="Σ −θ⊙(H g), g = ∂L/∂θ (−θᵀHg; double backward as the reference, fused on "
    "the shared graph; forward-over-forward where the run's memory budget binds)",
)
def grasp(ctx: ArchContext) -> tuple[float, dict[str, Any]]:
    value, how = grasp_curvature(ctx)
    return -value, how


def grasp_curvature(ctx: ArchContext) -> tuple[float, dict[str, Any]]:
    """θᵀHg summed over every Conv2d/Linear weight θ, g = ∂L/∂θ and H the Hessian of the
    mean cross-entropy L in those weights (GraSP = −θᵀHg), and how it was computed.

    Standalone: the reference's two passes, first-order g, then a fresh forward, a
    create_graph backward and a double backward for H g. Fused: the same double backward,
    of the shared cross-entropy backward (which then records its graph), when its estimated
    peak fits the run's ``mem_mb``; otherwise the mixed second directional derivative along
    θ and g by forward-over-forward AD, which adds nothing to the first-order pass's memory.
    """
    if not ctx.fused:
        return ctx.shared("grasp", lambda: _grasp_double_backward(ctx)), {"hessian": DB}
    graph, plan = ctx.ce_graph()
    how = {"hessian": plan["method"], "double_backward_peak_mb": plan["double_backward_peak_mb"]}
    if graph is not None:
        return ctx.shared("grasp", lambda: _grasp_on_graph(ctx, graph)), how
    grads = ctx.ce_grads()
    return ctx.shared("grasp", lambda: _grasp_forward_mode(ctx, grads)), how


def _grasp_forward_mode(ctx: ArchContext, grads: dict[str, torch.Tensor]) -> float:
    import torch.nn.functional as F

    from .network import weight_names

    net = ctx.network()
    params = dict(net.named_parameters())
    keys = weight_names(net)
    theta = {k: params[k].detach() for k in keys}
    g = {k: grads[k] for k in keys}
    y = ctx.labels()
    return mixed_second_derivative(
        net, lambda out: F.cross_entropy(out, y), ctx.layout(ctx.x, gradients=True), theta, g
    )


def _grasp_on_graph(ctx: ArchContext, graph: dict[str, torch.Tensor]) -> float:
    """θᵀHg by the double backward of the shared cross-entropy gradients (their graph kept)."""
    from .network import weight_layers, weight_names

    net = ctx.network()
    weights = [m.weight for m in weight_layers(net)]
    g = [graph.get(name) for name in weight_names(net)]
    return hessian_gradient_product(weights, [None if gi is None else gi.detach() for gi in g], g)


def _grasp_double_backward(ctx: ArchContext) -> float:
    import torch
    import torch.nn.functional as F

    from .network import weight_layers

    net = ctx.network()
    y = ctx.labels()
    weights = [m.weight for m in weight_layers(net)]
    with torch.enable_grad():
        # The reference's two passes: first-order gradients, then a fresh forward with
        # create_graph for the Hessian-gradient product.
        fixed = torch.autograd.grad(F.cross_entropy(net(ctx.x), y), weights, allow_unused=True)
        g = torch.autograd.grad(
            F.cross_entropy(net(ctx.x), y), weights, create_graph=True, allow_unused=True
        )
    return hessian_gradient_product(weights, fixed, g)


def hessian_gradient_product(weights: list[torch.Tensor], fixed: list, g: list) -> float:
    """Σ θ·(H f) over ``weights``: the backward of Σ f·g, where g are the gradients of the loss
    still attached to their graph (create_graph) and f fixed tensors (None: unused weight)."""
    import torch

    terms = [
        (f.detach() * gi).sum()
        for f, gi in zip(fixed, g, strict=True)
        if f is not None and gi is not None and gi.requires_grad
    ]
    if not terms:
        return 0.0
    with torch.enable_grad():
        hg = torch.autograd.grad(sum(terms), weights, allow_unused=True)
    return float(
        sum(
            (w.detach() * h).sum().to(torch.float64)
            for w, h in zip(weights, hg, strict=True)
            if h is not None
        )
    )


def mixed_second_derivative(
    net: nn.Module,
    loss_of_output: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    u: dict[str, torch.Tensor],
    v: dict[str, torch.Tensor],
) -> float:
    """uᵀ H v for the Hessian H of ``loss_of_output(net(x))`` in the parameters named by
    ``u`` and ``v`` (the same keys), by forward-over-forward AD.

    Nothing is stored for a backward pass, so memory stays at a few activations however deep
    the network is; double backward keeps the forward and the create_graph backward alive.
    """
    import torch
    from torch.func import functional_call, jvp

    from .network import elementary_batchnorm

    fixed = {n: p.detach() for n, p in net.named_parameters()}
    point = {n: fixed[n] for n in u}

    def loss(params: dict[str, torch.Tensor]) -> torch.Tensor:
        return loss_of_output(functional_call(net, {**fixed, **params}, (x,)))

    def along_u(params: dict[str, torch.Tensor]) -> torch.Tensor:
        return jvp(loss, (params,), (u,))[1]

    with torch.no_grad(), elementary_batchnorm(net):
        _, mixed = jvp(along_u, (point,), (v,))
    return float(mixed)
