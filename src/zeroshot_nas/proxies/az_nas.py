"""AZ-NAS (Lee & Ham, CVPR 2024): expressivity, progressivity and trainability of the
features between blocks, and the rank aggregation that makes the AZ-NAS score.

``cvlab-yonsei/AZ-NAS`` ``NB201/ZeroShotProxy/compute_az_nas_score.py`` reads the feature
after the stem and after every cell (``extract_cell_features``) of one forward:

* expressivity: for each feature (B, C, H, W), the entropy of the eigenvalue distribution of
  its C×C channel covariance over the B·H·W positions, Σ −p log(p + 1e-8) with p = λ/Σλ;
  the score is the sum over features;
* progressivity: the smallest increase of that entropy from one feature to the next;
* trainability: for each block from last to first, a random ±1 cotangent g_out on its output
  is pulled back to its input (g_in, pixel-unshuffled when the block halves the resolution);
  σ = the largest singular value of g_inᵀ g_out / (B·H·W); the block's term is −σ − 1/(σ +
  1e-6) + 2 (best at σ = 1), −inf when the block is the identity; the score is the mean;
* complexity: FLOPs (they read the benchmark's; ``flops`` here counts the same).

A NaN part becomes −inf, as in their code. The AZ-NAS score itself is Σ over the four parts
of log(rank / m), ranks ascending over the m architectures compared: it needs the whole
sample, so it is registered as a combination and computed by the statistics
(:func:`zeroshot_nas.stats.core.log_rank_sum`), never per architecture.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from .registry import register, register_combination

if TYPE_CHECKING:
    import torch
    from torch import nn

    from .context import ArchContext

PAPER = "AZ-NAS (Lee & Ham, CVPR 2024)"
SOURCE = ("cvlab-yonsei/AZ-NAS@5e6683a2cfa5c6d0dc34a1317a842497ba7eae47 "
          "NB201/ZeroShotProxy/compute_az_nas_score.py")
ENTROPY_EPS = 1e-8
SIGMA_EPS = 1e-6
# The three scores of this module, which read its forward; the combination adds FLOPs.
SCORES = ("az_expressivity", "az_progressivity", "az_trainability")
PARTS = (*SCORES, "flops")


def blocks(net: nn.Module) -> list[nn.Module]:
    """The stem and every cell, whose outputs are the features AZ-NAS reads."""
    stem, cells = getattr(net, "stem", None), getattr(net, "cells", None)
    if stem is None or cells is None:
        raise ValueError(f"AZ-NAS reads the feature after the stem and after every cell; "
                         f"{type(net).__name__} has no 'stem' and 'cells'")
    return [stem, *cells]


def block_features(ctx: ArchContext) -> list[torch.Tensor]:
    """The stem's and every cell's output of one forward of the batch, graph kept (NCHW):
    released once the three AZ-NAS scores have run (a whole forward graph)."""
    return ctx.shared("az_forward", lambda: _run_forward(ctx), readers=SCORES)


def _run_forward(ctx: ArchContext) -> list[torch.Tensor]:
    import torch

    net = ctx.network()
    feats: list[torch.Tensor] = []
    handles = [b.register_forward_hook(lambda _m, _i, out: feats.append(out))
               for b in blocks(net)]
    try:
        with torch.enable_grad():
            net(ctx.x)
    finally:
        for h in handles:
            h.remove()
    return feats


def spectral_entropy(feature: torch.Tensor) -> float:
    """Entropy of the normalised eigenvalues of the channel covariance over every position
    (float64; eigenvalues clipped at 0); NaN when the feature does not vary at all."""
    import torch

    f = feature.detach().to(torch.float64)
    f = f.permute(0, 2, 3, 1).reshape(-1, f.shape[1])
    f = f - f.mean(dim=0, keepdim=True)
    eig = torch.linalg.eigvalsh(f.T @ f / f.shape[0]).clamp(min=0.0)
    total = float(eig.sum())
    if total <= 0.0:
        return math.nan
    p = eig / total
    return float(-(p * torch.log(p + ENTROPY_EPS)).sum())


def block_entropies(ctx: ArchContext) -> list[float]:
    """Spectral entropy of each block's feature (shared by expressivity and progressivity)."""
    return ctx.shared("az_entropies", lambda: [spectral_entropy(f) for f in block_features(ctx)])


def pullback_term(f_in: torch.Tensor, f_out: torch.Tensor, g_out: torch.Tensor) -> float:
    """One block's trainability term: −σ − 1/(σ + 1e-6) + 2 for σ the largest singular value
    of g_inᵀ g_out / (B·H·W), g_in = g_out pulled back through the block; −inf when the
    block passes g_out through unchanged (the identity)."""
    import torch
    import torch.nn.functional as F

    (g_in,) = torch.autograd.grad(f_out, f_in, grad_outputs=g_out)
    if g_in.shape == g_out.shape and torch.equal(g_in, g_out):
        return -math.inf
    if g_in.shape[2:] != g_out.shape[2:]:
        g_in = F.pixel_unshuffle(g_in, g_in.shape[2] // g_out.shape[2])
    b, c_out, h, w = g_out.shape
    rows_out = g_out.to(torch.float64).permute(0, 2, 3, 1).reshape(-1, c_out)
    rows_in = g_in.to(torch.float64).permute(0, 2, 3, 1).reshape(-1, g_in.shape[1])
    sigma = float(torch.linalg.matrix_norm(rows_in.T @ rows_out / (b * h * w), ord=2))
    return -sigma - 1.0 / (sigma + SIGMA_EPS) + 2.0


def trainability_terms(ctx: ArchContext) -> list[float]:
    """Per block, last to first, the trainability term of a seeded ±1 cotangent."""
    return ctx.shared("az_trainability", lambda: _run_trainability(ctx))


def _run_trainability(ctx: ArchContext) -> list[float]:
    import torch

    from .numerics import derived_seed

    feats = block_features(ctx)
    gen = torch.Generator().manual_seed(derived_seed(ctx.protocol.seed, "az_nas-trainability"))
    terms = []
    with torch.enable_grad():
        for i in reversed(range(1, len(feats))):
            # Drawn as their torch.bernoulli(0.5) on a float32 tensor shaped like the output,
            # so that a generator of the same seed gives the same signs in any dtype.
            coin = torch.bernoulli(torch.full(feats[i].shape, 0.5), generator=gen)
            g_out = ((coin - 0.5) * 2).to(device=feats[i].device, dtype=feats[i].dtype)
            terms.append(pullback_term(feats[i - 1], feats[i], g_out))
    return terms


def _worst_if_nan(value: float) -> float:
    # Their code: float(x) if not np.isnan(x) else -np.inf
    return -math.inf if math.isnan(value) else value


@register(
    "az_expressivity",
    family="az_nas",
    higher_is_better=True,
    paper=PAPER,
    description="Σ over the stem's and every cell's output of the entropy of the normalised "
    "channel-covariance eigenvalues (AZ-NAS s^E); a constant feature makes it −inf",
    source=SOURCE,
    needs_space=True,
)
def az_expressivity(ctx: ArchContext) -> tuple[float, dict[str, Any]]:
    entropies = block_entropies(ctx)
    value = _worst_if_nan(math.fsum(entropies))
    return value, {"entropies": entropies,
                   "constant_features": sum(math.isnan(e) for e in entropies)}


@register(
    "az_progressivity",
    family="az_nas",
    higher_is_better=True,
    paper=PAPER,
    description="min over consecutive blocks of the increase of that entropy (AZ-NAS s^P); "
    "−inf when a feature is constant",
    source=SOURCE,
    needs_space=True,
)
def az_progressivity(ctx: ArchContext) -> tuple[float, dict[str, Any]]:
    e = block_entropies(ctx)
    steps = [b - a for a, b in zip(e[:-1], e[1:], strict=True)]
    value = math.nan if any(math.isnan(s) for s in steps) else min(steps)
    return _worst_if_nan(value), {}


@register(
    "az_trainability",
    family="az_nas",
    higher_is_better=True,
    paper=PAPER,
    description="mean over blocks of −σ − 1/(σ+1e-6) + 2, σ the spectral norm of the "
    "pulled-back ±1 cotangent's cross-covariance (AZ-NAS s^T); an identity block gives −inf",
    source=SOURCE,
    needs_space=True,
)
def az_trainability(ctx: ArchContext) -> tuple[float, dict[str, Any]]:
    terms = trainability_terms(ctx)
    value = math.fsum(terms) / len(terms) if terms else math.nan
    return _worst_if_nan(value), {"terms_last_to_first": terms}


register_combination(
    "az_nas",
    parts=PARTS,
    method="log_rank_sum",
    paper=PAPER,
    description="Σ over expressivity, progressivity, trainability and FLOPs of "
    "log(rank / m), ranks ascending (best = m) over the m architectures compared",
    source="cvlab-yonsei/AZ-NAS@5e6683a2cfa5c6d0dc34a1317a842497ba7eae47 NB201/tss_general.ipynb",
)
