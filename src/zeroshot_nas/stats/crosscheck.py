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

from zeroshot_nas.proxies import get_spec
from zeroshot_nas.spaces.common import DATASETS
from zeroshot_nas.stats import connectivity, seeds
from zeroshot_nas.stats.bootstrap import bootstrap_correlation
from zeroshot_nas.stats.core import apply_nonfinite_policy

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


ACCURACY_DESCRIPTION = (
    "Kendall and Spearman correlation, per data set, between FreeREA's published values "
    "and the benchmark's test accuracy: over every architecture of their file, their "
    "non-finite values (naswot's singular kernels) ranked last in the direction of the "
    "score each metric is, and over the architectures with a path from input to output "
    "only; no score of ours takes part"
)
ACCURACY_COLUMNS = ["dataset", "freerea_metric", "kendall_all", "spearman_all", "n_all",
                    "n_nonfinite_all", "kendall_path", "spearman_path", "n_path", "note"]


def freerea_accuracy(theirs: pd.DataFrame, benchmark: pd.DataFrame,
                     datasets: list[str]) -> pd.DataFrame:
    """One row per data set of ``datasets`` and FreeREA metric: how FreeREA's own values rank
    the networks by test accuracy (``benchmark``: the NB201 table, ``arch`` and ``test_acc``
    per data set), over every architecture they have a value for (non-finite ranked last)
    and over those with a path from input to output. It tells which architectures and which
    non-finite rule reproduce a correlation printed from their files."""
    rows = []
    for (dataset, metric), their in theirs.groupby(["dataset", "metric"], sort=False):
        if dataset not in datasets:
            continue
        acc = benchmark[benchmark["dataset"] == dataset].set_index("arch")["test_acc"]
        both = their[their["value"].notna()].join(acc, on="arch", how="inner")
        higher = get_spec(PAIRS[metric]).higher_is_better
        rows.append({"dataset": dataset, "freerea_metric": metric,
                     **_against_accuracy(both, higher)})
    out = pd.DataFrame(rows, columns=ACCURACY_COLUMNS)
    counts = [c for c in ACCURACY_COLUMNS if c.startswith("n_")]
    out[counts] = out[counts].astype("Int64")
    order = {d: i for i, d in enumerate(DATASETS)} | {m: i for i, m in enumerate(PAIRS)}
    return out.sort_values(["dataset", "freerea_metric"], key=lambda c: c.map(order),
                           ignore_index=True)


def _against_accuracy(both: pd.DataFrame, higher_is_better: bool) -> dict:
    """Correlations of ``value`` with ``test_acc`` over all rows and over the rows of
    architectures with a path, non-finite values ranked last (worst in the score's
    direction)."""
    if len(both) < 3:
        return {"n_all": len(both), "note": f"not compared: {len(both)} architecture(s) with "
                                             "a value in FreeREA's file"}
    policy = apply_nonfinite_policy(both["value"].to_numpy(dtype=float), higher_is_better,
                                    "kept_worst")
    acc = both["test_acc"].to_numpy(dtype=float)
    path = connectivity.path_mask(both).to_numpy()
    out: dict = {"n_all": len(both), "n_nonfinite_all": policy.n_nonfinite,
                 "n_path": int(path.sum()), "note": ""}
    for method in ("kendall", "spearman"):
        out[f"{method}_all"] = bootstrap_correlation(policy.values, acc, method, 0)[0]
        out[f"{method}_path"] = bootstrap_correlation(policy.values[path], acc[path],
                                                      method, 0)[0]
    return out


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
