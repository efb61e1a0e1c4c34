"""Condition number of the empirical neural tangent kernel: TE-NAS's (``ntk``) and the
rank-based authors' code's (``ntk_rb``).

The two differ in what is differentiated (the summed logits of the first ``ntk_batch_size``
images vs the summed pooled features of the whole batch), in precision (float64 eigenvalues
vs the network's dtype) and in the non-finite rule, so each has its own pass; they share the
network.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from .immunity import RANK_BASED
from .registry import register

if TYPE_CHECKING:
    import torch
    from torch import nn

    from .context import ArchContext


def ntk_eigenvalues(ctx: ArchContext) -> torch.Tensor:
    """Eigenvalues (ascending, float64) of the empirical NTK G Gᵀ on the first
    ``ntk_batch_size`` images; G = per-sample ∂(Σ logits)/∂(all ``weight`` tensors)."""
    return ctx.shared("ntk", lambda: _run_ntk(ctx))


def _run_ntk(ctx: ArchContext) -> torch.Tensor:
    import torch

    net = ctx.network()
    n = min(ctx.protocol.ntk_batch_size, ctx.x.shape[0])
    weights = [p for name, p in net.named_parameters() if name.endswith("weight")]
    with torch.enable_grad():
        # Sample i's row of G is the gradient of its summed logits through the shared forward
        # (train-mode BN couples the samples exactly as in the reference's per-sample loop).
        # One backward per sample on the retained graph: the same numbers as a vmapped
        # backward over the n cotangents, 1.34x faster on this CPU (docs/proxies.md, Speed).
        sums = net(ctx.x[:n]).sum(dim=1)
        g = None
        for i in range(n):
            grads = [gr for gr in torch.autograd.grad(sums[i], weights, retain_graph=i < n - 1,
                                                      allow_unused=True) if gr is not None]
            if g is None:
                g = torch.empty(n, sum(gr.numel() for gr in grads), dtype=torch.float64,
                                device=sums.device)
            # Each row is written in place in float64 (no per-row float64 copies and no
            # concatenation: same numbers, less memory traffic).
            offset = 0
            for gr in grads:
                g[i, offset : offset + gr.numel()].copy_(gr.reshape(-1))
                offset += gr.numel()
    return torch.linalg.eigvalsh(g @ g.T)


@register(
    "ntk",
    family="ntk",
    higher_is_better=False,
    paper="rank-based-training-free-nas (TE-NAS)",
    description="λmax/λmin of G·Gᵀ, G = per-sample ∂(Σ logits)/∂(all weight tensors) on the "
    "first ntk_batch_size images; eigvalsh in float64; lower is better",
)
def ntk(ctx: ArchContext) -> tuple[float, dict[str, Any]]:
    eig = ntk_eigenvalues(ctx)
    lo, hi = float(eig[0]), float(eig[-1])
    extra = {"lambda_min": lo, "lambda_max": hi, "n": int(eig.shape[0])}
    if lo <= 0.0:
        # A singular kernel (λmin 0, or a round-off negative) has an infinite condition
        # number; the raw ratio would be ≤ 0 and rank the degenerate net as the best.
        return (math.nan if hi <= 0.0 else math.inf), extra
    return hi / lo, extra


# ------------------------------------------------------------------ the authors' NTK
RB_COMMIT = "b5244d68b81fdf0317aeb08c9762b3536819b106"
RB_SOURCE = f"OEmiliatanO/Rank-Based-NAS@{RB_COMMIT} score/ntk_score.py"
# Their ``np.nan_to_num(ratio, nan=100000.0)``: NaN becomes 1e5 and, numpy's defaults for
# the infinities, ±inf the largest finite double of that sign.
RB_NAN_VALUE = 1e5


def rb_ntk_eigenvalues(ctx: ArchContext) -> torch.Tensor:
    """Ascending eigenvalues, in the network's dtype, of the rank-based authors' NTK: G Gᵀ
    over the whole batch, G = per-sample ∂(Σ pooled features)/∂(every ``weight`` parameter
    that the features depend on)."""
    return ctx.shared("ntk_rb", lambda: _run_rb_ntk(ctx))


def classifier_of(net: nn.Module) -> nn.Module:
    """The last ``nn.Linear`` of the network: its input is the pooled feature vector."""
    from torch import nn

    heads = [m for m in net.modules() if isinstance(m, nn.Linear)]
    if not heads:
        raise ValueError("ntk_rb differentiates the classifier's input (the pooled features), "
                         "but the network has no nn.Linear classifier")
    return heads[-1]


def _pooled_features(net: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The classifier's input for ``x``, on a graph that stays differentiable."""
    captured: list[torch.Tensor] = []
    handle = classifier_of(net).register_forward_pre_hook(
        lambda _m, inputs: captured.append(inputs[0]))
    try:
        net(x)
    finally:
        handle.remove()
    return captured[-1]


def _run_rb_ntk(ctx: ArchContext) -> torch.Tensor:
    import torch

    net = ctx.network()
    # Their parameter filter is a substring test ('weight' in name); the classifier's weight
    # drops out as theirs does, because the features do not depend on it (no gradient).
    named = [(name, p) for name, p in net.named_parameters() if "weight" in name]
    weights = [p for _, p in named]
    n = ctx.x.shape[0]
    with torch.enable_grad():
        # Their TinyNetwork returns (logits, pooled features) and their `logit[1]` is the
        # second: the features. Row i of G is the gradient of sample i's summed features,
        # one backward per sample through the shared train-mode forward (BN couples them).
        sums = _pooled_features(net, ctx.x).sum(dim=1)
        g = None
        for i in range(n):
            grads = torch.autograd.grad(sums[i], weights, retain_graph=i < n - 1,
                                        allow_unused=True)
            row = torch.cat([t.reshape(-1) for t in grads if t is not None])
            if g is None:  # filled in place: no second copy of the n × P rows
                g = row.new_empty((n, row.numel()))
            g[i] = row
    kernel = torch.einsum("nc,mc->nm", g, g)
    # torch.symeig(ntk, upper=True) of their code; torch.linalg.eigvalsh with UPLO='U' is its
    # documented replacement (same triangle, ascending order).
    return torch.linalg.eigvalsh(kernel, UPLO="U")


def rb_condition_number(eig: torch.Tensor) -> tuple[float, str | None]:
    """λmax/λmin in the eigenvalues' dtype, then their ``np.nan_to_num(..., nan=1e5)``:
    (value, the replacement applied or None)."""
    import sys

    ratio = float(eig[-1] / eig[0])
    if math.isnan(ratio):
        return RB_NAN_VALUE, "nan -> 1e5"
    if math.isinf(ratio):
        top = sys.float_info.max
        return (top, "+inf -> max float") if ratio > 0 else (-top, "-inf -> -max float")
    return ratio, None


@register(
    "ntk_rb",
    family="ntk",
    higher_is_better=False,
    paper=f"{RANK_BASED} (authors' code)",
    source=RB_SOURCE,
    description="the rank-based authors' NTK condition number: λmax/λmin (their order, "
    "may be negative) of G·Gᵀ over the whole batch, G = per-sample ∂(Σ pooled features)/"
    "∂(parameters whose name contains 'weight'; the classifier's drops out), in the "
    "protocol's dtype (float32 by default), eigvalsh of the upper triangle; NaN → 1e5 and "
    "±inf → ±max float as their code; lower is better",
    heavy=True,
)
def ntk_rb(ctx: ArchContext) -> tuple[float, dict[str, Any]]:
    eig = rb_ntk_eigenvalues(ctx)
    value, replaced = rb_condition_number(eig)
    extra: dict[str, Any] = {"lambda_min": float(eig[0]), "lambda_max": float(eig[-1]),
                             "n": int(eig.shape[0])}
    if replaced:
        extra["replaced"] = replaced
    return value, extra
