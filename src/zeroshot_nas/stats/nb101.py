"""NAS-Bench-101 statistics beyond the per-data-set tables of :mod:`.analysis`.

* :func:`row_correlations`: Kendall and Spearman of every score over MLFE's 2,000 rows, as
  MLFE evaluates them: each row is a cell's score against that row's own training run (its
  test accuracy), so a cell drawn k times counts k times. The per-cell statistics
  (``correlations``: one point per cell, accuracy averaged over its distinct runs) are the
  standard tables.
* :func:`naslib_agreement`: per score NASLib precomputed on its 500 cells, the Spearman (and
  Kendall) correlation between our value and NASLib's over the cells both have: do the two
  implementations rank the same architectures alike?
* :func:`naslib_correlations`: NASLib's precomputed values themselves against the cells'
  validation accuracy, over the cells the run scored: the correlation NASLib's
  implementation reaches on the same cells, beside ours (``correlations``).

All reuse the standard bootstrap (:func:`.bootstrap.bootstrap_correlation`) and the
non-finite policies of :mod:`.core`.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pandas as pd

from zeroshot_nas.config import schema_default
from zeroshot_nas.stats import core, seeds
from zeroshot_nas.stats.bootstrap import bootstrap_correlation

ROW_ACCURACY = "row_test_acc"  # MLFE table column: JSON list, one test accuracy per row
NASLIB_PREFIX = "naslib_"
AGGREGATION = schema_default("stats", "seed_aggregation")


def _wide(df: pd.DataFrame, extra: list[str], how: str) -> pd.DataFrame:
    """One row per architecture of the scoring run (CIFAR-10, NB101's one data set): each
    score's value over the run's seeds by the statistics' rule ``how``
    (:func:`.seeds.collapse_seeds`, as the per-data-set tables), plus the benchmark columns
    ``extra``."""
    sub = df[df["dataset"] == "cifar10"]
    one = seeds.collapse_seeds(sub, how)
    wide = one.assign(value=one["value"].astype(float)).pivot_table(
        index="arch", columns="score", values="value", aggfunc="mean", dropna=False)
    wide.columns.name = None
    return wide.join(sub.groupby("arch")[extra].first())


def _correlation_rows(x: np.ndarray, y: np.ndarray, higher_is_better: bool, base: dict,
                      bootstrap: int, seed: int) -> list[dict]:
    out = []
    for policy in core.NONFINITE_POLICIES:
        res = core.apply_nonfinite_policy(x, higher_is_better, policy)
        yy = y[res.keep]
        for method in ("kendall", "spearman"):
            value, low, high = bootstrap_correlation(res.values, yy, method, bootstrap,
                                                     seed=seed)
            out.append({**base, "policy": policy, "method": method, "value": value,
                        "ci_low": low, "ci_high": high, "n": int(yy.size),
                        "n_nonfinite": res.n_nonfinite})
    return out


def row_correlations(df: pd.DataFrame, direction: Callable[[str], bool], bootstrap: int = 1000,
                     seed: int = 0, how: str = AGGREGATION) -> pd.DataFrame:
    """Kendall/Spearman with 95% bootstrap intervals of every score against the test accuracy
    of each of MLFE's rows (``row_test_acc`` of the NB101 table); ``direction(score)`` is
    higher-is-better; several scoring seeds are combined by ``how`` (``stats.seed_aggregation``).
    Empty when the scores carry no per-row accuracies."""
    if ROW_ACCURACY not in df.columns:
        return pd.DataFrame()
    wide = _wide(df, [ROW_ACCURACY], how)
    lists = [json.loads(v) for v in wide[ROW_ACCURACY]]
    repeat = np.array([len(v) for v in lists])
    accuracy = np.array([a for v in lists for a in v], dtype=float)
    scores = [c for c in wide.columns if c != ROW_ACCURACY]
    rows = []
    for score in scores:
        x = np.repeat(wide[score].to_numpy(dtype=float), repeat)
        base = {"score": score, "dataset": "cifar10", "target": "test_acc (each MLFE row)",
                "n_cells": len(wide)}
        rows += _correlation_rows(x, accuracy, direction(score), base, bootstrap, seed)
    return pd.DataFrame(rows)


def naslib_agreement(df: pd.DataFrame, bootstrap: int = 1000, seed: int = 0,
                     how: str = AGGREGATION) -> pd.DataFrame:
    """For every score NASLib precomputed (``naslib_<score>`` columns of its NB101 table),
    the rank correlation between our values and NASLib's over the cells that have both,
    with 95% bootstrap intervals; non-finite values of ours ranked last or dropped, several
    scoring seeds combined by ``how``."""
    theirs = sorted(c for c in df.columns if c.startswith(NASLIB_PREFIX))
    if not theirs:
        return pd.DataFrame()
    wide = _wide(df, theirs, how)
    rows = []
    for column in theirs:
        score = column[len(NASLIB_PREFIX):]
        if score not in wide.columns:
            continue
        y = wide[column].to_numpy(dtype=float)
        ok = np.isfinite(y)
        base = {"score": score, "naslib_column": column, "dataset": "cifar10",
                "target": "NASLib's value"}
        rows += _correlation_rows(wide[score].to_numpy(dtype=float)[ok], y[ok], True, base,
                                  bootstrap, seed)
    return pd.DataFrame(rows)


def naslib_correlations(df: pd.DataFrame, direction: Callable[[str], bool],
                        bootstrap: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Kendall/Spearman with 95% bootstrap intervals of every score NASLib precomputed
    (``naslib_<score>``, as NASLib stores it: a monotone transform such as its log synflow
    leaves ranks unchanged) against the 108-epoch validation accuracy, over the cells of the
    run; ``direction(score)`` is our registry's higher-is-better (None: higher). Empty when
    the scores carry no NASLib columns."""
    theirs = sorted(c for c in df.columns if c.startswith(NASLIB_PREFIX))
    if not theirs or "valid_acc" not in df.columns:
        return pd.DataFrame()
    cells = df[df["dataset"] == "cifar10"].groupby("arch")[[*theirs, "valid_acc"]].first()
    accuracy = cells["valid_acc"].to_numpy(dtype=float)
    rows = []
    for column in theirs:
        score = column[len(NASLIB_PREFIX):]
        values = cells[column].to_numpy(dtype=float)
        ok = np.isfinite(values) & np.isfinite(accuracy)
        base = {"score": score, "naslib_column": column, "dataset": "cifar10",
                "target": "valid_acc"}
        rows += _correlation_rows(values[ok], accuracy[ok], direction(score), base, bootstrap,
                                  seed)
    return pd.DataFrame(rows)
