"""Figures: files written, captions, graceful skips with a note when inputs are missing."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml
from test_stats import explicit_info, real_scores_table

from zeroshot_nas.paper.published import DEFAULT_PUBLISHED
from zeroshot_nas.plots import catalog, figures, style
from zeroshot_nas.plots.base import has_path
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
            "ps_fig3", "ps_fig4", "ps_fig5", "ps_percentile", "rb_table1"} <= made
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


def test_ps_fig2_pages_share_one_accuracy_range_and_count_what_they_leave_out(tmp_path):
    # Real architectures and accuracies; flops made non-finite where the cell has no path
    # from input to output, as the Jacobian scores are on those architectures.
    df = real_scores_table(60)
    cut = df["arch"].map(lambda a: not has_path(a)) & (df["score"] == "flops")
    df.loc[cut, ["value", "status"]] = [np.nan, "nan"]
    n_cut = int((cut & (df["dataset"] == "cifar10")).sum())
    assert n_cut >= 1
    res = figures.ps_fig2_score_vs_accuracy(df, tmp_path, "cifar10", explicit_info,
                                            rows_per_part=1)
    assert res.made and res.name == "ps_fig2_cifar10"
    captions = [(tmp_path / f"ps_fig2_cifar10_part{k}.txt").read_text() for k in (1, 2)]
    assert "part 1 of 2" in captions[0] and "part 2 of 2" in captions[1]
    ranges = [c.split("share one accuracy range (")[1].split(")")[0] for c in captions]
    assert ranges[0] == ranges[1]
    # no parameters-scoring score here: every score, by name (flops, then params)
    assert (f"flops: {n_cut} architecture(s): {n_cut} with a non-finite score, all without a "
            "path from input to output") in captions[0]
    assert "No architecture was left out." in captions[1]


def test_slopes_spanning_decades_get_a_log_axis_and_monotonicity_starts_at_zero(tmp_path):
    # Explicit test input: |slope| from 0.04 to 620, as the paper's Figure 5 has them.
    rows = [{"score": s, "dataset": "cifar10", "subset": sub, "abs_slope": v,
             "transform": "log(1-score)"}
            for s, v in (("js", 620.0), ("pjs", 3.0), ("wpjs", 0.04))
            for sub in analysis.SUBSETS]
    res = figures.ps_fig5_slopes({"slopes": pd.DataFrame(rows)}, tmp_path)
    assert res.made and "Log axis" in (tmp_path / "ps_fig5.txt").read_text()
    mono = pd.DataFrame([{**r, "monotonicity": 0.5, "policy": "dropped"} for r in rows])
    res = figures.ps_fig4_monotonicity({"monotonicity": mono}, tmp_path)
    assert "The axis starts at zero." in (tmp_path / "ps_fig4.txt").read_text()


def test_ssnr_zero_scores_are_drawn_and_said(tmp_path):
    rng = np.random.default_rng(1)
    acc = rng.uniform(60, 94, 30)
    values = 10 ** (acc / 3)
    values[:2] = 0.0  # exact zeros cannot sit on a log axis
    archs = [f"a{i}" for i in range(30)]
    rows = [{"arch": a, "dataset": "cifar10", "seed": 0, "score": "synflow", "value": v,
             "status": "ok", "test_acc": t, "valid_acc": t}
            for a, v, t in zip(archs, values, acc, strict=True)]
    res = figures.ssnr_fig2_score_accuracy(pd.DataFrame(rows), tmp_path, "cifar10")
    caption = res.paths[2].read_text()
    assert "log10 axis; 2 architecture(s) score exactly 0" in caption
    assert "open circles" in caption and "same accuracy range" in caption
    assert "zeros at" not in caption


def test_catalogue_names_figures_by_the_papers_numbers():
    r = catalog.resolve_figure("ps_fig2_ImageNet16-120_part3")
    assert (r.item.key, r.dataset, r.part) == ("ps_fig2", "ImageNet16-120", 3)
    assert r.heading == "PS Figure 2 (ImageNet16-120, part 3)"
    assert catalog.resolve_figure("ps_fig3").heading == "PS Figure 3"
    assert catalog.resolve_figure("nwot_fig1_cifar10").heading == "NWOT Figure 1(b) (CIFAR-10)"
    assert catalog.resolve_table("ssnr_correlations").heading == "SSNR Figure 2 text and Table 1"
    # every figure reproduces one paper's, but the comparison of every score, the run's own
    assert all(i.paper in catalog.PAPERS for k, i in catalog.FIGURES.items()
               if k != "compare_scores")
    assert catalog.FIGURES["compare_scores"].paper == catalog.RUN
    assert catalog.figure_category("compare_scores") == catalog.category(catalog.RUN)
    assert catalog.figure_category("rb_table1").startswith("RB: ")


def test_a_new_papers_catalogue_entries_are_read_from_published_yaml(tmp_path):
    """A fifth paper's figures, tables and gaps are one more block of published.yaml; an
    entry without its number is refused naming the file and the key."""
    published = yaml.safe_load(DEFAULT_PUBLISHED.read_text(encoding="utf-8"))
    published["papers"]["demo"] = {
        "short": "DEMO", "title": "A fifth paper", "source": "demo-paper",
        "figures": {"demo_fig1": {"label": "DEMO Figure 1", "title": "Histograms",
                                  "per_dataset": True}},
        "tables": {"demo_table": {"label": "DEMO Table 1", "title": "Correlations",
                                  "csv": "demo_kendall"}},
        "not_reproduced": [{"item": "DEMO Figure 2", "why": "It needs training."}]}
    path = tmp_path / "published.yaml"
    path.write_text(yaml.safe_dump(published, sort_keys=False), encoding="utf-8")
    found = catalog.load_catalogue(path)
    assert list(found.papers)[-1] == "demo" and found.papers["demo"].short == "DEMO"
    assert found.figures["demo_fig1"].label == "DEMO Figure 1"
    assert {"demo_fig1", "ps_fig2", "nwot_fig1", "ssnr_fig2"} <= set(found.per_dataset)
    assert found.table_aliases["demo_kendall"] == "demo_table"
    assert found.not_reproduced[-1] == catalog.NotReproduced("demo", "DEMO Figure 2",
                                                             "It needs training.")
    assert found.tables["protocol"].paper == catalog.RUN  # the document's own tables
    # the module's catalogue is the repository's file, read the same way
    assert catalog.load_catalogue().papers == catalog.PAPERS

    del published["papers"]["demo"]["tables"]["demo_table"]["label"]
    path.write_text(yaml.safe_dump(published, sort_keys=False), encoding="utf-8")
    with pytest.raises(ValueError, match=r"published.yaml: papers\.demo\.tables\.demo_table"
                                         r"\.label must be a non-empty text"):
        catalog.load_catalogue(path)


def test_report_captions_render_as_their_plain_text():
    from docutils.core import publish_parts

    text = "|slope| of *JS* (log(1 - score)); jacob_cov_ and `x` [95% CI] -- ok:  done."
    html = publish_parts(catalog.rst_escape(text), writer="html",
                         settings_overrides={"report_level": 5})["body"]
    assert html.strip() == "<p>" + " ".join(text.split()) + "</p>"


def test_wpjs_evidence_on_real_scores(tmp_path):
    # Real parameter-space scores of six real architectures (ImageNet16-120, batch of 8).
    from conftest import IMAGES

    from zeroshot_nas import spaces
    from zeroshot_nas.proxies import Protocol
    from zeroshot_nas.scoring import score_archs

    npz = IMAGES / "ImageNet16-120.npz"
    if not npz.exists():
        pytest.skip(f"real image sample not found at {npz}")
    archs = [spaces.arch_from_id("nb201", i)
             for i in ("333031", "123412", "444444", "232323", "310213", "221133")]
    table = score_archs("nb201", "ImageNet16-120", 0, archs, ["pjs", "wpjs", "wpjsi"],
                        Protocol(batch_size=8), npz, tmp_path / "cache", None, progress=False)
    bench = real_scores_table(None)
    bench = bench[(bench["score"] == "params") & (bench["dataset"] == "ImageNet16-120")]
    df = table.merge(bench[["arch", "dataset", "test_acc", "valid_acc"]], on=["arch", "dataset"])
    res = figures.ps_tensors(df, tmp_path)
    assert res.made and _nonempty(res.paths)
    caption = res.paths[2].read_text()
    # the definitions divide by N: WPJS falls as more tensors are used
    assert "rho(N, WPJS) = -" in caption and "factor 1/N" in caption


def test_correlation_interval_panels_label_five_plain_ticks():
    import matplotlib.pyplot as plt

    from zeroshot_nas.plots.correlations import _interval_panel

    fig, ax = plt.subplots(figsize=(3.5, 2))
    _interval_panel(ax, {}, {"naswot": "NASWOT"}, ["cifar10"], "kendall", {})
    fig.canvas.draw()
    # nine labels at 0.25 steps ran together in a 3.5-inch panel
    assert [t.get_text() for t in ax.xaxis.get_majorticklabels()] == ["−1", "−0.5", "0", "0.5",
                                                                       "1"]
    assert not any(t.get_text() for t in ax.xaxis.get_minorticklabels())
    plt.close(fig)
