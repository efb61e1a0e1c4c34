"""Noise immunity (rank-based paper, after TNASSE): how little the pooling layers' inputs
move when Gaussian noise is added to the batch.

The paper's text defines only η = Σ over pooling layers of the mean squared difference of
their inputs for X and X + z, z ~ N(0, σ²) with σ = 1 (smaller is better): ``ni_eta``.
The authors' code (``OEmiliatanO/Rank-Based-NAS``, ``score/ninaswot_score.py``, ``ni_extract``
and ``ni_score``, the code behind their published numbers) scores an architecture with a
size-normalised transform of η instead, which is ``ni`` here:

    ni = log( C · (n_conv / n_pool) / log(1e-10 + η) ),   higher is better,

where n_pool counts the pooling layers, n_conv the convolution units and C the input
channels of both, counted only for modules that lie on a path to the output (their hooks
count a module only after the backward pass has reached it). Their hooks match "Pool" and
"Conv" in class names, so on xautodl's networks a ``ReLUConvBN`` block counts as a unit
besides its inner ``Conv2d``, and ``FactorizedReduce`` only through its convolutions; our
network has the same classes (``Conv1x1BN`` plays ``FactorizedReduce``). Their fallbacks:
0 when log(1e-10 + η) ≤ 0 and when no pooling layer is counted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .registry import register

if TYPE_CHECKING:
    import torch
    from torch import nn

    from .context import ArchContext

RANK_BASED = "rank-based-training-free-nas"
ETA_EPSILON = 1e-10


@dataclass
class NoisyForward:
    """The pooling inputs of ``x + z`` and what the authors' hooks count on that forward."""

    pools: list[torch.Tensor]  # every pooling module's input, in call order
    reached: list[bool]  # per pooling call: on a path to the output
    conv_units: int  # Conv2d and ReLUConvBN calls on a path to the output
    channels: int  # their input channels plus those of the reached pooling calls


def conv_unit_types() -> tuple[type, ...]:
    """The module classes the authors' "Conv" hook matches in our networks (NB101's
    ``ConvBnRelu`` blocks as NB201's ``ReLUConvBN``: the name holds "Conv")."""
    from torch import nn

    from zeroshot_nas.spaces.cells import ReLUConvBN
    from zeroshot_nas.spaces.nb101_network import ConvBnRelu

    return (nn.Conv2d, ReLUConvBN, ConvBnRelu)


def reachable_nodes(output: torch.Tensor) -> set[int]:
    """Ids of every autograd node a backward pass from ``output`` would run."""
    seen: set[int] = set()
    stack = [output.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        stack.extend(next_node for next_node, _ in node.next_functions)
    return seen


def _drop(_saved: Any) -> None:
    """A saved-tensor hook that keeps nothing (a graph that is never differentiated)."""
    return None


def noisy_forward(ctx: ArchContext) -> NoisyForward:
    """The forward of ``x + z``, z ~ N(0, 1), shared by ``ni`` and ``ni_eta``."""
    return ctx.shared("noisy_forward", lambda: _run_noisy_forward(ctx))


def _run_noisy_forward(ctx: ArchContext) -> NoisyForward:
    import torch

    from .network import POOLING
    from .numerics import randn_like_seeded

    net = ctx.network()
    z = randn_like_seeded(ctx.x, ctx.protocol.seed, "ni-noise")
    # (kind, input channels, the output's autograd node, the input of a pooling call): the
    # node, not the output, so that each output is freed as the forward moves on.
    calls: list[tuple[str, int, Any, torch.Tensor | None]] = []

    def record(kind: str):
        def hook(_m: nn.Module, inputs: tuple, out: torch.Tensor) -> None:
            kept = inputs[0].detach() if kind == "pool" else None
            calls.append((kind, inputs[0].shape[1], out.grad_fn, kept))

        return hook

    units = conv_unit_types()
    handles = [m.register_forward_hook(record("pool")) for m in net.modules()
               if isinstance(m, POOLING)]
    handles += [m.register_forward_hook(record("conv")) for m in net.modules()
                if isinstance(m, units)]
    # A graph (no backward is run) tells which modules lie on a path to the output, as the
    # authors' backward hooks do; the input requires grad as in their Jacobian pass. Its
    # structure is all that is read, so it saves no tensor for a backward pass.
    x = ctx.layout(ctx.x + z, gradients=False).detach().requires_grad_(True)
    try:
        with torch.enable_grad(), torch.autograd.graph.saved_tensors_hooks(_drop, _drop):
            out = net(x)
    finally:
        for h in handles:
            h.remove()
    live = reachable_nodes(out)
    on_path = [id(node) in live for _, _, node, _ in calls]
    pools = [(inp, hit) for (kind, _, _, inp), hit in zip(calls, on_path, strict=True)
             if kind == "pool"]
    return NoisyForward(
        pools=[inp for inp, _ in pools],
        reached=[hit for _, hit in pools],
        conv_units=sum(hit for (kind, *_), hit in zip(calls, on_path, strict=True)
                       if kind == "conv"),
        channels=sum(c for (_, c, _, _), hit in zip(calls, on_path, strict=True) if hit),
    )


def layer_errors(clean: list[torch.Tensor], noisy: list[torch.Tensor]) -> list[float]:
    """Per pooling layer: Σ(f' − f)² / numel, in float64."""
    import torch

    if len(clean) != len(noisy):
        raise RuntimeError(f"pooling layers differ between passes: {len(clean)} vs {len(noisy)}")
    return [float((g.to(torch.float64) - f.to(torch.float64)).pow(2).mean())
            for f, g in zip(clean, noisy, strict=True)]


def noise_immunity(clean: list[torch.Tensor], noisy: list[torch.Tensor]) -> float:
    """η = Σ over pooling layers of Σ(f' − f)² / numel (float64)."""
    return float(sum(layer_errors(clean, noisy)))


def authors_ni(errors: list[float], channels: int, conv_units: int) -> tuple[float, str | None]:
    """``log(C·(n_conv/n_pool)/log(1e-10 + η))`` with the authors' fallbacks; returns the value
    and, when a fallback applied, why."""
    if not errors:
        return 0.0, "no pooling layer on a path to the output"
    eta_log = math.log(ETA_EPSILON + sum(errors))
    if eta_log <= 0:
        return 0.0, "log(1e-10 + η) <= 0"
    ratio = channels * (conv_units / len(errors)) / eta_log
    return (math.log(ratio) if ratio > 0 else -math.inf), None


@register(
    "ni",
    family="immunity",
    higher_is_better=True,
    paper=RANK_BASED,
    requires=("pool",),
    version=2,
    description="noise immunity as the authors' code computes it (Rank-Based-NAS "
    "score/ninaswot_score.py, ni_score): log(C·(n_conv/n_pool)/log(1e-10 + η)), η = Σ over "
    "pooling inputs on a path to the output of mean (f(x+z) − f(x))², z ~ N(0, 1); C, n_conv "
    "count input channels and conv units on a path to the output; 0 where log(1e-10+η) ≤ 0",
)
def ni(ctx: ArchContext) -> tuple[float, dict[str, Any]]:
    clean = ctx.pool_features()
    noisy = noisy_forward(ctx)
    errors = [e for e, hit in zip(layer_errors(clean, noisy.pools), noisy.reached, strict=True)
              if hit]
    value, fallback = authors_ni(errors, noisy.channels, noisy.conv_units)
    extra: dict[str, Any] = {
        "eta": float(sum(errors)),
        "pooling_layers": len(errors),
        "conv_units": noisy.conv_units,
        "channels": noisy.channels,
    }
    if fallback:
        extra["fallback"] = fallback
    return value, extra


@register(
    "ni_eta",
    family="immunity",
    higher_is_better=False,
    paper=RANK_BASED + " (text)",
    requires=("pool",),
    description="noise immunity η as the paper's text defines it: Σ over every pooling input "
    "of mean (f(x+z) − f(x))², z ~ N(0, 1) on the normalised batch; smaller is better; NaN "
    "when the global-pooling input is the same for every image",
)
def ni_eta(ctx: ArchContext) -> tuple[float, dict[str, Any]]:
    clean = ctx.pool_features()
    noisy = noisy_forward(ctx)
    extra: dict[str, Any] = {"pooling_layers": len(clean)}
    if input_independent(clean[-1]):
        # A network whose classifier input is the same for every image (e.g. a cell whose
        # output is cut off from its input) is trivially "immune" to noise: η would call the
        # worst architectures of the space the best. Like jacob_cov of a zero Jacobian, the
        # score is undefined there, so it is reported as NaN (status nan), never dropped.
        extra["degenerate"] = "global-pooling input is identical for every image"
        return float("nan"), extra
    return noise_immunity(clean, noisy.pools), extra


def input_independent(features: torch.Tensor) -> bool:
    """True when ``features`` (batch first) are exactly the same for every sample."""
    return bool((features == features[:1]).all())
