"""Input-Jacobian scores: ``jacob_cov`` (Mellor et al.), ``js``/``jsc`` (parameters-scoring
paper) and ``epe_nas`` (NAS-Bench-Suite-Zero's EPE-NAS).

J is ∂(Σ logits)/∂x of the batch (one backward of ``y.sum()``, as the NASWOT v1 and
zero-cost-nas code do), flattened per image; Σ_J = corrcoef(J) in float64.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .linalg import K_JS, corrcoef64, cosine_score, eig_score, offdiag_histogram, scaled_js
from .registry import register

if TYPE_CHECKING:
    import torch

    from .context import ArchContext

NWOT = "nas-without-training"
PSCORE = "parameters-scoring"


def jacobian_stats(
    ctx: ArchContext, key: str = "0", jacobian: Callable[[], torch.Tensor] | None = None
) -> dict[str, Any]:
    """S, its [0, 1] scaling, the cosine score and Σ_J of an input Jacobian; computed once per
    context and ``key``, shared by every score that reads them. ``jacobian`` supplies the
    Jacobian (default: the clean batch's, from the shared first-order pass)."""
    import torch

    def compute() -> dict[str, Any]:
        j = ctx.input_jacobian() if jacobian is None else jacobian()
        b = j.shape[0]
        rows = j.reshape(b, -1).to(torch.float64)
        zero_var = int((rows.std(dim=1) == 0).sum())
        corr = corrcoef64(rows)
        if zero_var or not torch.isfinite(corr).all():
            s = math.nan
        else:
            s = eig_score(corr, K_JS)
        zero_norm = int((torch.linalg.vector_norm(rows, dim=1) == 0).sum())
        jsc = math.nan if zero_norm else cosine_score(rows)
        return {
            "S": s,
            "js": scaled_js(s, b) if math.isfinite(s) else math.nan,
            "jsc": jsc,
            "corr": corr,
            "zero_variance_rows": zero_var,
            "zero_norm_rows": zero_norm,
            "batch": b,
        }

    return ctx.shared(f"jstats:{key}", compute)


@register(
    "jacob_cov",
    family="jacobian",
    higher_is_better=True,
    paper=NWOT,
    requires=("J0",),
    description="S = -Σ[log(σ+k) + 1/(σ+k)] over eigenvalues of corrcoef(∂Σy/∂x), k = 1e-5; "
    "extra holds the 100-bin histogram of Σ_J off-diagonals on [-1, 1]",
)
def jacob_cov(ctx: ArchContext) -> tuple[float, dict[str, Any]]:
    st = jacobian_stats(ctx)
    extra = {
        "corr_hist_counts": offdiag_histogram(st["corr"], 100),
        "corr_hist_range": [-1.0, 1.0],
        "zero_variance_rows": st["zero_variance_rows"],
    }
    return st["S"], extra


@register(
    "js",
    family="jacobian",
    higher_is_better=True,
    bounded01=True,
    paper=PSCORE,
    requires=("J0",),
    description="jacob_cov mapped to [0, 1] by its exact extremes for a B×B correlation "
    "matrix (identity → 1, rank one → 0)",
)
def js(ctx: ArchContext) -> tuple[float, dict[str, Any]]:
    st = jacobian_stats(ctx)
    return st["js"], {"zero_variance_rows": st["zero_variance_rows"]}


@register(
    "jsc",
    family="jacobian",
    higher_is_better=True,
    bounded01=True,
    paper=PSCORE,
    requires=("J0",),
    description="1 - mean_{i≠j} |cos(J_i, J_j)|^(1/20) of the input Jacobians",
)
def jsc(ctx: ArchContext) -> tuple[float, dict[str, Any]]:
    st = jacobian_stats(ctx)
    return st["jsc"], {"zero_norm_rows": st["zero_norm_rows"]}


def epe_score(j: torch.Tensor, labels: torch.Tensor, n_classes: int, k: float = 1e-5) -> float:
    """EPE-NAS as NASLib computes it: per class, s_c = Σ log(|corrcoef(J_c)| + k); the score
    is Σ_c |s_c| for ≤ 100 classes, else s_c is divided by the class size and the score is
    the mean over classes of Σ_c' |s_c − s_c'|. A one-image class has the 1×1 correlation
    [[1]] (NumPy's corrcoef of one row); above 100 classes the reference skips it (its
    len() of a 0-d array raises), and so do we."""
    import torch

    rows = j.reshape(j.shape[0], -1).to(torch.float64)
    per_class: dict[int, float] = {}
    for c in sorted(set(labels.tolist())):
        members = rows[labels == c]
        if members.shape[0] == 1:
            if n_classes > 100:
                continue
            corr = torch.ones(1, 1, dtype=torch.float64)
        else:
            corr = torch.corrcoef(members)
        s = float(torch.log(corr.abs() + k).sum())
        if n_classes > 100:
            s /= corr.shape[0]
        per_class[c] = s
    vals = list(per_class.values())
    if n_classes <= 100:
        return float(sum(abs(v) for v in vals))
    if not vals:
        return 0.0
    total = sum(abs(a - b) for a in vals for b in vals)
    return total / len(vals)


@register(
    "epe_nas",
    family="jacobian",
    higher_is_better=True,
    needs_labels=True,
    paper="NAS-Bench-Suite-Zero (EPE-NAS, Lopes et al.)",
    requires=("J0",),
    description="per-class correlation of input Jacobians: Σ_c |Σ log(|corr|+1e-5)| "
    "(pairwise-difference form above 100 classes)",
)
def epe_nas(ctx: ArchContext) -> tuple[float, dict[str, Any]]:
    j = ctx.input_jacobian()
    labels = ctx.labels().cpu()
    return epe_score(j.cpu(), labels, class_count(ctx)), {}


def class_count(ctx: ArchContext) -> int:
    """The data set's number of classes; for a network given without a data set, the width
    of its output (one forward of the network's copy on the ``meta`` device: no compute)."""
    if ctx.dataset is not None:
        from zeroshot_nas.spaces import get_dataset

        return get_dataset(ctx.dataset).num_classes
    import copy

    import torch

    shadow = copy.deepcopy(ctx.network()).to("meta").eval()
    with torch.no_grad():
        return int(shadow(torch.empty((1, *ctx.x.shape[1:]), device="meta")).shape[1])
