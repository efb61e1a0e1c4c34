"""Scores of several initialisations: the aggregation rules, the per-seed tables, and the
searches reading the same per-architecture values, on a tiny two-seed run computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from zeroshot_nas.search.evaluators import ScoreStore, seed_averaged_scorer
from zeroshot_nas.search.space import get_space
from zeroshot_nas.stats import analysis, crosscheck, seeds

INF = math.inf
ACC = [10.0, 20.0, 30.0, 40.0]
# Score a (higher is better): seed 0 swaps archs 1 and 2, seed 1 swaps archs 0 and 1; their
# mean [1.5, 2, 3.5, 5] orders the four archs exactly as their accuracy does.
A = {0: [1.0, 3.0, 2.0, 4.0], 1: [2.0, 1.0, 5.0, 6.0]}
# Score b (lower is better): perfectly anti-ordered; seed 1 has no value for arch 1.
B = {0: [4.0, 3.0, 2.0, 1.0], 1: [4.0, math.nan, 2.0, 1.0]}
INFOS = {"a": analysis.ScoreInfo("a", True, False), "b": analysis.ScoreInfo("b", False, False)}


def two_seed_table() -> pd.DataFrame:
    rows = []
    for score, values in (("a", A), ("b", B)):
        for seed, vals in values.items():
            for i, v in enumerate(vals):
                rows.append({"arch": f"arch{i}", "dataset": "cifar10", "seed": seed,
                             "score": score, "value": v, "status": "ok" if v == v else "nan",
                             "seconds": 1.0 + seed, "mode": "fused", "test_acc": ACC[i],
                             "valid_acc": ACC[i]})
    return pd.DataFrame(rows)


def stats_of(how: str) -> tuple[dict[str, pd.DataFrame], dict]:
    cfg = analysis.StatsConfig(bootstrap=0, best_of_n=4, best_of_runs=1,
                               rank_combination=("a", "b"), seed_aggregation=how,
                               info=INFOS.__getitem__)
    return analysis.compute_stats(two_seed_table(), cfg)


def kendall(tables: dict[str, pd.DataFrame], score: str, policy: str = "kept_worst") -> pd.Series:
    c = tables["correlations"]
    return c[(c.score == score) & (c.method == "kendall") & (c.target == "test_acc")
             & (c.policy == policy) & (c.subset == "all")].iloc[0]


def test_aggregation_rules_and_their_nonfinite_values():
    m = np.array([[1, 3], [1, INF], [INF, -INF], [math.nan, 2], [math.nan, math.nan]])
    np.testing.assert_array_equal(seeds.aggregate(m, "mean"), [2, INF, math.nan, math.nan,
                                                               math.nan])
    np.testing.assert_array_equal(seeds.aggregate(m, "mean_finite"), [2, 1, math.nan, 2,
                                                                      math.nan])
    np.testing.assert_array_equal(seeds.aggregate(m, "first"), [1, 1, INF, math.nan, math.nan])
    with pytest.raises(ValueError, match="unknown seed aggregation"):
        seeds.aggregate(m, "median")


def test_two_seed_statistics_by_hand():
    tables, summary = stats_of("mean")
    # a: each seed alone has 5 concordant and 1 discordant pair of 6 (τ = 2/3, ρ = 0.8);
    # the mean of the two seeds is in accuracy order (τ = 1).
    assert kendall(tables, "a")["value"] == pytest.approx(1.0)
    # b: seed 1's NaN makes arch 1's mean non-finite; kept worst (largest, b is lower-is-
    # better) it is concordant with arch 0 only: (1 − 5)/6. Dropped: 3 archs, τ = −1.
    row = kendall(tables, "b")
    assert row["value"] == pytest.approx(-4 / 6) and row["n_nonfinite"] == 1
    assert kendall(tables, "b", "dropped")["value"] == pytest.approx(-1.0)
    # rank combination of the means: a ranks [4, 3, 2, 1], b ranks [3, 4, 2, 1] (NaN last):
    # sums [7, 7, 4, 2]; τ-b = −5 / √(5·6) (one tie in the sums).
    assert kendall(tables, "rank_combination")["value"] == pytest.approx(-5 / math.sqrt(30))

    per_seed = tables["seed_correlations"].set_index(["score", "seed", "method"])["value"]
    assert per_seed["a", 0, "kendall"] == pytest.approx(2 / 3)
    assert per_seed["a", 1, "kendall"] == pytest.approx(2 / 3)
    assert per_seed["a", 0, "spearman"] == pytest.approx(0.8)  # 1 − 6·2/(4·15)
    assert per_seed["b", 0, "kendall"] == pytest.approx(-1.0)
    assert per_seed["b", 1, "kendall"] == pytest.approx(-4 / 6)  # its NaN kept worst
    spread = tables["seed_spread"].set_index(["score", "method"])
    a = spread.loc[("a", "kendall")]
    assert (a["aggregated"], a["seed_mean"], a["seed_std"]) == pytest.approx((1.0, 2 / 3, 0.0))
    # seeds 0 and 1 of a: 4 concordant, 2 discordant pairs between them
    assert a["between_seeds_kendall"] == pytest.approx(1 / 3)
    # std/|mean| per arch: √0.5/1.5, √2/2, √4.5/3.5, √2/5; median of the middle two
    rel = sorted([math.sqrt(0.5) / 1.5, math.sqrt(2) / 2, math.sqrt(4.5) / 3.5, math.sqrt(2) / 5])
    assert a["median_relative_std"] == pytest.approx((rel[1] + rel[2]) / 2)
    b = spread.loc[("b", "kendall")]
    assert (b["n_some_nonfinite"], b["n_all_nonfinite"], b["n_seeds"]) == (1, 0, 2)
    assert summary["seed_aggregation"]["rule"] == "mean" and summary["seeds"] == [0, 1]
    assert summary["seed_aggregation"]["applied"]
    assert "non-finite" in summary["seed_aggregation"]["description"]


def test_the_other_rules_change_the_statistics_as_stated():
    finite, _ = stats_of("mean_finite")
    # b's NaN is ignored: arch 1 keeps seed 0's 3, so b is perfectly anti-ordered
    assert kendall(finite, "b")["value"] == pytest.approx(-1.0)
    assert kendall(finite, "b")["n_nonfinite"] == 0
    first, summary = stats_of("first")
    assert kendall(first, "a")["value"] == pytest.approx(2 / 3)  # seed 0 alone
    assert summary["seed_aggregation"]["rule"] == "first"
    one_seed = two_seed_table().query("seed == 0")
    tables, summary = analysis.compute_stats(one_seed, analysis.StatsConfig(
        bootstrap=0, best_of_n=4, best_of_runs=1, rank_combination=(), info=INFOS.__getitem__))
    assert tables["seed_spread"].empty and not summary["seed_aggregation"]["applied"]


def test_collapsed_table_sums_seconds_and_keeps_one_row_per_score():
    one = seeds.collapse_seeds(two_seed_table(), "mean").set_index(["arch", "score"])
    assert len(one) == 8
    assert one.loc[("arch2", "a"), "value"] == 3.5 and one.loc[("arch2", "a"), "seconds"] == 3.0
    assert one.loc[("arch1", "b"), "status"] == "nan" and one.loc[("arch1", "b"), "n_seeds"] == 1


def test_searches_read_the_same_per_architecture_values():
    space = get_space("nb201")
    table = two_seed_table()
    table["arch"] = table["arch"].map({f"arch{i}": space.arch_at(i) for i in range(4)})
    store = ScoreStore(["a", "b"], table, space=space, dataset="cifar10", aggregation="mean")
    assert store.averaged and store.seeds == (0, 1) and store.seed is None
    values, seconds = store.get([space.arch_at(2)])[0]
    np.testing.assert_array_equal(values, [3.5, 2.0])
    np.testing.assert_array_equal(seconds, [3.0, 3.0])  # both initialisations paid for
    assert math.isnan(store.get([space.arch_at(1)])[0][0][1])
    first = ScoreStore(["a", "b"], table, space=space, dataset="cifar10", aggregation="first")
    assert first.seed == 0 and not first.averaged
    np.testing.assert_array_equal(first.get([space.arch_at(2)])[0][0], [2.0, 2.0])
    only = ScoreStore(["a"], table, space=space, dataset="cifar10", seed=1, aggregation="mean")
    assert only.get([space.arch_at(2)])[0][0][0] == 5.0
    with pytest.raises(ValueError, match="no scoring seed 7"):
        ScoreStore(["a"], table, space=space, dataset="cifar10", seeds=[0, 7], aggregation="mean")


def test_live_scores_of_several_seeds_are_combined_like_the_table():
    def fixed(values, seconds):
        return lambda archs: {x: (np.array(values), np.array(seconds)) for x in archs}

    live = seed_averaged_scorer([fixed([1.0, math.nan], [1.0, 1.0]),
                                 fixed([3.0, 2.0], [2.0, 2.0])], "mean")
    values, seconds = live(["x"])["x"]
    assert values[0] == 2.0 and math.isnan(values[1])
    np.testing.assert_array_equal(seconds, [3.0, 3.0])


def test_protocol_phrase_says_how_many_seeds_each_data_set_has_when_they_differ():
    from zeroshot_nas.paper.protocol import seeds_phrase

    summary = {"seeds": [0, 1, 2], "seed_aggregation": {
        "rule": "mean", "applied": True, "n_seeds": {"cifar10": 1, "ImageNet16-120": 3}}}
    assert seeds_phrase(summary) == ("the mean of its initialisations, as many as its data set "
                                     "has (CIFAR-10: 1; ImageNet16-120: 3; seeds 0, 1, 2)")
    summary["seed_aggregation"]["n_seeds"] = {"cifar10": 3, "ImageNet16-120": 3}
    assert seeds_phrase(summary) == "the mean of its 3 initialisations (seeds 0, 1, 2)"


def test_protocol_phrase_of_the_first_seed_claims_no_seed_number_when_counts_differ():
    from zeroshot_nas.paper.protocol import seeds_phrase

    # the summary counts each data set's seeds without listing them: a data set scored with
    # seeds 1 and 2 alone has no seed 0, so the phrase names no number then
    summary = {"seeds": [0, 1, 2], "seed_aggregation": {
        "rule": "first", "applied": True, "n_seeds": {"cifar10": 1, "ImageNet16-120": 2}}}
    assert seeds_phrase(summary) == ("the value of the lowest of its seeds alone (its data "
                                     "set's lowest seed; CIFAR-10: 1; ImageNet16-120: 2)")
    summary["seed_aggregation"]["n_seeds"] = {"cifar10": 3, "ImageNet16-120": 3}
    assert seeds_phrase(summary) == "the value of the lowest of its 3 seeds alone (seed 0)"


def test_each_data_set_is_averaged_over_its_own_seeds():
    """rb-cpu's layout: three initialisations on one data set, one on another
    (``dataset_seeds``). The one-seed data set keeps its values (a seed only the other data
    set has is not a missing initialisation), the other gets its means; the FreeREA check,
    which reads the collapsed table, compares both."""
    two = two_seed_table()
    mixed = pd.concat([two, two[two["seed"] == 0].assign(dataset="cifar100")],
                      ignore_index=True)
    both = seeds.collapse_seeds(mixed, "mean")
    by = both.set_index(["dataset", "arch", "score"])
    assert len(both) == 16
    assert by.loc[("cifar10", "arch2", "a"), "value"] == 3.5
    assert by.loc[("cifar100", "arch2", "a"), "value"] == 2.0  # seed 0's value, not NaN
    assert by.loc[("cifar100", "arch1", "b"), "status"] == "ok"
    assert (by.xs("cifar100")["n_seeds"] == 1).all()
    assert by.loc[("cifar10", "arch1", "b"), "n_seeds"] == 1
    first = seeds.collapse_seeds(mixed, "first")
    assert len(first) == 16 and set(first["seed"]) == {0}

    theirs = pd.DataFrame({"dataset": "cifar100", "metric": "naswot",
                           "arch": [f"arch{i}" for i in range(4)], "value": [1.0, 2.0, 3.0, 4.0]})
    renamed = mixed.replace({"score": {"a": "naswot"}})
    row = crosscheck.freerea_check(renamed, theirs, "mean").iloc[0]
    assert row["n_common"] == 4 and row["n_nonfinite_ours"] == 0
    assert row["spearman"] == pytest.approx(0.8)  # seed 0's [1, 3, 2, 4] against [1, 2, 3, 4]
