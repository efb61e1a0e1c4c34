"""Scores of several initialisations: one value per architecture, and the per-seed spread.

A run with several scoring seeds scores every architecture once per seed (each seed fixes
the initialisation, the batch and the noise). The rank-based paper averages the three
values of each score ("computed three times with different initialisations and the average
is taken as final score") before ranking; :func:`aggregate` does that with an explicit
non-finite rule, for the statistics and the searches alike. :func:`seed_tables` reports
what averaging hides: each seed's own correlation with accuracy and how much the seeds
disagree.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from zeroshot_nas.config import schema_choices
from zeroshot_nas.stats import core
from zeroshot_nas.stats.bootstrap import bootstrap_correlation

AGGREGATIONS = schema_choices("stats", "seed_aggregation")
# What summary.json says of each rule (the paper's protocol section quotes it).
RULES = {
    "mean": "each score averaged over the run's seeds per architecture before ranking; a seed "
            "whose value is not finite (NaN, ±inf, error or missing) makes the mean "
            "non-finite, and it is counted and treated like any non-finite score",
    "mean_finite": "each score averaged over the finite values of the run's seeds per "
                   "architecture before ranking; non-finite only when no seed is finite",
    "first": "the lowest seed's value alone (one initialisation)",
}
SEED_CORRELATION_COLUMNS = ["score", "dataset", "seed", "method", "target", "policy", "value",
                            "n", "n_nonfinite"]
SEED_SPREAD_COLUMNS = [
    "score", "dataset", "n_seeds", "aggregation", "method", "aggregated", "seed_mean",
    "seed_std", "seed_min", "seed_max", "between_seeds_kendall", "median_relative_std",
    "n_archs", "n_some_nonfinite", "n_all_nonfinite",
]


def check_aggregation(how: str) -> str:
    if how not in AGGREGATIONS:
        raise ValueError(f"unknown seed aggregation {how!r}; use one of {AGGREGATIONS}")
    return how


def aggregate(matrix: np.ndarray, how: str) -> np.ndarray:
    """One value per row of ``matrix`` (architectures × seeds, seeds in ascending order; a
    missing value is NaN) by the rule ``how`` (see :data:`RULES`)."""
    m = np.asarray(matrix, dtype=float)
    if m.ndim != 2 or m.shape[1] == 0:
        raise ValueError(f"expected an architectures × seeds matrix, got shape {m.shape}")
    check_aggregation(how)
    if how == "first" or m.shape[1] == 1:
        return m[:, 0].copy()
    if how == "mean":
        # numpy's mean: an infinite seed gives that infinity, NaN or opposite infinities give
        # NaN; never a finite number.
        with np.errstate(invalid="ignore"):
            return m.mean(axis=1)
    finite = np.isfinite(m)
    kept = np.where(finite, m, 0.0)
    counts = finite.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, kept.sum(axis=1) / counts, np.nan)


def collapse_seeds(df: pd.DataFrame, how: str) -> pd.DataFrame:
    """The long scores table with one row per architecture, data set and score (and mode).

    ``first``: the rows of the lowest seed. ``mean``/``mean_finite``: ``value`` aggregated
    over the seeds, ``status`` that value's, ``seconds`` summed over the seeds (the cost of
    every initialisation), the other columns from the lowest seed's row, and ``n_seeds``
    (the seeds with a value). Each data set is aggregated over its own seeds: a run may
    give its data sets different seeds (``dataset_seeds``), and a seed another data set
    has is not missing from this one. A table with one seed comes back as is.
    """
    check_aggregation(how)
    if df["seed"].nunique() < 2:
        return df
    if "dataset" in df.columns and df["dataset"].nunique() > 1:
        parts = [_collapse_one_dataset(part, how)
                 for _, part in df.groupby("dataset", sort=False)]
        return pd.concat(parts, ignore_index=True)
    return _collapse_one_dataset(df, how)


def _collapse_one_dataset(df: pd.DataFrame, how: str) -> pd.DataFrame:
    """:func:`collapse_seeds` of one data set's rows (under ``mean`` and ``mean_finite``
    every row gets ``n_seeds``, one-seed data sets included)."""
    if how == "first":
        return df[df["seed"] == df["seed"].min()]
    if df["seed"].nunique() < 2:
        return df.assign(n_seeds=df["value"].notna().astype(int))
    from zeroshot_nas.proxies.protocol import status_of

    keys = [c for c in ("arch", "dataset", "score", "mode") if c in df.columns]
    ordered = df.sort_values("seed", kind="stable")
    # unstack refuses duplicate (keys, seed) rows: a merged table never has them.
    matrix = ordered.set_index([*keys, "seed"])["value"].astype(float).unstack("seed")
    matrix = matrix.reindex(columns=sorted(matrix.columns))
    out = ordered.drop_duplicates(keys).set_index(keys).reindex(matrix.index)
    out["value"] = aggregate(matrix.to_numpy(), how)
    out["status"] = [status_of(v) for v in out["value"]]
    if "seconds" in out.columns:
        out["seconds"] = ordered.groupby(keys)["seconds"].sum(min_count=1).reindex(matrix.index)
    out["n_seeds"] = matrix.notna().sum(axis=1).to_numpy()
    return out.reset_index()


def seed_matrix(rows: pd.DataFrame, archs: pd.Index) -> pd.DataFrame:
    """The values of one score on one data set as ``archs`` × seeds (ascending); a missing
    (arch, seed) is NaN. ``rows`` has columns arch, seed, value."""
    matrix = rows.set_index(["arch", "seed"])["value"].astype(float).unstack("seed")
    return matrix.reindex(index=archs, columns=sorted(matrix.columns))


def seed_tables(
    per_seed: dict[str, pd.DataFrame],
    accuracy: pd.Series,
    dataset: str,
    directions: Callable[[str], bool],
    how: str,
) -> tuple[list[dict], list[dict]]:
    """Rows of ``seed_correlations`` and ``seed_spread`` for one data set.

    ``per_seed`` maps each score to its architectures × seeds matrix (index aligned with
    ``accuracy``, the test accuracy). Correlations use the ``kept_worst`` policy of the main
    table (non-finite values tie last), no bootstrap.
    """
    corr_rows, spread_rows = [], []
    acc = accuracy.to_numpy(dtype=float)
    have = np.isfinite(acc)
    for score, matrix in per_seed.items():
        higher = directions(score)
        values = matrix.to_numpy(dtype=float)[have]
        per_seed_stats: dict[str, list[float]] = {"kendall": [], "spearman": []}
        for j, seed in enumerate(matrix.columns):
            res = core.apply_nonfinite_policy(values[:, j], higher, "kept_worst")
            for method in per_seed_stats:
                stat = bootstrap_correlation(res.values, acc[have], method, 0)[0]
                per_seed_stats[method].append(stat)
                corr_rows.append({"score": score, "dataset": dataset, "seed": int(seed),
                                  "method": method, "target": "test_acc",
                                  "policy": "kept_worst", "value": stat,
                                  "n": int(have.sum()), "n_nonfinite": res.n_nonfinite})
        combined = core.apply_nonfinite_policy(aggregate(values, how), higher, "kept_worst")
        spread = _spread(values, higher)
        for method, stats in per_seed_stats.items():
            arr = np.asarray(stats, dtype=float)
            spread_rows.append({
                "score": score, "dataset": dataset, "n_seeds": values.shape[1],
                "aggregation": how, "method": method,
                "aggregated": bootstrap_correlation(combined.values, acc[have], method, 0)[0],
                "seed_mean": float(np.nanmean(arr)) if np.isfinite(arr).any() else np.nan,
                "seed_std": float(np.nanstd(arr, ddof=1)) if np.isfinite(arr).sum() > 1
                else np.nan,
                "seed_min": float(np.nanmin(arr)) if np.isfinite(arr).any() else np.nan,
                "seed_max": float(np.nanmax(arr)) if np.isfinite(arr).any() else np.nan,
                **spread,
            })
    return corr_rows, spread_rows


def _spread(values: np.ndarray, higher: bool) -> dict:
    """How much the seeds of one score disagree, over the architectures with accuracy."""
    finite = np.isfinite(values)
    n_seeds = values.shape[1]
    pairs = []
    for a in range(n_seeds):
        for b in range(a + 1, n_seeds):
            x = core.apply_nonfinite_policy(values[:, a], higher, "kept_worst").values
            y = core.apply_nonfinite_policy(values[:, b], higher, "kept_worst").values
            pairs.append(bootstrap_correlation(x, y, "kendall", 0)[0])
    pairs_arr = np.asarray(pairs, dtype=float)
    all_finite = finite.all(axis=1)
    rows = values[all_finite]
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = rows.std(axis=1, ddof=1) / np.abs(rows.mean(axis=1)) if n_seeds > 1 else \
            np.zeros(len(rows))
    rel = rel[np.isfinite(rel)]
    return {
        "between_seeds_kendall": float(np.nanmean(pairs_arr)) if np.isfinite(pairs_arr).any()
        else np.nan,
        "median_relative_std": float(np.median(rel)) if rel.size else np.nan,
        "n_archs": int(values.shape[0]),
        "n_some_nonfinite": int((~all_finite & finite.any(axis=1)).sum()),
        "n_all_nonfinite": int((~finite.any(axis=1)).sum()),
    }
