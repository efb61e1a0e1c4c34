"""Noise scores: the noised Jacobian scores of the parameters-scoring paper (SNS ... MNJSC)
and noise immunity (NI) of the rank-based paper.

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
    """∂(Σ logits)/∂x at ``x + level·var(x)·ε``, one pass per level shared by the family."""
    return ctx.shared(f"jacobian:{level:g}", lambda: _run_noisy_jacobian(ctx, level))


def _run_noisy_jacobian(ctx: ArchContext, level: float) -> torch.Tensor:
    import torch

    from .numerics import randn_like_seeded

    net = ctx.network()
    eps = randn_like_seeded(ctx.x, ctx.protocol.seed, "js-noise")
    noisy = ctx.x + level * ctx.x.var() * eps
    x = ctx.layout(noisy).detach().requires_grad_(True)
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


def noise_immunity(clean: list[torch.Tensor], noisy: list[torch.Tensor]) -> float:
    """η = Σ over pooling layers of Σ(f' − f)² / numel (float64)."""
    import torch

    if len(clean) != len(noisy):
        raise RuntimeError(f"pooling layers differ between passes: {len(clean)} vs {len(noisy)}")
    eta = 0.0
    for f, g in zip(clean, noisy, strict=True):
        eta += float((g.to(torch.float64) - f.to(torch.float64)).pow(2).mean())
    return eta


@register(
    "ni",
    family="noise",
    higher_is_better=False,
    paper="rank-based-training-free-nas",
    requires=("pool",),
    description="noise immunity η: Σ over pooling inputs of mean (f(x+z) − f(x))², "
    "z ~ N(0, 1) on the normalised batch; smaller is better",
)
def ni(ctx: ArchContext) -> tuple[float, dict[str, Any]]:
    clean = ctx.pool_features()
    noisy = noisy_pool_features(ctx)
    extra: dict[str, Any] = {"pooling_layers": len(clean)}
    if input_independent(clean[-1]):
        # A network whose classifier input is the same for every image (e.g. a cell whose
        # output is cut off from its input) is trivially "immune" to noise: η would call the
        # worst architectures of the space the best. Like jacob_cov of a zero Jacobian, the
        # score is undefined there, so it is reported as NaN (status nan), never dropped.
        extra["degenerate"] = "global-pooling input is identical for every image"
        return float("nan"), extra
    return noise_immunity(clean, noisy), extra


def noisy_pool_features(ctx: ArchContext) -> list[torch.Tensor]:
    """Inputs of every pooling module for ``x + z``, z ~ N(0, 1) (noise immunity)."""
    return ctx.shared("noisy_forward", lambda: _run_noisy_pool(ctx))


def _run_noisy_pool(ctx: ArchContext) -> list[torch.Tensor]:
    import torch

    from .network import POOLING
    from .numerics import randn_like_seeded

    net = ctx.network()
    z = randn_like_seeded(ctx.x, ctx.protocol.seed, "ni-noise")
    pools: list[torch.Tensor] = []
    handles = [
        m.register_forward_pre_hook(lambda _m, inp: pools.append(inp[0].detach()))
        for m in net.modules()
        if isinstance(m, POOLING)
    ]
    try:
        with torch.inference_mode():
            net(ctx.layout(ctx.x + z))
    finally:
        for h in handles:
            h.remove()
    return pools


def input_independent(features: torch.Tensor) -> bool:
    """True when ``features`` (batch first) are exactly the same for every sample."""
    return bool((features == features[:1]).all())
