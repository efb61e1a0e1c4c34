"""Correlation-based scores shared by the Jacobian, noise and parameter families.

``S(Σ) = -Σ_i [log(σ_i + k) + 1/(σ_i + k)]`` over the eigenvalues σ_i of a B×B correlation
matrix Σ (Mellor et al.). Its extremes over all correlation matrices of size B are exact:
with f(u) = log(u + k) + 1/(u + k), σ_i ≥ 0 and Σ_i σ_i = trace Σ = B,

* maximum at Σ = I (every σ_i = 1, the minimum of f): ``S_max = -B f(1)``;
* minimum at rank one (σ = (B, 0, ..., 0)): ``S_min = -[(B-1) f(0) + f(B)]``. Proof: f is
  convex on [0, 2-k] and concave beyond; h(u) = f(u) - chord(u) with the chord through
  (0, f(0)) and (B, f(B)) has h(0) = h(B) = 0 and h'(B) > 0 (f'(B) > 0 > chord slope), so
  h' > 0 on the concave part and h < 0 there, and on the convex part h ≤ max(h(0), h(2-k))
  ≤ 0. Hence Σ f(σ_i) ≤ Σ chord(σ_i) = (B-1) f(0) + f(B) for B ≥ 2.

``scaled_js = (S - S_min) / (S_max - S_min)`` therefore lies in [0, 1] (identity → 1,
rank one → 0) and depends on nothing but the matrix itself.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

K_JS = 1e-5


def _f(u: float, k: float = K_JS) -> float:
    return math.log(u + k) + 1.0 / (u + k)


def js_extremes(b: int, k: float = K_JS) -> tuple[float, float]:
    """(S_min, S_max) of the Jacobian score over all b×b correlation matrices."""
    if b < 2:
        raise ValueError(f"a correlation score needs at least 2 rows, got {b}")
    return -((b - 1) * _f(0.0, k) + _f(float(b), k)), -b * _f(1.0, k)


def corrcoef64(rows: torch.Tensor) -> torch.Tensor:
    """Pearson correlation of the rows (float64); rows of zero variance give NaN rows."""
    import torch

    return torch.corrcoef(rows.reshape(rows.shape[0], -1).to(torch.float64))


def eig_score(corr: torch.Tensor, k: float = K_JS) -> float:
    """S = -Σ[log(σ+k) + 1/(σ+k)] from ``eigvalsh`` of a correlation matrix.

    Eigenvalues are clipped at 0: the matrix is positive semi-definite, and negative values
    are round-off (about 1e-16) that would otherwise push S just past its exact extremes.
    """
    import torch

    sig = torch.linalg.eigvalsh(corr).clamp_min(0.0)
    return float(-(torch.log(sig + k) + 1.0 / (sig + k)).sum())


def scaled_js(s: float, b: int, k: float = K_JS) -> float:
    """The Jacobian score S of a b×b correlation matrix mapped to [0, 1] by its exact extremes."""
    s_min, s_max = js_extremes(b, k)
    return (s - s_min) / (s_max - s_min)


def cosine_score(rows: torch.Tensor) -> float:
    """JSC: 1 - mean over i≠j of |cos(J_i, J_j)|^(1/20) (orthogonal → 1, parallel → 0).

    A row of norm zero has no direction: the result is NaN.
    """
    import torch

    x = rows.reshape(rows.shape[0], -1).to(torch.float64)
    b = x.shape[0]
    if b < 2:
        raise ValueError(f"a cosine score needs at least 2 rows, got {b}")
    norms = torch.linalg.vector_norm(x, dim=1, keepdim=True)
    xn = x / norms
    p = (xn @ xn.T).abs()
    off = ~torch.eye(b, dtype=torch.bool, device=x.device)
    # Round-off can put |cos| a hair above 1; the score is defined on [0, 1].
    return float(1.0 - p[off].clamp(max=1.0).pow(1.0 / 20.0).mean())


def offdiag_histogram(corr: torch.Tensor, bins: int = 100) -> list[int]:
    """Counts of the off-diagonal entries of a correlation matrix in ``bins`` bins on [-1, 1]."""
    import torch

    b = corr.shape[0]
    off = corr[~torch.eye(b, dtype=torch.bool, device=corr.device)].cpu().numpy()
    off = off[np.isfinite(off)]
    counts, _ = np.histogram(np.clip(off, -1.0, 1.0), bins=bins, range=(-1.0, 1.0))
    return [int(c) for c in counts]
