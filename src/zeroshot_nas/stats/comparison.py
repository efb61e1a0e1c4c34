"""How every score of a run compares: one tidy table, one row per score and data set, of
the numbers a proxy paper compares by (Kendall tau with test accuracy and its interval,
the accuracy the score retrieves from a sample, seconds per architecture), with the scores
ranked and the ones ``stats.highlight`` names marked.

Built from the statistics' own tables (``correlations``, ``best_retrieved``,
``benchmark_best``, ``timing``, ``score_specs``), so the comparison, the figure drawn from
it and the paper's table always carry the same numbers as the rest of the run.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

# Which correlation the comparison ranks by: Kendall with test accuracy over every sampled
# architecture, non-finite scores ranked last (the rank-based Table 1's convention).
METHOD, TARGET, POLICY, SUBSET = "kendall", "test_acc", "kept_worst", "all"
SORT_KEY = "mean_kendall"
SORT_DESCRIPTION = ("the mean over data sets of the Kendall tau with test accuracy, in the "
                    "score's direction, over the data sets where the score has one")
# Timing modes in order of preference: standalone times a score with its own passes alone
# (the time a user of that one score pays); fused shares passes with the other scores.
TIMING_MODES = ("standalone", "fused")
COLUMNS = (
    "rank", "score", "highlighted", "family", "source", "higher_is_better", SORT_KEY,
    "dataset", "kendall", "kendall_low", "kendall_high", "kendall_raw", "n", "n_nonfinite",
    "best_test_mean", "best_test_std", "optimum_test", "best_gap", "best_runs",
    "best_sample_size", "best_pool_size", "seconds", "seconds_mode", "seconds_n",
)

COUNTS = ("n", "n_nonfinite", "best_runs", "best_sample_size", "best_pool_size", "seconds_n")


def oriented_kendall(corr: pd.DataFrame, higher_is_better: dict[str, bool]) -> pd.DataFrame:
    """Kendall tau of each score and data set in the score's direction: the sign of a score
    where lower is better is flipped (its interval with it), so that larger is better for
    every score. ``kendall_raw`` keeps the correlation of the values themselves."""
    columns = ["score", "dataset", "kendall", "kendall_low", "kendall_high", "kendall_raw",
               "n", "n_nonfinite"]
    if corr.empty:
        return pd.DataFrame(columns=columns)
    rows = corr[(corr["method"] == METHOD) & (corr["target"] == TARGET)
                & (corr["policy"] == POLICY) & (corr["subset"] == SUBSET)]
    rows = rows[rows["score"].isin(list(higher_is_better))]
    sign = np.where(rows["score"].map(higher_is_better).astype(bool), 1.0, -1.0)
    low, high = rows["ci_low"].to_numpy(dtype=float), rows["ci_high"].to_numpy(dtype=float)
    return pd.DataFrame({
        "score": rows["score"].to_numpy(), "dataset": rows["dataset"].to_numpy(),
        "kendall": sign * rows["value"].to_numpy(dtype=float),
        "kendall_low": np.where(sign > 0, low, -high),
        "kendall_high": np.where(sign > 0, high, -low),
        "kendall_raw": rows["value"].to_numpy(dtype=float),
        "n": rows["n"].to_numpy(dtype=int), "n_nonfinite": rows["n_nonfinite"].to_numpy(dtype=int),
    }, columns=columns)


def seconds_per_architecture(timing: pd.DataFrame) -> pd.DataFrame:
    """Median seconds per architecture of each score and data set, from the score's
    standalone timings where it has any, else from its fused ones (``seconds_mode`` says
    which; ``seconds_n`` is the number of architectures timed)."""
    columns = ["score", "dataset", "seconds", "seconds_mode", "seconds_n"]
    if timing.empty:
        return pd.DataFrame(columns=columns)
    preference = {m: i for i, m in enumerate(TIMING_MODES)}
    t = timing.assign(order=timing["mode"].map(preference).fillna(len(preference)))
    chosen = t.groupby("score")["order"].transform("min")
    t = t[t["order"] == chosen]
    return pd.DataFrame({"score": t["score"], "dataset": t["dataset"],
                         "seconds": t["seconds_median"].astype(float),
                         "seconds_mode": t["mode"], "seconds_n": t["n"].astype(int)},
                        columns=columns)


def best_of_n(best: pd.DataFrame, optimum: pd.DataFrame) -> pd.DataFrame:
    """Test accuracy of each score's top-scored architecture of a sample (mean and std over
    the draws), the benchmark's best and the gap between them, in points."""
    columns = ["score", "dataset", "best_test_mean", "best_test_std", "optimum_test",
               "best_gap", "best_runs", "best_sample_size", "best_pool_size"]
    if best.empty:
        return pd.DataFrame(columns=columns)
    top = (optimum.set_index("dataset")["best_test_acc"] if not optimum.empty
           else pd.Series(dtype=float))
    out = pd.DataFrame({
        "score": best["score"], "dataset": best["dataset"],
        "best_test_mean": best["test_mean"].astype(float),
        "best_test_std": best["test_std"].astype(float),
        "optimum_test": best["dataset"].map(top).astype(float),
        "best_runs": best["runs"].astype(int), "best_sample_size": best["sample_size"].astype(int),
        "best_pool_size": best["pool_size"].astype(int)})
    out["best_gap"] = out["optimum_test"] - out["best_test_mean"]
    return out[columns]


def ranking(kendall: pd.DataFrame, scores: Iterable[str]) -> pd.DataFrame:
    """Each score's sort key (:data:`SORT_DESCRIPTION`) and rank: 1 is the highest key, a
    score without any Kendall tau comes last, ties in name order."""
    key = (kendall.dropna(subset=["kendall"]).groupby("score")["kendall"].mean()
           .reindex(sorted(set(scores))))
    order = sorted(key.index, key=lambda s: (not np.isfinite(key[s]), -np.nan_to_num(key[s]), s))
    return pd.DataFrame({"score": order, SORT_KEY: key.reindex(order).to_numpy(dtype=float),
                         "rank": np.arange(1, len(order) + 1)})


def _scores_of(tables: dict[str, pd.DataFrame], name: str) -> set[str]:
    table = tables.get(name, pd.DataFrame())
    return set() if table.empty else set(table["score"])


def comparison_table(tables: dict[str, pd.DataFrame], datasets: list[str],
                     highlight: Iterable[str] = ()) -> pd.DataFrame:
    """Every score of the run (scored, or combined by the statistics) on every data set of
    ``datasets`` (:data:`COLUMNS`), ranked, the scores of ``highlight`` marked; numbers a score lacks on a data set (too
    few finite values, no timing) are NaN, never left out."""
    specs = tables.get("score_specs", pd.DataFrame())
    if specs.empty:
        return pd.DataFrame(columns=list(COLUMNS))
    # the run's scores and the combinations the statistics formed (a configured rank
    # combination whose members were not scored is no score of this run)
    present = {*_scores_of(tables, "nonfinite"), *_scores_of(tables, "correlations")}
    specs = specs[specs["score"].isin(present)].drop_duplicates("score").set_index("score")
    direction = specs["higher_is_better"].astype(bool).to_dict()
    kendall = oriented_kendall(tables.get("correlations", pd.DataFrame()), direction)
    ranks = ranking(kendall, specs.index)
    grid = pd.DataFrame([(s, d) for s in ranks["score"] for d in datasets],
                        columns=["score", "dataset"])
    table = (grid.merge(ranks, on="score")
             .merge(kendall, on=["score", "dataset"], how="left")
             .merge(best_of_n(tables.get("best_retrieved", pd.DataFrame()),
                              tables.get("benchmark_best", pd.DataFrame())),
                    on=["score", "dataset"], how="left")
             .merge(seconds_per_architecture(tables.get("timing", pd.DataFrame())),
                    on=["score", "dataset"], how="left"))
    table["highlighted"] = table["score"].isin(set(highlight))
    table["family"] = table["score"].map(specs["family"]).fillna("")
    table["source"] = table["score"].map(specs["paper"]).fillna("")
    table["higher_is_better"] = table["score"].map(direction)
    order = {d: i for i, d in enumerate(datasets)}
    table = table.sort_values(["rank", "dataset"], key=lambda c: c.map(order)
                              if c.name == "dataset" else c, kind="stable")
    for count in COUNTS:  # counts stay integers where a score lacks them (NA, not NaN)
        table[count] = table[count].astype("Int64")
    return table[list(COLUMNS)].reset_index(drop=True)


def highlight_notes(table: pd.DataFrame, highlight: Iterable[str]) -> list[str]:
    """A note for every highlighted name that is not a score of the comparison."""
    scored = set(table["score"])
    return [f"stats.highlight: {name} is not a score of this run; nothing is highlighted "
            "for it" for name in highlight if name not in scored]
