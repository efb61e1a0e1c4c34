"""Parameter-space Jacobian scores (parameters-scoring paper): PJS, PJSC, WPJS, WPJSI.

For every parameter tensor W_i (``named_parameters`` order: input side first) the gradient
of the mean cross-entropy, reshaped to (j1, −1), is scored by its row correlation like JS
(scaled to [0, 1] by the exact extremes for that many rows) or by the cosine score.

Left out, and counted in ``extra``: tensors whose rows hold one element (BatchNorm
weights/biases, the classifier bias: no correlation exists); rows of zero variance (their
correlation is undefined: they are dropped from that tensor's matrix; zero-norm rows for the
cosine form); tensors left with fewer than two rows. No usable tensor → NaN.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from .linalg import K_JS, corrcoef64, cosine_score, eig_score, scaled_js
from .registry import register

if TYPE_CHECKING:
    import torch

    from .context import ArchContext

PSCORE = "parameters-scoring"


def tensor_scores(grads: list[torch.Tensor]) -> dict[str, Any]:
    """Per-tensor JS (eigen) and JSC (cosine) scores of gradient rows, with counts."""
    import torch

    js_scores: list[float] = []
    jsc_scores: list[float] = []
    single = degenerate = degenerate_cos = zero_var_rows = zero_norm_rows = 0
    for g in grads:
        if g.dim() < 2 or g[0].numel() < 2:
            single += 1
            continue
        rows = g.reshape(g.shape[0], -1).to(torch.float64)
        var_ok = rows.std(dim=1) > 0
        zero_var_rows += int((~var_ok).sum())
        if int(var_ok.sum()) >= 2:
            kept = rows[var_ok]
            js_scores.append(scaled_js(eig_score(corrcoef64(kept), K_JS), kept.shape[0]))
        else:
            degenerate += 1
        norm_ok = torch.linalg.vector_norm(rows, dim=1) > 0
        zero_norm_rows += int((~norm_ok).sum())
        if int(norm_ok.sum()) >= 2:
            jsc_scores.append(cosine_score(rows[norm_ok]))
        else:
            degenerate_cos += 1
    return {
        "js": js_scores,
        "jsc": jsc_scores,
        "counts": {
            "tensors_single_element_rows": single,
            "tensors_degenerate": degenerate,
            "tensors_degenerate_cosine": degenerate_cos,
            "zero_variance_rows": zero_var_rows,
            "zero_norm_rows": zero_norm_rows,
        },
    }


def _stats(ctx: ArchContext) -> dict[str, Any]:
    return ctx.shared("pjs_stats", lambda: tensor_scores(list(ctx.ce_grads().values())))


def weighted_mean(scores: list[float], weights: str) -> float:
    """PJS mean, or the WPJS/WPJSI sums exactly as printed: (1/N)·2/(N(N+1))·Σ w_i S_i with
    w_i = i (WPJS) or N+1−i (WPJSI); the printed 1/N makes them lie in [0, 1/N]."""
    n = len(scores)
    if n == 0:
        return math.nan
    if weights == "mean":
        return sum(scores) / n
    w = range(1, n + 1) if weights == "forward" else range(n, 0, -1)
    return (1.0 / n) * (2.0 / (n * (n + 1))) * sum(wi * s for wi, s in zip(w, scores, strict=True))


def _make(key: str, weights: str):
    def compute(ctx: ArchContext) -> tuple[float, dict[str, Any]]:
        st = _stats(ctx)
        return weighted_mean(st[key], weights), {"tensors_used": len(st[key]), **st["counts"]}

    return compute


_COMMON = dict(
    family="parameters",
    higher_is_better=True,
    bounded01=True,
    needs_labels=True,
    paper=PSCORE,
    requires=("ce",),
)
register("pjs", description="mean over parameter tensors of scaled JS of gradient rows", **_COMMON)(
    _make("js", "mean")
)
register(
    "pjsc",
    description="mean over parameter tensors of the cosine score of gradient rows",
    **_COMMON,
)(_make("jsc", "mean"))
register(
    "wpjs", description="(1/N)·2/(N(N+1))·Σ i·S_i (output-side tensors weigh more)", **_COMMON
)(_make("js", "forward"))
register(
    "wpjsi", description="(1/N)·2/(N(N+1))·Σ (N+1−i)·S_i (input-side tensors weigh more)", **_COMMON
)(_make("js", "inverse"))
