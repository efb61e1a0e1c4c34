"""Figures: files written, captions, graceful skips with a note when inputs are missing."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from test_stats import explicit_info, real_scores_table

from zeroshot_nas.plots import figures, style
from zeroshot_nas.stats import analysis, core


def _nonempty(paths):
    return all(p.exists() and p.stat().st_size > 0 for p in paths)


def test_palette_is_okabe_ito_and_distinct():
    assert len(set(style.PALETTE)) == len(style.PALETTE) == 8
    assert style.PALETTE[0] == "#0072B2"


def test_ps_fig1_files_and_caption(tmp_path):
    res = figures.ps_fig1_monotonicity_examples(tmp_path)
    assert res.made and [p.suffix for p in res.paths] == [".png", ".pdf", ".txt"]
    assert _nonempty(res.paths)
    assert "Monotonicity" in res.paths[2].read_text()
    # the panel values are the function's: exp and -exp are both perfectly monotonic
    x = np.linspace(-10, 10, 200)
    assert core.monotonicity(x, np.exp(x)) == core.monotonicity(x, -np.exp(x)) == 1.0


@pytest.fixture(scope="module")
def real_run(tmp_path_factory):
    df = real_scores_table(200)
    cfg = analysis.StatsConfig(bootstrap=100, best_of_n=50, best_of_runs=3,
                               rank_combination=("params",), info=explicit_info)
    tables, summary = analysis.compute_stats(df, cfg)
    return df, tables, tmp_path_factory.mktemp("figs")


def test_all_figures_on_real_benchmark(real_run):
    df, tables, out = real_run
    results = figures.make_all_figures(df, tables, out, info=explicit_info)
    made = {r.name for r in results if r.made}
    assert {"ps_fig1", "ps_fig2_cifar10", "ps_fig2_cifar100", "ps_fig2_ImageNet16-120",
            "ps_fig3", "ps_fig4", "ps_fig5", "ps_percentile"} <= made
    for r in results:
        if r.made:
            assert _nonempty(r.paths), r.name
        else:
            assert r.note.startswith(f"{r.name}: not drawn:"), r.note
    skipped = {r.name: r.note for r in results if not r.made}
    # no jacob_cov / SSNR scores in this table: said, not crashed
    assert "extra" in skipped["nwot_fig1_cifar10"] or "jacob_cov" in skipped["nwot_fig1_cifar10"]
    assert "ssnr" in skipped["ssnr_fig2_cifar10"]
    cap = (out / "ps_fig3.txt").read_text()
    assert "3 runs of 50" in cap and "None of the parameters-scoring scores" in cap


def test_missing_dataset_and_empty_stats_are_skipped(tmp_path):
    df = real_scores_table(30)
    df = df[df.dataset == "cifar10"]
    r = figures.ps_fig2_score_vs_accuracy(df, tmp_path, "cifar100", explicit_info)
    assert not r.made and "cifar100 not scored" in r.note
    assert not figures.ps_fig3_best_and_time({}, tmp_path).made
    assert not figures.ps_fig4_monotonicity({}, tmp_path).made
    assert not list(tmp_path.iterdir())


def _hist_extra(values: np.ndarray) -> str:
    counts, edges = np.histogram(values, bins=20, range=(-1, 1))
    return json.dumps({"hist_edges": edges.tolist(), "hist_counts": counts.tolist()})


def test_jacobian_histogram_figure(tmp_path):
    # Explicit test input: 10 architectures whose Σ_J off-diagonals concentrate more
    # tightly around 0 the better they are (the paper's observation), one row each.
    rows = []
    grid = np.linspace(-1, 1, 101)
    for i in range(10):
        vals = grid * (1.0 - 0.09 * i)
        rows.append({"arch": f"a{i}", "dataset": "cifar10", "seed": 0, "score": "jacob_cov",
                     "value": float(i), "status": "ok", "test_acc": 50.0 + 4 * i,
                     "valid_acc": 49.0 + 4 * i, "extra": _hist_extra(vals)})
    # the scoring stage's own format: equal-width bins over a range
    counts = np.histogram(grid * 0.1, bins=100, range=(-1, 1))[0]
    rows.append({**rows[0], "arch": "own", "valid_acc": 70.0, "extra": json.dumps(
        {"corr_hist_counts": counts.tolist(), "corr_hist_range": [-1.0, 1.0]})})
    rows.append({**rows[0], "arch": "bad", "extra": "{}"})  # unusable histogram: left out
    df = pd.DataFrame(rows)
    res = figures.nwot_fig1_jacobian_histograms(df, tmp_path, "cifar10", n_bands=5, per_band=2)
    assert res.made and _nonempty(res.paths)
    caption = res.paths[2].read_text()
    assert "11 scored architectures" in caption and "validation accuracy" in caption
    few = figures.nwot_fig1_jacobian_histograms(df.iloc[:3], tmp_path, "cifar10", n_bands=5)
    assert not few.made and "only 3" in few.note


def test_ssnr_figure_names_missing_panels(tmp_path):
    rng = np.random.default_rng(0)
    acc = rng.uniform(60, 94, 30)
    rows = []
    for score, values in (("synflow", 10 ** (acc / 3)), ("ssnr", acc / 10)):
        rows += [{"arch": f"a{i}", "dataset": "cifar10", "seed": 0, "score": score,
                  "value": v, "status": "ok", "test_acc": a, "valid_acc": a}
                 for i, (v, a) in enumerate(zip(values, acc, strict=True))]
    res = figures.ssnr_fig2_score_accuracy(pd.DataFrame(rows), tmp_path, "cifar10")
    assert res.made
    assert "Not scored in this run: ssnr_layerwise" in res.paths[2].read_text()
