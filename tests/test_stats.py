"""Statistics: hand-computed cases, scipy agreement, brute force, and a run on real data.

``real_scores_table`` builds a real merged scores table from the shared benchmark mirror:
the registry proxies ``params`` (official parameter counts) and ``flops`` (analytic count
from zeroshot_nas.spaces, when that module is present) as scores, with the real 200-epoch
test and validation accuracies. Other test files of this project import it from here.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import MIRROR, WHERE
from scipy import stats as sps

from zeroshot_nas.stats import analysis, core, names
from zeroshot_nas.stats.bootstrap import bootstrap_correlation, rank_correlation_rows

REPO_ROOT = Path(__file__).resolve().parents[1]
NATS_CSV = MIRROR / "v-tao/nats-bench-landscape/b307ae5fe6e8d7043cd4fe7d1c3532288271adb7/nats_bench.csv"
FREEREA = MIRROR / "NiccoloCavagnero/FreeREA/9c2a726cd3adf526c43ae52a515a8fc5ea927fe7/cached_metrics/nats"
RB = MIRROR / "OEmiliatanO/Rank-Based-NAS/b5244d68b81fdf0317aeb08c9762b3536819b106/results/score"
VALID_NPY = {
    "cifar10": RB / "cifar10-valid/all_score_accs_nasbench201_cifar10-valid_True.npy",
    "cifar100": RB / "cifar100/all_score_accs_nasbench201_cifar100_True.npy",
    "ImageNet16-120": RB / "ImageNet16-120/all_score_accs_nasbench201_ImageNet16-120_True.npy",
}
TEST_COL = {"cifar10": "CIFAR10TestAccuracy200Epochs", "cifar100": "CIFAR100TestAccuracy200Epochs",
            "ImageNet16-120": "ImageNetTestAccuracy200Epochs"}
# Directions and bounds given explicitly so these tests do not depend on the registry.
INFOS = {
    "params": analysis.ScoreInfo("params", True, False, "baseline", "test"),
    "flops": analysis.ScoreInfo("flops", True, False, "baseline", "test"),
    "js": analysis.ScoreInfo("js", True, True, "jacobian", "test"),
    "cond": analysis.ScoreInfo("cond", False, False, "ntk", "test"),
}


def explicit_info(name: str) -> analysis.ScoreInfo:
    return INFOS[name]


def real_benchmark(n_archs: int | None = None, seed: int = 0) -> pd.DataFrame:
    """Real (arch, dataset) benchmark rows; a seeded sample of ``n_archs`` when given."""
    if not NATS_CSV.exists():
        pytest.skip(f"real benchmark data not found at {MIRROR} ({WHERE})")
    nats = pd.read_csv(NATS_CSV)
    idx = np.arange(len(nats))
    if n_archs is not None:
        idx = np.sort(np.random.default_rng(seed).choice(len(nats), n_archs, replace=False))
    frames = []
    for dataset, col in TEST_COL.items():
        params = pd.read_csv(FREEREA / dataset / "params.csv")["params"].to_numpy(dtype=float)
        if dataset == "ImageNet16-120":
            params = params / 1e6  # raw counts in this file (README of the mirror)
        frames.append(pd.DataFrame({
            "index": idx,
            "arch": nats["ArchitectureString"].to_numpy()[idx],
            "dataset": dataset,
            "test_acc": nats[col].to_numpy(dtype=float)[idx],
            "valid_acc": np.load(VALID_NPY[dataset])[idx],
            "params_m": params[idx],
        }))
    return pd.concat(frames, ignore_index=True)


def real_scores_table(n_archs: int | None = 300, seed: int = 0) -> pd.DataFrame:
    """Long merged scores table with real proxies params (and flops when available)."""
    bench = real_benchmark(n_archs, seed)
    scores = [bench.assign(score="params", value=bench["params_m"])]
    try:
        from zeroshot_nas.spaces import flops_m
    except ImportError:
        flops_m = None
    if flops_m is not None:
        flops = [flops_m("nb201", a, d) for a, d in zip(bench["arch"], bench["dataset"],
                                                      strict=True)]
        scores.append(bench.assign(score="flops", value=flops))
    long = pd.concat(scores, ignore_index=True)
    long["seed"] = 0
    long["status"] = "ok"
    long["seconds"] = 0.001
    long["mode"] = "fused"
    long["space"] = "nb201"
    return long


# ------------------------------------------------------------------ monotonicity
def brute_concordance(x, y) -> int:
    n = len(x)
    return int(sum(np.sign((x[i] - x[j]) * (y[i] - y[j])) for i in range(n) for j in range(i)))


def test_monotonicity_hand_computed():
    # pairs: (1,2)+ (1,3)+ (2,3)- -> |1| / 3
    assert core.monotonicity([1, 2, 3], [1, 3, 2]) == pytest.approx(1 / 3)
    assert core.monotonicity([1, 2, 3, 4], [4, 3, 2, 1]) == 1.0
    assert core.monotonicity([1, 2, 3, 4], np.exp([1, 2, 3, 4])) == 1.0
    # ties count 0: x tied pair and y tied pair contribute nothing; 6 pairs, +1 from (1,3)...
    x, y = [1, 1, 2, 3], [5, 6, 6, 7]
    assert core.concordance_sum(x, y) == brute_concordance(x, y) == 4
    assert core.monotonicity(x, y) == pytest.approx(4 / 6)


def test_monotonicity_equals_brute_force_and_tau_a():
    rng = np.random.default_rng(0)
    for trial in range(200):
        n = int(rng.integers(2, 30))
        x = rng.integers(0, 4, n).astype(float) if trial % 2 else rng.normal(size=n)
        y = rng.integers(0, 5, n).astype(float)
        brute = brute_concordance(x, y)
        assert core.concordance_sum(x, y) == brute
        assert core.monotonicity(x, y) == pytest.approx(abs(brute) / (n * (n - 1) / 2))


def test_monotonicity_fast_on_full_space():
    rng = np.random.default_rng(1)
    x = rng.normal(size=15_625)
    y = x + rng.normal(size=15_625)
    start = time.perf_counter()
    m = core.monotonicity(x, y)
    assert time.perf_counter() - start < 2.0
    # no ties: equals |tau-b| from scipy
    assert m == pytest.approx(abs(sps.kendalltau(x, y).statistic), abs=1e-12)


def test_monotonicity_rejects_bad_input():
    with pytest.raises(ValueError, match="at least 2"):
        core.monotonicity([1.0], [2.0])
    with pytest.raises(ValueError, match="finite"):
        core.monotonicity([1.0, np.nan], [2.0, 3.0])
    with pytest.raises(ValueError, match="equal length"):
        core.monotonicity([1.0, 2.0], [2.0])


# ------------------------------------------------------------------ correlations
def test_rank_correlation_rows_equal_scipy():
    rng = np.random.default_rng(2)
    for n in (5, 40, 450):  # 450 uses the per-resample scipy path
        a = rng.integers(0, 6, size=(4, n)).astype(float)
        b = a + rng.integers(0, 3, size=(4, n))
        kt = rank_correlation_rows(a, b, "kendall")
        sr = rank_correlation_rows(a, b, "spearman")
        for r in range(4):
            assert kt[r] == pytest.approx(sps.kendalltau(a[r], b[r]).statistic, abs=1e-12)
            assert sr[r] == pytest.approx(sps.spearmanr(a[r], b[r]).statistic, abs=1e-12)


@pytest.mark.parametrize("method", ["kendall", "spearman"])
def test_bootstrap_ci_equals_scipy_bootstrap(method):
    rng = np.random.default_rng(3)
    x = rng.normal(size=50)
    y = x + rng.normal(size=50)
    x[:6] = 0.0  # ties
    fn = {"kendall": lambda a, b: sps.kendalltau(a, b).statistic,
          "spearman": lambda a, b: sps.spearmanr(a, b).statistic}[method]
    ref = sps.bootstrap((x, y), fn, paired=True, vectorized=False, n_resamples=500,
                        method="percentile", rng=np.random.default_rng(7))
    stat, lo, hi = bootstrap_correlation(x, y, method, n_resamples=500, seed=7)
    assert stat == pytest.approx(fn(x, y))
    assert lo == pytest.approx(ref.confidence_interval.low, abs=1e-12)
    assert hi == pytest.approx(ref.confidence_interval.high, abs=1e-12)
    assert lo < stat < hi


def test_correlation_degenerate_cases():
    assert np.isnan(bootstrap_correlation([1, 1, 1], [1, 2, 3], "kendall")[0])
    stat, lo, hi = bootstrap_correlation([1, 2, 3, 4], [1, 2, 3, 4], "spearman", n_resamples=0)
    assert stat == 1.0 and np.isnan(lo) and np.isnan(hi)
    with pytest.raises(ValueError, match="unknown correlation method"):
        bootstrap_correlation([1, 2, 3], [1, 2, 3], "pearson")


# ------------------------------------------------------------------ non-finite policies
def test_nonfinite_policies():
    v = np.array([3.0, np.nan, 1.0, np.inf, -np.inf, 2.0])
    kept = core.apply_nonfinite_policy(v, True, "kept_worst")
    assert kept.n_nonfinite == 3 and kept.keep.all()
    assert np.all(kept.values[[1, 3, 4]] < 1.0)  # below every finite value
    assert len(set(kept.values[[1, 3, 4]])) == 1  # tied among themselves
    low = core.apply_nonfinite_policy(v, False, "kept_worst")
    assert np.all(low.values[[1, 3, 4]] > 3.0)  # worst = largest when lower is better
    dropped = core.apply_nonfinite_policy(v, True, "dropped")
    assert list(dropped.values) == [3.0, 1.0, 2.0] and dropped.n_nonfinite == 3
    with pytest.raises(ValueError, match="unknown non-finite policy"):
        core.apply_nonfinite_policy(v, True, "zero")


def test_better_half_mask_follows_direction():
    v = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    assert list(core.better_half_mask(v, True)) == [False, False, False, True, True]
    assert list(core.better_half_mask(v, False)) == [True, True, False, False, False]


# ------------------------------------------------------------------ slopes
def test_slope_transforms_and_regression():
    x, name = core.slope_transform(np.array([0.0, 0.5, 1.0 - np.exp(-2)]), True)
    assert name == "log(1-score)"
    np.testing.assert_allclose(x, [0.0, np.log(0.5), -2.0])
    x1, _ = core.slope_transform(np.array([0.5, 1.0]), True)
    assert np.isnan(x1[1])  # log(0) is not a point of the regression
    z, name = core.slope_transform(np.array([1.0, 2.0, 3.0]), False)
    assert name == "standardised score"
    np.testing.assert_allclose(z, [-np.sqrt(1.5), 0.0, np.sqrt(1.5)])
    fit = core.linear_slope(np.array([0.0, 1.0, 2.0, 3.0]), np.array([1.0, 3.0, 5.0, 7.0]))
    assert fit["slope"] == pytest.approx(2.0) and fit["intercept"] == pytest.approx(1.0)


# ------------------------------------------------------------------ best retrieved
def test_best_retrieved_hand_computed():
    score = np.array([0.1, 0.9, 0.5, np.nan])
    test = np.array([50.0, 70.0, 90.0, 95.0])
    valid = test - 1
    runs = core.best_retrieved_runs(score, test, valid, True, runs=3, sample_size=4, seed=0)
    # whole pool each run: top score is arch 1 (70); best arch (95) has NaN -> rank 4 of 4
    assert list(runs["test_acc"]) == [70.0, 70.0, 70.0]
    assert list(runs["valid_acc"]) == [69.0, 69.0, 69.0]
    assert list(runs["percentile_of_best"]) == [100.0, 100.0, 100.0]
    low = core.best_retrieved_runs(-score, test, valid, False, runs=1, sample_size=4, seed=0)
    assert low["test_acc"].iloc[0] == 70.0  # same ranking when the direction flips
    a = core.best_retrieved_runs(score, test, valid, True, runs=5, sample_size=2, seed=9)
    b = core.best_retrieved_runs(score, test, valid, True, runs=5, sample_size=2, seed=9)
    pd.testing.assert_frame_equal(a, b)


# ------------------------------------------------------------------ rank combination
def test_rank_combination_hand_computed():
    df = pd.DataFrame({"a": [3.0, 1.0, 2.0], "b": [10.0, 30.0, np.nan]})
    # a (higher better): ranks 1,3,2 ; b (lower better): 10->1, 30->2, NaN->3
    got = core.rank_combination(df, {"a": True, "b": False})
    assert list(got) == [2.0, 5.0, 5.0]
    with pytest.raises(ValueError, match="no direction"):
        core.rank_combination(df, {"a": True})


# ------------------------------------------------------------------ table level
def test_compute_stats_on_real_benchmark(tmp_path):
    df = real_scores_table(300)
    cfg = analysis.StatsConfig(bootstrap=200, best_of_n=100, best_of_runs=5,
                               rank_combination=("params", "flops") if "flops" in
                               set(df["score"]) else ("params",), info=explicit_info)
    tables, summary = analysis.compute_stats(df, cfg)
    analysis.write_stats(tables, summary, tmp_path)
    back, summary2 = analysis.read_stats(tmp_path)
    assert summary2["datasets"] == ["cifar10", "cifar100", "ImageNet16-120"]
    corr = back["correlations"]
    row = corr[(corr.score == "params") & (corr.dataset == "cifar10") & (corr.subset == "all")
               & (corr.policy == "dropped") & (corr.method == "kendall")
               & (corr.target == "test_acc")].iloc[0]
    sub = df[(df.score == "params") & (df.dataset == "cifar10")]
    assert row["value"] == pytest.approx(sps.kendalltau(sub["value"], sub["test_acc"]).statistic)
    assert row["ci_low"] < row["value"] < row["ci_high"] and row["n"] == 300
    mono = back["monotonicity"]
    m = mono[(mono.score == "params") & (mono.dataset == "cifar10") & (mono.subset == "all")
             & (mono.policy == "dropped")]["monotonicity"].iloc[0]
    assert m == pytest.approx(core.monotonicity(sub["value"].to_numpy(), sub["test_acc"].to_numpy()))
    above = mono[(mono.score == "params") & (mono.subset == "above_median")]
    assert (above["n"] <= 150).all()
    slopes = back["slopes"]
    assert set(slopes["transform"]) == {"standardised score"}
    best = back["best_retrieved"]
    assert len(best) == len(summary["scores"]) * 3 + (3 if "rank_combination" in set(best.score) else 0)
    assert best["test_mean"].between(0, 100).all()
    bb = back["benchmark_best"].set_index("dataset")
    assert bb.loc["cifar10", "best_test_acc"] == sub["test_acc"].max()
    assert np.isfinite(corr["value"]).all()
    assert json.loads((tmp_path / "summary.json").read_text())["bootstrap"] == 200


def test_compute_stats_counts_nonfinite_and_notes():
    df = real_scores_table(40)
    df = df[df.score == "params"].copy()
    bad = df.index[:5]
    df.loc[bad, "value"] = np.nan
    df.loc[bad, "status"] = "nan"
    cfg = analysis.StatsConfig(bootstrap=0, best_of_n=10, best_of_runs=2,
                               rank_combination=("params", "missing"), info=explicit_info)
    tables, summary = analysis.compute_stats(df, cfg)
    nf = tables["nonfinite"]
    assert nf["nan"].sum() == 5
    corr = tables["correlations"]
    c10 = corr[(corr.dataset == "cifar10") & (corr.subset == "all")]
    assert set(c10.loc[c10.policy == "kept_worst", "n"]) == {40}
    assert set(c10.loc[c10.policy == "dropped", "n"]) == {35}
    assert set(corr.loc[(corr.dataset == "cifar100") & (corr.subset == "all"), "n"]) == {40}
    assert any("rank_combination skipped" in n and "missing" in n for n in summary["notes"])


def test_load_scores_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="scores table not found"):
        analysis.load_scores(tmp_path / "nope.parquet")
    pd.DataFrame({"arch": ["a"]}).to_parquet(tmp_path / "bad.parquet")
    with pytest.raises(ValueError, match="lacks column"):
        analysis.load_scores(tmp_path / "bad.parquet")


def test_compute_stats_without_accuracies_says_so():
    df = real_scores_table(20)
    df = df[df.score == "params"].assign(test_acc=np.nan, valid_acc=np.nan)
    cfg = analysis.StatsConfig(bootstrap=0, best_of_n=5, best_of_runs=1, rank_combination=(),
                               info=explicit_info)
    tables, summary = analysis.compute_stats(df, cfg)
    assert tables["correlations"].empty and tables["best_retrieved"].empty
    assert len(tables["nonfinite"]) == 3
    assert sum("no score-quality statistics" in n for n in summary["notes"]) == 3


def test_captions_count_runs_in_the_singular_and_plural():
    assert names.counted(1, "run") == "1 run"
    assert names.counted(5, "run") == "5 runs"
