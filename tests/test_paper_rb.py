"""The RB section and the protocol section from a two-seed run: RB Table 1 of the values the
seed aggregation ranks (NTK twice, values outside our interval marked), the per-seed spread,
the check against FreeREA's real per-architecture files, REINFORCE and BOHB beside the
printed RL and BOHB rows, the seeds and the path rule stated; and what a one-seed run
without those says instead."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from test_freerea_scores import files, ours_from, theirs  # noqa: F401 - real FreeREA files
from test_search import bench  # noqa: F401 - the real benchmark table
from test_stats import real_benchmark, real_scores_table

from zeroshot_nas import cli
from zeroshot_nas.paper import assemble
from zeroshot_nas.search.runner import SearchSettings, run_search
from zeroshot_nas.search.tables import write_tables
from zeroshot_nas.spaces import nb201
from zeroshot_nas.stats import analysis

DAGGER = r"$^{\dagger}$"


def two_seed_scores(theirs: pd.DataFrame) -> pd.DataFrame:  # noqa: F811
    """CIFAR-10, 60 real architectures with their real accuracies, two seeds: naswot,
    logsynflow and synflow monotone in FreeREA's values (as tests/test_freerea_scores.py);
    snip = accuracy + e on seed 0 and − e on seed 1 (so the seeds' mean is the accuracy);
    ntk_rb = −accuracy, scaled per seed."""
    acc = real_benchmark().query("dataset == 'cifar10'").set_index("arch")
    ours = ours_from(theirs, 60)
    archs = ours["arch"].unique()
    a = acc.loc[archs, "test_acc"].to_numpy()
    e = np.random.default_rng(0).normal(0.0, 10.0, len(archs))
    made = [pd.DataFrame({"arch": archs, "dataset": "cifar10", "seed": s, "score": score,
                          "value": value, "status": "ok"})
            for s in (0, 1) for score, value in (("snip", a + (1 - 2 * s) * e),
                                                 ("ntk_rb", -a * (1 + 0.01 * s)))]
    df = pd.concat([ours.drop(columns=["test_acc", "valid_acc"]), *made], ignore_index=True)
    return df.assign(test_acc=df["arch"].map(acc["test_acc"]),
                     valid_acc=df["arch"].map(acc["valid_acc"]), space="nb201", mode="fused",
                     seconds=0.01)


@pytest.fixture(scope="module")
def run(theirs, bench, tmp_path_factory) -> tuple[Path, pd.DataFrame, pd.DataFrame]:  # noqa: F811
    """Statistics of the two-seed run (architectures without a path dropped, FreeREA's
    files compared), REINFORCE and BOHB searches on the real benchmark, the document's
    generated folder."""
    root = tmp_path_factory.mktemp("rb")
    scores = two_seed_scores(theirs)
    cfg = analysis.StatsConfig(bootstrap=50, best_of_n=10, best_of_runs=2,
                               rank_combination=("naswot", "logsynflow"), require_path=True)
    tables, summary = analysis.compute_stats(scores, cfg, benchmark=real_benchmark(),
                                             freerea=theirs)
    analysis.write_stats(tables, summary, root / "stats")
    runs = pd.concat([run_search(algorithm, space="nb201", dataset="cifar10", runs=2, seed=0,
                                 benchmark=bench,
                                 settings=SearchSettings(train_seconds=3000.0))
                      for algorithm in ("reinforce", "bohb")], ignore_index=True)
    write_tables(runs, root / "search", {"nb201": bench, "nats_sss": None})
    assemble.write_paper_tables(root / "stats", root / "generated", search_dir=root / "search")
    return root / "generated", scores, runs


def test_rb_table1_is_the_aggregated_seeds_with_ntk_twice(run):
    gen, scores, _ = run
    table = pd.read_csv(gen / "rank_based_table1.csv").set_index(["score", "dataset"])
    kept = scores[scores["arch"].map(nb201.has_path)]
    snip = kept[kept["score"] == "snip"].pivot(index="arch", columns="seed", values="value")
    acc = kept.groupby("arch")["test_acc"].first().loc[snip.index]
    mean = sps.kendalltau(snip.mean(axis=1), acc).statistic
    alone = [sps.kendalltau(snip[s], acc).statistic for s in (0, 1)]
    row = table.loc[("snip", "cifar10")]
    # ours is the Kendall tau of the seeds' mean, not of either seed
    assert row["kendall"] == pytest.approx(mean) and mean > 0.99 > max(alone)
    assert row["n_seeds"] == 2 and row["n"] == len(snip)
    assert row["kendall_outside"] and row["kendall_diff"] == pytest.approx(mean - 0.45)
    ntk_rb = table.loc[("ntk_rb", "cifar10")]
    assert ntk_rb["kendall_paper"] == -0.33 and ntk_rb["kendall"] == pytest.approx(-1.0)
    tex = (gen / "rank_based_table1.tex").read_text(encoding="utf-8")
    assert re.search(r"^Snip & .* & 0\.45 & \+0\.\d\d\$\^\{\\dagger\}\$", tex, re.M)
    assert re.search(r"^NTK \(RB code\) & -1\.00 .* & -0\.33 & ", tex, re.M)
    assert "the mean of its 2 initialisations (seeds 0, 1), then ranked" in tex
    assert "NTK (RB code) is the rank-based authors' code" in tex
    spread = pd.read_csv(gen / "rank_based_seed_spread.csv").set_index(["score", "method"])
    snip_spread = spread.loc[("snip", "kendall")]
    assert snip_spread["aggregated"] == pytest.approx(mean)
    assert (snip_spread["seed_min"], snip_spread["seed_max"]) == pytest.approx(
        (min(alone), max(alone)))
    assert "How far the initialisations disagree" in (gen / "section_rb.tex").read_text()


def sample_stats(scores: pd.DataFrame, folder: Path, n: int, seeds: int,
                 extra: tuple[str, ...] = ()) -> Path:
    """Statistics of a sample experiment: grasp (and ``extra``) = test accuracy +
    seed-dependent noise on the first ``n`` architectures with a path, and snip (which the
    report has too) reversed."""
    archs = scores.loc[scores["arch"].map(nb201.has_path), "arch"].unique()[:n]
    base = scores[scores["arch"].isin(archs) & (scores["score"] == "snip")
                  & (scores["seed"] == 0)]
    noise = np.random.default_rng(n).normal(0.0, 1.0, (seeds, len(base)))
    made = [base.assign(score=score, seed=s, value=value)
            for s in range(seeds)
            for score, value in (*((name, base["test_acc"].to_numpy() + noise[s])
                                   for name in ("grasp", *extra)),
                                 ("snip", -base["test_acc"].to_numpy()))]
    tables, summary = analysis.compute_stats(
        pd.concat(made, ignore_index=True),
        analysis.StatsConfig(bootstrap=50, best_of_n=10, best_of_runs=2, rank_combination=()))
    analysis.write_stats(tables, summary, folder)
    return folder


def test_rows_the_report_lacks_come_from_the_runs_samples(run, tmp_path):
    gen, scores, _ = run
    samples = {"rb-sample": sample_stats(scores, tmp_path / "three", 30, 3),
               "rb-ntk": sample_stats(scores, tmp_path / "one", 40, 1, extra=("fisher",))}
    out = tmp_path / "generated"
    assemble.write_paper_tables(gen.parent / "stats", out, sample_stats=samples)
    table = pd.read_csv(out / "rank_based_table1.csv").set_index(["score", "dataset"])
    expected = pd.read_csv(tmp_path / "three" / "correlations.csv").query(
        "score == 'grasp' and method == 'kendall' and policy == 'kept_worst' "
        "and target == 'test_acc' and subset == 'all'").iloc[0]
    grasp = table.loc[("grasp", "cifar10")]
    # the sample with the most initialisations, not the one with the most architectures
    assert grasp["source"] == "rb-sample" and (grasp["n"], grasp["n_seeds"]) == (30, 3)
    assert grasp["kendall"] == pytest.approx(expected["value"]) and grasp["kendall"] > 0.5
    assert grasp["kendall_diff"] == pytest.approx(expected["value"] - 0.28)
    # a score the report has stays the report's (snip is reversed in both samples)
    snip = table.loc[("snip", "cifar10")]
    assert pd.isna(snip["source"]) and snip["kendall"] > 0.99
    fisher = table.loc[("fisher", "cifar10")]  # in the one-seed sample only
    assert fisher["source"] == "rb-ntk" and (fisher["n"], fisher["n_seeds"]) == (40, 1)
    tex = (out / "rank_based_table1.tex").read_text(encoding="utf-8")
    # marks in the table's order: Fisher's row comes before Grasp's
    assert re.search(r"^Fisher\$\^\{1\}\$ & ", tex, re.M)
    assert re.search(r"^Grasp\$\^\{2\}\$ & " + f"{grasp['kendall']:.2f}", tex, re.M)
    assert ("$^{1}$ from experiment rb-ntk (40 architectures, one initialisation), which the "
            "report experiment does not score; $^{2}$ from experiment rb-sample (30 "
            "architectures, the mean of 3 initialisations)") in tex
    # the three-seed sample's spread beside the report's; the one-seed sample has none
    spread = pd.read_csv(out / "rank_based_seed_spread.csv")
    grasp_spread = spread[(spread["score"] == "grasp") & (spread["method"] == "kendall")]
    assert grasp_spread["source"].tolist() == ["rb-sample"]
    assert grasp_spread["aggregated"].iloc[0] == pytest.approx(grasp["kendall"])
    assert grasp_spread["n_seeds"].iloc[0] == 3 and "fisher" not in set(spread["score"])
    assert set(spread.loc[spread["score"] == "snip", "source"].fillna("")) == {""}
    assert re.search(r"^Grasp \(rb-sample\) & ", (out / "rank_based_seed_spread.tex").read_text(),
                     re.M)
    # without samples the row is absent, as before
    alone = pd.read_csv(gen / "rank_based_table1.csv").set_index(["score", "dataset"])
    assert pd.isna(alone.loc[("grasp", "cifar10"), "n"])


def test_protocol_states_the_seeds_and_the_path_rule(run):
    gen, scores, _ = run
    cut = scores.loc[~scores["arch"].map(nb201.has_path), "arch"].nunique()
    assert cut >= 1  # the 60 first NB201 networks hold cells cut off from their input
    protocol = pd.read_csv(gen / "protocol.csv").set_index("setting")["value"]
    seeds = protocol["Seeds per architecture"]
    assert seeds.startswith("Every score of an architecture is the mean of its 2 "
                            "initialisations (seeds 0, 1), then ranked (mean: each score "
                            "averaged over the run's seeds")
    assert seeds.endswith("seeds per data set: CIFAR-10: 2")
    paths = protocol["Architectures without a path from input to output"]
    assert paths.startswith("Dropped before every statistic") and paths.endswith(
        f"CIFAR-10: {cut}")
    section = (gen / "section_protocol.tex").read_text(encoding="utf-8")
    assert "every score of an architecture is the mean of its 2 initialisations" in section
    assert "are dropped before every statistic" in section
    rb = (gen / "section_rb.tex").read_text(encoding="utf-8")
    assert f"This run drops them too (stats.require\\_path): CIFAR-10: {cut}." in rb


def test_freerea_agreement_table(run):
    gen, _, _ = run
    check = pd.read_csv(gen / "rank_based_freerea.csv").set_index("freerea_metric")
    assert list(check.index) == ["naswot", "synflow", "logsynflow", "nregions"]
    assert check.loc["naswot", "spearman"] == pytest.approx(1.0)
    assert check.loc["synflow", "spearman"] == pytest.approx(-1.0)
    tex = (gen / "rank_based_freerea.tex").read_text(encoding="utf-8")
    n = int(check.loc["naswot", "n_common"])
    assert f"naswot & naswot & 1.000 & 1.000 & {n} & " in tex
    assert "synflow & synflow & -1.000 & -1.000" in tex
    assert "the run did not score linear\\_regions on cifar10" in tex
    rb = (gen / "section_rb.tex").read_text(encoding="utf-8")
    assert r"\input{generated/rank_based_freerea.tex}" in rb
    assert "same formulas on this run's batch, images and initialisations" in rb


def test_freerea_files_against_accuracy_are_the_printed_table1(run, files):  # noqa: F811
    """FreeREA's own CIFAR-10 files ranked against test accuracy over all 15,625 networks
    (non-finite last): recomputed here from the raw files with scipy; naswot and synflow
    round to the printed RB Table 1 (0.61/0.79 and 0.57/0.77), dropping the networks
    without a path does not."""
    gen, _, _ = run
    table = pd.read_csv(gen / "rank_based_freerea_accuracy.csv").set_index("freerea_metric")
    assert list(table.index) == ["naswot", "synflow", "logsynflow", "nregions"]
    c10 = real_benchmark().query("dataset == 'cifar10'").sort_values("index")
    acc, path = c10["test_acc"].to_numpy(), c10["arch"].map(nb201.has_path).to_numpy()
    for metric in table.index:
        raw = pd.read_csv(files[f"freerea-cifar10-{metric}"])[metric].to_numpy(dtype=float)
        bad = ~np.isfinite(raw)
        ranked = np.where(bad, np.nanmin(raw[~bad]) - 1.0, raw)
        row = table.loc[metric]
        assert (row["n_all"], row["n_nonfinite_all"], row["n_path"]) == (
            15625, bad.sum(), path.sum())
        assert row["kendall_all"] == pytest.approx(sps.kendalltau(ranked, acc).statistic)
        assert row["spearman_path"] == pytest.approx(
            sps.spearmanr(ranked[path], acc[path]).statistic)
    assert table.loc["naswot", "n_nonfinite_all"] == 201  # their singular kernels
    for metric, (tau, rho) in (("naswot", (0.61, 0.79)), ("synflow", (0.57, 0.77))):
        row = table.loc[metric]
        assert (row["kendall_paper"], row["spearman_paper"]) == (tau, rho)
        assert abs(row["kendall_diff"]) < 0.005 and abs(row["spearman_diff"]) < 0.005
        assert abs(row["kendall_path"] - tau) > 0.005  # the path-only population is not it
    assert pd.isna(table.loc["nregions", "kendall_paper"])  # no printed row
    tex = (gen / "rank_based_freerea_accuracy.tex").read_text(encoding="utf-8")
    naswot = table.loc["naswot"]
    assert (f"naswot & {naswot['kendall_all']:.3f} & 0.61 & {naswot['kendall_diff']:+.3f} & "
            in tex)
    rb = (gen / "section_rb.tex").read_text(encoding="utf-8")
    assert r"\input{generated/rank_based_freerea_accuracy.tex}" in rb


def _cell(mean: float, std: float) -> str:
    return f"{mean:.2f} {{\\scriptsize$\\pm$ {std:.2f}}}"


def test_reinforce_and_bohb_beside_the_printed_rows_with_the_budget(run):
    gen, _, runs = run
    tex = (gen / "rank_based_searches.tex").read_text(encoding="utf-8")
    assert r"\textbf{RB Table 3}, NAS-Bench-201" in tex and "RB Table 2" not in tex
    for method, printed, (p_mean, p_std) in (("REINFORCE", "RL", (93.63, 0.36)),
                                             ("BOHB", "BOHB", (91.79, 1.11))):
        heading = method + ("" if method == printed else f" (printed as {printed})")
        assert f"{heading}: 2 run(s), budget CIFAR-10: 3000 s" in tex
        test = runs.loc[runs["method"] == method, "test_acc"]
        ours, diff = test.mean(), test.mean() - p_mean
        line = (f"CIFAR-10 & {_cell(ours, np.std(test, ddof=0))} & {_cell(p_mean, p_std)} & "
                f"{diff:+.2f}" + (DAGGER if abs(diff) > p_std else "") + " & ")
        assert line in tex, (line, tex)
    assert r"\input{generated/rank_based_searches.tex}" in (gen / "section_rb.tex").read_text()


def test_a_one_seed_run_says_what_it_lacks(tmp_path):
    real_scores_table(40).to_parquet(tmp_path / "scores.parquet")
    assert cli.main(["stats", "--scores", str(tmp_path / "scores.parquet"), "--out",
                     str(tmp_path / "stats"), "--bootstrap", "20", "--best-of-n", "10",
                     "--rank-combination", "params", "flops"]) == 0
    assemble.write_paper_tables(tmp_path / "stats", tmp_path / "generated")
    gen = tmp_path / "generated"
    rb = (gen / "section_rb.tex").read_text(encoding="utf-8")
    assert "the value of one initialisation (seed 0) in this run, so there is no spread" in rb
    assert "Not computed by this run (stats.freerea\\_check: false)" in rb
    assert "This run keeps them (stats.require\\_path: false; CIFAR-10: " in rb
    assert not (gen / "rank_based_seed_spread.tex").exists()
    assert not (gen / "rank_based_freerea.tex").exists()
    assert not (gen / "rank_based_searches.tex").exists()
    protocol = pd.read_csv(gen / "protocol.csv").set_index("setting")["value"]
    assert protocol["Seeds per architecture"] == ("Every score of an architecture is the "
                                                  "value of one initialisation (seed 0)")
    assert protocol["Architectures without a path from input to output"].startswith(
        "Kept and ranked with the others (stats.require_path: false); without a path: ")
