"""How every score compares (issue 23, item 3): a real tiny run (16 NAS-Bench-201
architectures scored on real CIFAR-10 and ImageNet16-120 images, with a new score, swap,
inside the rank combination and highlighted) through the ``stats`` command, the comparison
figure and the ``paper-tables`` command: the comparison table, its figure and the paper's
section; the configuration's ``stats.highlight`` checked against the registry."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from conftest import IMAGES, REPO_ROOT, tiny_config
from test_config import SCHEMA
from test_search import bench  # noqa: F401 - the real benchmark table fixture
from test_stats import real_benchmark

from zeroshot_nas import cli
from zeroshot_nas.config import ConfigError, validate_config
from zeroshot_nas.paper.build import build_repo_paper
from zeroshot_nas.plots import compare, figures
from zeroshot_nas.proxies import Protocol, get_spec
from zeroshot_nas.scoring import merge_scores, score_archs
from zeroshot_nas.search.runner import SearchSettings, run_search
from zeroshot_nas.stats import analysis, comparison

SCORES = ("params", "flops", "naswot", "synflow", "swap")
DATASETS = ("cifar10", "ImageNet16-120")
N_ARCHS = 16
TIMED = ("naswot", "swap")  # timed alone on the first three architectures (CIFAR-10)
COMBINED = ("naswot", "swap")  # the rank combination, with a score of issue 23 in it


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """Scores, standalone timings, statistics, figures and the paper's pieces of a real run."""
    root = tmp_path_factory.mktemp("compare")
    benchmark = real_benchmark(N_ARCHS, seed=3)
    benchmark = benchmark[benchmark["dataset"].isin(DATASETS)]
    benchmark.to_parquet(root / "benchmark.parquet")
    archs = sorted(benchmark["arch"].unique())
    shards = []
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # two threads spin on a shared machine, for no gain at batch 16
    try:
        for dataset in DATASETS:
            npz = IMAGES / f"{dataset}.npz"
            if not npz.exists():
                pytest.skip(f"real image sample not found at {npz}")
            shards.append(root / f"{dataset}.parquet")
            score_archs("nb201", dataset, 0, archs, list(SCORES), Protocol(batch_size=16), npz,
                        root / "cache", shards[-1], progress=False)
        score_archs("nb201", "cifar10", 0, archs[:3], list(TIMED), Protocol(batch_size=16),
                    IMAGES / "cifar10.npz", root / "cache-standalone", root / "timing.parquet",
                    mode="standalone", progress=False)
    finally:
        torch.set_num_threads(threads)
    merge_scores(shards, root / "benchmark.parquet", root / "scores.parquet")
    assert cli.main(["stats", "--scores", str(root / "scores.parquet"), "--out",
                     str(root / "stats"), "--timings", str(root / "timing.parquet"),
                     "--bootstrap", "200", "--best-of-n", "8", "--best-of-runs", "3",
                     "--rank-combination", *COMBINED, "--highlight", "swap"]) == 0
    # the comparison alone (the figures command draws every figure: tests/test_paper.py)
    stats, summary = analysis.read_stats(root / "stats")
    scores = analysis.load_scores(root / "scores.parquet")
    assert figures.compare_scores(stats, root / "figures", figures.run_protocol(scores),
                                  summary).made
    assert cli.main(["paper-tables", "--stats", str(root / "stats"), "--out",
                     str(root / "paper" / "generated"), "--figures", str(root / "figures")]) == 0
    return root


def _direction(score: str) -> bool:
    return False if score == analysis.RANK_COMBINATION else get_spec(score).higher_is_better


def test_the_table_ranks_every_score_by_its_mean_kendall(tiny_run):
    stats, summary = analysis.read_stats(tiny_run / "stats")
    table = stats["comparison"]
    every = {*SCORES, analysis.RANK_COMBINATION}
    assert set(table["score"]) == every and len(table) == len(every) * len(DATASETS)
    # the sort key, recomputed from the correlations table: Kendall with test accuracy, all
    # architectures, non-finite ranked last, in each score's direction, mean over data sets
    corr = stats["correlations"]
    corr = corr[(corr["method"] == "kendall") & (corr["target"] == "test_acc")
                & (corr["policy"] == "kept_worst") & (corr["subset"] == "all")]
    expected = {s: float(np.mean([v if _direction(s) else -v for v in
                                  corr.loc[corr["score"] == s, "value"]])) for s in every}
    ranked = table.drop_duplicates("score").sort_values("rank")
    assert list(ranked["rank"]) == list(range(1, len(every) + 1))
    np.testing.assert_allclose(ranked["mean_kendall"], [expected[s] for s in ranked["score"]],
                               rtol=1e-12)
    assert (np.diff(ranked["mean_kendall"].to_numpy()) <= 0).all()
    assert table.loc[table["highlighted"], "score"].unique().tolist() == ["swap"]
    assert summary["highlight"] == ["swap"] and summary["rank_combination"] == list(COMBINED)
    # the rank combination (a rank sum: lower is better) is compared in its direction
    combo = table[table["score"] == analysis.RANK_COMBINATION]
    assert combo["kendall"].notna().all()
    np.testing.assert_allclose(combo["kendall"], -combo["kendall_raw"])
    assert ((combo["kendall_low"] <= combo["kendall"])
            & (combo["kendall"] <= combo["kendall_high"])).all()
    # seconds: the standalone timings, where there are any
    timed = table.dropna(subset=["seconds"])
    assert set(timed["score"]) == set(TIMED) and set(timed["dataset"]) == {"cifar10"}
    assert (timed["seconds_mode"] == "standalone").all() and (timed["seconds_n"] == 3).all()
    # best of N: the statistics' best_retrieved, with its gap to the benchmark's best
    best = stats["best_retrieved"].set_index(["score", "dataset"])
    for r in table.itertuples():
        assert r.best_test_mean == best.loc[(r.score, r.dataset), "test_mean"]
        assert r.best_gap == pytest.approx(r.optimum_test - r.best_test_mean)


def test_lower_is_better_flips_the_sign_and_the_interval():
    corr = pd.DataFrame([{"score": "cond", "dataset": "cifar10", "method": "kendall",
                          "target": "test_acc", "policy": "kept_worst", "subset": "all",
                          "value": -0.4, "ci_low": -0.5, "ci_high": -0.3, "n": 50,
                          "n_nonfinite": 2}])
    out = comparison.oriented_kendall(corr, {"cond": False}).iloc[0]
    assert (out["kendall"], out["kendall_low"], out["kendall_high"]) == (0.4, 0.3, 0.5)
    assert out["kendall_raw"] == -0.4 and out["n_nonfinite"] == 2
    same = comparison.oriented_kendall(corr, {"cond": True}).iloc[0]
    assert (same["kendall"], same["kendall_low"], same["kendall_high"]) == (-0.4, -0.5, -0.3)


def test_seconds_come_from_standalone_timings_where_a_score_has_them():
    timing = pd.DataFrame({"score": ["a", "a", "a", "b"],
                           "dataset": ["cifar10", "cifar10", "cifar100", "cifar10"],
                           "mode": ["fused", "standalone", "fused", "fused"],
                           "n": [40, 2, 40, 40], "seconds_median": [0.5, 2.0, 0.4, 0.3]})
    out = comparison.seconds_per_architecture(timing).set_index(["score", "dataset"])
    # a has standalone timings: its fused ones are not mixed in, even on another data set
    assert out.loc[("a", "cifar10"), "seconds"] == 2.0 and ("a", "cifar100") not in out.index
    assert out.loc[("b", "cifar10"), ["seconds", "seconds_mode"]].tolist() == [0.3, "fused"]


def test_the_figure_shows_the_highlight_the_order_and_the_scale(tiny_run):
    stats, _ = analysis.read_stats(tiny_run / "stats")
    table = stats["comparison"]
    fig = tiny_run / "figures"
    assert all((fig / f"compare_scores.{ext}").stat().st_size > 0 for ext in ("png", "pdf"))
    caption = (fig / "compare_scores.txt").read_text(encoding="utf-8")
    rank = int(table.loc[table["score"] == "swap", "rank"].iloc[0])
    assert f"swap (rank {rank} of {len(SCORES) + 1}; τ CIFAR-10 " in caption
    assert "shaded row, bold name" in caption
    assert f"ranked by {comparison.SORT_DESCRIPTION}" in caption
    assert f"architectures per data set: CIFAR-10 {N_ARCHS}; ImageNet16-120 {N_ARCHS}" in caption
    assert "batch 16; scoring seed 0" in caption and "(200 resamples)" in caption
    assert "Non-finite scores (NaN, ±inf, errors) are ranked last" in caption
    assert "where lower is better: rank_combination)" in caption
    assert "3 draws of 8 from the 16 scored" in caption
    assert "3 architectures per timed data set" in caption
    assert "not timed: flops, params, rank_combination, synflow." in caption


def _table_rows(tex: str) -> list[tuple[int, str]]:
    """(rank, score) of each row of the longtable, in the order it sets them."""
    body = tex.split(r"\endlastfoot", 1)[1]
    rows = re.findall(r"^(?:\$\\star\$\\,)?(\d+) & (?:\\begin\{tabular\}\[t\]\{@\{\}l@\{\}\})?"
                      r"(?:\\textbf\{)?([^$}&\\]+(?:\\_[^$}&\\]+)*)", body, re.M)
    return [(int(rank), name.replace(r"\_", "_").strip()) for rank, name in rows]


def test_the_paper_section_sets_every_score_in_rank_order(tiny_run):
    gen = tiny_run / "paper" / "generated"
    listed = re.findall(r"section_(\w+)\.tex", (gen / "sections.tex").read_text())
    assert listed[:2] == ["protocol", "compare"]
    section = (gen / "section_compare.tex").read_text(encoding="utf-8")
    assert section.startswith(r"\section{How every score compares}")
    assert r"\input{generated/fig_compare_scores.tex}" in section
    assert r"\input{generated/compare_scores.tex}" in section
    table = pd.read_csv(gen / "compare_scores.csv")
    rank = int(table.loc[table["score"] == "swap", "rank"].iloc[0])
    assert rf"The highlighted \textbf{{swap}} ranks {rank} of {len(SCORES) + 1}" in section
    tex = (gen / "compare_scores.tex").read_text(encoding="utf-8")
    ranked = table.drop_duplicates("score").sort_values("rank")
    assert _table_rows(tex) == list(zip(ranked["rank"], ranked["score"], strict=True))
    assert rf"$\star$\,{rank} & " in tex and r"\textbf{swap}" in tex
    assert tex.count(r"$\star$") == 2  # the highlighted row and the caption's key
    assert r"\papercaption{Score comparison (table)}" in tex
    figure = (gen / "fig_compare_scores.tex").read_text(encoding="utf-8")
    assert r"height=0.75\textheight" in figure  # its catalogue entry's share of the page


def test_the_section_builds_into_a_document(tiny_run):
    if shutil.which("latexmk") is None:
        pytest.skip("latexmk is not installed (CI installs it)")
    gen = tiny_run / "paper" / "generated"
    # only the protocol and the comparison: the whole document is built by test_paper_document
    (gen / "sections.tex").write_text("\\input{generated/section_protocol.tex}\n"
                                      "\\input{generated/section_compare.tex}\n")
    pdf = build_repo_paper(gen, gen.parent / "main.pdf")
    log = (gen.parent / "main.log").read_text(encoding="utf-8", errors="replace")
    assert pdf.stat().st_size > 10_000
    for failure in ("Float too large", "Overfull \\vbox", "Float(s) lost"):
        assert failure not in log
    wide = [float(w) for w in re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide\)", log)]
    assert all(w < 5 for w in wide), wide


# ------------------------------------------------------------------------ configuration
def _with_stats(**stats) -> dict:
    config = tiny_config()
    config.setdefault("stats", {}).update(stats)
    return config


@pytest.mark.parametrize(("highlight", "fragment"), [
    (["naswot", "my_proxy"], "unknown proxy 'my_proxy'"),
    (["zico"], "'zico' is not scored by the report experiment 'tiny'"),
])
def test_a_highlight_that_is_not_a_score_of_the_run_is_refused(highlight, fragment):
    with pytest.raises(ConfigError) as info:
        validate_config(_with_stats(highlight=highlight), SCHEMA)
    assert "config key 'stats.highlight'" in str(info.value) and fragment in str(info.value)


def test_highlight_accepts_scored_proxies_and_the_rank_combination():
    config = validate_config(_with_stats(highlight=["synflow", "rank_combination"]), SCHEMA)
    assert config["stats"]["highlight"] == ["synflow", "rank_combination"]
    assert validate_config(tiny_config(), SCHEMA)["stats"]["highlight"] == []
    with pytest.raises(ConfigError, match="'rank_combination'"):
        validate_config(_with_stats(highlight=["rank_combination"], rank_combination=[]),
                        SCHEMA)


def test_the_stats_command_refuses_an_unknown_highlight(tmp_path, capsys):
    assert cli.main(["stats", "--scores", str(tmp_path / "s.parquet"), "--out",
                     str(tmp_path / "o"), "--highlight", "nosuch"]) == 2
    assert "--highlight: unknown score 'nosuch'" in capsys.readouterr().err


def test_new_scores_are_accepted_in_the_rank_combination_and_the_searches():
    config = tiny_config()
    config["experiments"]["tiny"]["proxies"] = ["naswot", "zico", "swap", "meco"]
    config["stats"] = {"rank_combination": ["naswot", "zico", "swap_reg"], "best_of_n": 4}
    config["search"] = {"enabled": True, "random_scores": ["gradsign"], "area_scores": ["meco"]}
    resolved = validate_config(config, SCHEMA)
    settings = SearchSettings.from_config(resolved["search"], resolved["stats"]["rank_combination"])
    assert settings.score_names("random_score") == ["gradsign", "naswot", "zico", "swap_reg"]


def test_a_search_ranks_by_a_combination_holding_a_new_score(tiny_run, bench):  # noqa: F811
    scores = pd.read_parquet(tiny_run / "scores.parquet")
    runs = run_search("random_score", space="nb201", dataset="cifar10", runs=2, seed=0,
                      benchmark=bench, scores=scores,
                      settings=SearchSettings(sample_sizes=(N_ARCHS,), random_scores=("swap",),
                                              rank_scores=COMBINED, pool="table"))
    # every architecture of the pool drawn: each selector picks the pool's best by its rule
    c10 = scores[scores["dataset"] == "cifar10"]
    wide = c10.pivot_table(index="arch", columns="score", values="value")
    by_swap = runs.loc[runs["method"].str.startswith("swap"), "arch"]
    assert set(wide.loc[list(by_swap), "swap"]) == {wide["swap"].max()}  # higher is better
    combined = wide["naswot"].rank(ascending=False) + wide["swap"].rank(ascending=False)
    picked = runs.loc[runs["method"].str.startswith("rank"), "arch"]
    assert len(picked) == 2 and set(combined[list(picked)]) == {combined.min()}


def test_the_paper_scale_preset_scores_the_new_scores_but_not_ntk_rb():
    preset = yaml.safe_load((REPO_ROOT / "workflow" / "presets" / "paper-cpu.yaml").read_text())
    proxies = preset["experiments"]["paper-cpu"]["proxies"]
    assert {"zico", "meco", "swap", "swap_reg", "gradsign", "linear_regions", "az_expressivity",
            "az_progressivity", "az_trainability", "vkdnw", "vkdnw_single", "flops"} <= set(proxies)
    assert "ntk_rb" not in proxies
    validate_config(preset, SCHEMA)


def test_the_caption_says_how_seeds_were_combined_and_what_was_dropped(tiny_run):
    stats, summary = analysis.read_stats(tiny_run / "stats")
    kept = compare.compare_caption(stats["comparison"], list(DATASETS), {}, summary, False)
    assert "were dropped" not in kept
    summary["require_path"] = {"required": True, "dropped": {"cifar10": 2, "ImageNet16-120": 2}}
    dropped = compare.compare_caption(stats["comparison"], list(DATASETS), {}, summary, False)
    assert ("Architectures without a path from input to output were dropped before every "
            "statistic (stats.require_path: CIFAR-10 2; ImageNet16-120 2)") in dropped
    summary.update(seeds=[0, 1, 2], seed_aggregation={"rule": "mean_finite"})
    seeded = compare.compare_caption(stats["comparison"], list(DATASETS), {}, summary, False)
    assert ("scoring seeds 0, 1, 2, combined per architecture before ranking "
            "(stats.seed_aggregation: mean_finite)") in seeded


def test_a_log_time_axis_under_two_decades_labels_few_plain_ticks():
    import matplotlib.pyplot as plt

    from zeroshot_nas.plots import style

    fig, ax = plt.subplots()
    ax.plot([0.02, 0.3], [0, 1])
    ax.set_xscale("log")
    style.readable_log_axis(ax.xaxis)
    fig.canvas.draw()
    low, high = ax.get_xlim()
    shown = [t.get_text() for t in ax.xaxis.get_majorticklabels()
             if low <= t.get_position()[0] <= high]
    assert shown == ["0.02", "0.05", "0.1", "0.2"]
    assert not any(t.get_text() for t in ax.xaxis.get_minorticklabels())
    plt.close(fig)


def test_a_log_time_axis_on_a_narrow_panel_labels_only_what_fits_without_overlap():
    """The compare figure's time panel is about an inch wide: 1-2-5 labels over 0.015-0.23 s
    ran into each other there ("0.050.1"); the locator thins them to what fits."""
    import matplotlib.pyplot as plt

    from zeroshot_nas.plots import style

    fig, axes = plt.subplots(1, 5, figsize=(7.5, 2.5), constrained_layout=True)
    ax = axes[-1]
    ax.plot([0.015, 0.23], [0, 1], "o")
    ax.set_xscale("log")
    style.readable_log_axis(ax.xaxis)
    fig.canvas.draw()
    low, high = ax.get_xlim()
    labels = [t for t in ax.xaxis.get_majorticklabels()
              if low <= t.get_position()[0] <= high and t.get_text()]
    assert [t.get_text() for t in labels] == ["0.03", "0.1"]
    boxes = sorted((t.get_window_extent() for t in labels), key=lambda b: b.x0)
    assert all(a.x1 < b.x0 for a, b in zip(boxes, boxes[1:], strict=False))
    plt.close(fig)
