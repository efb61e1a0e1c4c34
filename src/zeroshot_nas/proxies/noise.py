"""Noise scores: the noised Jacobian scores of the parameters-scoring paper (SNS ... MNJSC).

Noised batch: x + a·var(x)·ε, var over every element of the (normalised) batch, one
ε ~ N(0, 1) drawn from the seed and scaled by each amplitude a ∈ {0.1, 10, 100}.
NS_a = 1 − |JS(x) − JS(noised_a)| (JSC instead of JS for the cosine variants).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .jacobian import jacobian_stats
from .registry import register

if TYPE_CHECKING:
    import torch

    from .context import ArchContext

PSCORE = "parameters-scoring"
LEVELS = (0.1, 10.0, 100.0)


def noisy_jacobian(ctx: ArchContext, level: float) -> torch.Tensor:
    """∂(Σ logits)/∂x at ``x + level·var(x)·ε``, one pass per level shared by the family.

    Three separate passes: stacking the levels into one batch of 3B with per-level
    BatchNorm statistics gives the same numbers but ran 16% slower on this CPU."""
    return ctx.shared(f"jacobian:{level:g}", lambda: _run_noisy_jacobian(ctx, level))


def _run_noisy_jacobian(ctx: ArchContext, level: float) -> torch.Tensor:
    import torch

    from .numerics import randn_like_seeded

    net = ctx.network()
    eps = randn_like_seeded(ctx.x, ctx.protocol.seed, "js-noise")
    noisy = ctx.x + level * ctx.x.var() * eps
    x = ctx.layout(noisy, gradients=True).detach().requires_grad_(True)
    with torch.enable_grad():
        out = net(x)
        (gx,) = torch.autograd.grad(out.sum(), x)
    return gx.detach().contiguous()


def noisy_stats(ctx: ArchContext, level: float) -> dict[str, Any]:
    """The Jacobian statistics of the batch noised at ``level``."""
    return jacobian_stats(ctx, f"{level:g}", lambda: noisy_jacobian(ctx, level))


def noised_score(ctx: ArchContext, level: float, key: str) -> float:
    """NS_level = 1 − |score(x) − score(x + level·var(x)·ε)| for key ``js`` or ``jsc``."""
    clean = jacobian_stats(ctx)[key]
    noisy = noisy_stats(ctx, level)[key]
    return 1.0 - abs(clean - noisy)


def _single(level: float, key: str):
    def compute(ctx: ArchContext) -> tuple[float, dict[str, Any]]:
        return noised_score(ctx, level, key), {
            f"{key}_clean": jacobian_stats(ctx)[key],
            f"{key}_noised": noisy_stats(ctx, level)[key],
        }

    return compute


def _product(key: str):
    def compute(ctx: ArchContext) -> tuple[float, dict[str, Any]]:
        value = jacobian_stats(ctx)[key]
        parts = {}
        for level in LEVELS:
            ns = noised_score(ctx, level, key)
            parts[f"ns_{level:g}"] = ns
            value *= ns
        return value, parts

    return compute


_COMMON = dict(
    family="noise", higher_is_better=True, bounded01=True, paper=PSCORE, requires=("J0",)
)
register("sns", description="1 − |JS(x) − JS(x + 0.1·var(x)·ε)|", **_COMMON)(_single(0.1, "js"))
register("snsc", description="1 − |JSC(x) − JSC(x + 0.1·var(x)·ε)|", **_COMMON)(_single(0.1, "jsc"))
register("lns", description="1 − |JS(x) − JS(x + 10·var(x)·ε)|", **_COMMON)(_single(10.0, "js"))
register("lnsc", description="1 − |JSC(x) − JSC(x + 10·var(x)·ε)|", **_COMMON)(_single(10.0, "jsc"))
register("mnjs", description="JS · NS_0.1 · NS_10 · NS_100", **_COMMON)(_product("js"))
register("mnjsc", description="JSC · NSC_0.1 · NSC_10 · NSC_100", **_COMMON)(_product("jsc"))
