"""Our scores against FreeREA's published per-architecture scores, architecture by
architecture (``stats.freerea_check``).

FreeREA scored every NAS-Bench-201 network once (one batch of 64, seed 3); where we scored
the same network with the same score, the two rankings should nearly agree. A low Spearman
correlation points at a difference of definition, images or initialisation, not at
accuracy, which plays no part here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from zeroshot_nas.spaces.common import DATASETS
from zeroshot_nas.stats import seeds
from zeroshot_nas.stats.bootstrap import bootstrap_correlation

# FreeREA's metric -> the registry score it is compared with.
PAIRS = {
    "naswot": "naswot",
    "synflow": "synflow",
    "logsynflow": "logsynflow",
    "nregions": "linear_regions",
}
DESCRIPTION = (
    "Spearman and Kendall correlation, per data set, between our score and FreeREA's "
    "published value of the same network (NiccoloCavagnero/FreeREA@9c2a726 "
    "cached_metrics/nats: naswot, synflow, logsynflow; nregions against our linear_regions), "
    "over the architectures with a finite value on both sides; our seeds combined as in "
    "the other tables"
)
COLUMNS = ["dataset", "freerea_metric", "score", "spearman", "kendall", "n_common",
           "n_ours", "n_theirs", "n_nonfinite_ours", "n_nonfinite_theirs",
           "n_nonfinite_both", "note"]


def freerea_check(scored: pd.DataFrame, theirs: pd.DataFrame, how: str) -> pd.DataFrame:
    """One row per data set of the run and :data:`PAIRS` entry of ``theirs``.

    ``scored`` is the long scores table (its seeds combined by ``how``, as the statistics
    combine them), ``theirs`` :func:`zeroshot_nas.data.freerea_scores.read_freerea_scores`.
    The correlations are over the architectures both sides have a finite value for; the
    counts say how many each side scored (``n_theirs``: values present in the file, ±inf
    included), and how many of the architectures both have are non-finite on our side, on
    theirs, and on both (naswot's singular kernels, say). A pair whose
    score the run lacks, or with no common finite value, gets a ``note`` instead.
    """
    ours = seeds.collapse_seeds(scored, how)
    rows = []
    run_datasets = set(ours["dataset"])
    for (dataset, metric), their in theirs.groupby(["dataset", "metric"], sort=False):
        if dataset not in run_datasets:
            continue
        score = PAIRS[metric]
        mine = ours[(ours["dataset"] == dataset) & (ours["score"] == score)]
        base = {"dataset": dataset, "freerea_metric": metric, "score": score}
        if mine.empty:
            rows.append({**base, "note": f"not compared: the run did not score {score} "
                                         f"on {dataset}"})
            continue
        both = mine.groupby("arch")["value"].first().rename("ours").to_frame().join(
            their.set_index("arch")["value"].rename("theirs"), how="inner")
        rows.append({**base, **_agreement(both), "n_ours": int(mine["arch"].nunique()),
                     "n_theirs": int(their["value"].notna().sum())})
    out = pd.DataFrame(rows, columns=COLUMNS)
    counts = [c for c in COLUMNS if c.startswith("n_")]
    out[counts] = out[counts].astype("Int64")  # a skipped pair has no counts, not NaN ones
    order = {d: i for i, d in enumerate(DATASETS)} | {m: i for i, m in enumerate(PAIRS)}
    return out.sort_values(["dataset", "freerea_metric"], key=lambda c: c.map(order),
                           ignore_index=True)


def _agreement(both: pd.DataFrame) -> dict:
    """Spearman and Kendall over the finite pairs of (ours, theirs), with the counts."""
    a = both["ours"].to_numpy(dtype=float)
    b = both["theirs"].to_numpy(dtype=float)
    fa, fb = np.isfinite(a), np.isfinite(b)
    common = fa & fb
    out = {"n_common": int(common.sum()),
           "n_nonfinite_ours": int((~fa & ~np.isnan(b)).sum()),
           "n_nonfinite_theirs": int((~fb & ~np.isnan(b)).sum()),
           "n_nonfinite_both": int((~fa & ~fb & ~np.isnan(b)).sum())}
    if common.sum() < 3:
        out["note"] = (f"not compared: {int(common.sum())} architecture(s) with a finite value "
                       "on both sides")
        return out
    for method in ("spearman", "kendall"):
        out[method] = bootstrap_correlation(a[common], b[common], method, 0)[0]
    out["note"] = ""
    return out
