"""One function per figure of the four papers, drawn from our scores and statistics.

Each function returns a :class:`FigureResult`: the files written (PNG, PDF, caption) or,
when the run lacks the scores or data sets a figure needs, no files and a note that says
what is missing. Nothing here raises because a small configuration scored less.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from zeroshot_nas.plots import style
from zeroshot_nas.stats import analysis, core, names

log = logging.getLogger(__name__)

@dataclass
class FigureResult:
    """Outcome of one figure function."""

    name: str
    paths: list[Path] = field(default_factory=list)
    note: str = ""

    @property
    def made(self) -> bool:
        return bool(self.paths)


def _skip(name: str, why: str) -> FigureResult:
    return FigureResult(name=name, note=f"{name}: not drawn: {why}")


def _scored_with_accuracy(df: pd.DataFrame, dataset: str) -> tuple[pd.DataFrame | None, str]:
    """The wide per-architecture score table of ``dataset``, or why a figure cannot use it."""
    rows = analysis.quality_rows(df)
    if dataset not in set(rows["dataset"]):
        return None, f"data set {dataset} not scored"
    wide, _ = analysis.wide_scores(rows, dataset)
    if not wide["test_acc"].notna().any():
        return None, f"no test accuracies on {dataset}"
    return wide, ""


def _fmt(v: float, digits: int = 2) -> str:
    return "n/a" if v is None or not np.isfinite(v) else f"{v:.{digits}f}"


# ------------------------------------------------------------------------------------------
# parameters-scoring
# ------------------------------------------------------------------------------------------
def ps_fig1_monotonicity_examples(out_dir: Path, seed: int = 0) -> FigureResult:
    """Figure 1: monotonicity of familiar functions on x ∈ [−10, 10]."""
    style.apply_style()
    rng = np.random.default_rng(seed)
    x = np.linspace(-10, 10, 200)
    panels = [
        ("(a) y = exp(x)", np.exp(x)),
        ("(b) y = -exp(x)", -np.exp(x)),
        ("(c) y = -x/2 + N(0, 1)", -x / 2 + rng.normal(0, 1, x.size)),
        ("(d) y = -x/2 + N(0, 3²)", -x / 2 + rng.normal(0, 3, x.size)),
        ("(e) y = -x/2 + N(0, 10²)", -x / 2 + rng.normal(0, 10, x.size)),
        ("(f) y = sin(x)", np.sin(x)),
    ]
    fig, axes = plt.subplots(2, 3, figsize=(7.5, 4.4))
    for ax, (title, y) in zip(axes.flat, panels, strict=True):
        ax.plot(x, y, ".", ms=2.5, color=style.POINT_COLOUR)
        ax.set_title(f"{title}\nmonotonicity = {core.monotonicity(x, y):.3f}")
        ax.set_xlabel("x")
        ax.set_ylabel("y")
    fig.tight_layout()
    caption = ("Monotonicity score on familiar functions (200 points, x in [-10, 10], seeded "
               f"Gaussian noise, seed {seed}). Panels (a) and (b): exp(x) and -exp(x) get the "
               "same value; (c)-(e): growing noise on -x/2 lowers it; (f): sin(x) is low but "
               "not zero.")
    return FigureResult("ps_fig1", style.save_figure(fig, out_dir, "ps_fig1", caption))


def _ps_scores(available: list[str]) -> tuple[list[str], str]:
    ps = names.present(names.PARAMETERS_SCORING, available)
    if ps:
        return ps, ""
    return sorted(s for s in available if s != analysis.RANK_COMBINATION), (
        " None of the parameters-scoring scores was in this run; all scored proxies are shown.")


def ps_fig2_score_vs_accuracy(
    df: pd.DataFrame, out_dir: Path, dataset: str, info=analysis.registry_info
) -> FigureResult:
    """Figure 2: log(1 − score) (standardised score when unbounded) against test accuracy;
    left all sampled architectures, right those above the median score."""
    name = f"ps_fig2_{dataset}"
    wide, why = _scored_with_accuracy(df, dataset)
    if why:
        return _skip(name, why)
    scores, extra = _ps_scores([c for c in wide.columns if c not in analysis.TARGETS])
    if not scores:
        return _skip(name, f"no score on {dataset}")
    style.apply_style()
    fig, axes = plt.subplots(len(scores), 2, figsize=(6.0, 1.7 * len(scores) + 0.4),
                             squeeze=False, sharey=True)
    transforms = set()
    for r, score in enumerate(scores):
        spec = info(score)
        raw = wide[score].to_numpy(dtype=float)
        x, transform = core.slope_transform(raw, spec.bounded01)
        transforms.add(transform)
        acc = wide["test_acc"].to_numpy(dtype=float)
        finite = np.isfinite(raw) & np.isfinite(x) & np.isfinite(acc)
        oriented = raw if spec.higher_is_better else -raw
        above = finite & analysis._above_median_finite(oriented, np.isfinite(raw))
        for c, mask in enumerate((finite, above)):
            ax = axes[r, c]
            ax.plot(x[mask], acc[mask], ".", ms=3, alpha=0.6, color=style.PALETTE[r % 6])
            ax.set_xlabel(transform)
            if c == 0:
                ax.set_ylabel(f"{names.label(score)}\ntest acc. (%)")
            ax.set_title(f"{'all' if c == 0 else 'above median'} (n = {int(mask.sum())})")
    fig.tight_layout()
    caption = (f"Score versus test accuracy on {style.dataset_label(dataset)}; one point per "
               "architecture. Left: all scored architectures; right: those scoring better than "
               f"the median. x axis: {', '.join(sorted(transforms))} (log(1 - score) for "
               "scores bounded in [0, 1], standardised score otherwise)." + extra)
    return FigureResult(name, style.save_figure(fig, out_dir, name, caption))


def ps_fig3_best_and_time(stats: dict[str, pd.DataFrame], out_dir: Path) -> FigureResult:
    """Figure 3: best accuracy retrieved per score and data set (mean ± std over runs, the
    benchmark optimum as a dark red line) and time per architecture per score."""
    best = stats.get("best_retrieved", pd.DataFrame())
    if best.empty:
        return _skip("ps_fig3", "no best-accuracy statistics")
    scores, extra = _ps_scores(sorted(best["score"].unique()))
    scores = [*scores, *names.present([analysis.RANK_COMBINATION], best["score"])]
    datasets = analysis.ordered_datasets(best["dataset"])
    optimum = stats.get("benchmark_best", pd.DataFrame())
    optimum = optimum.set_index("dataset") if not optimum.empty else optimum
    timing = stats.get("timing", pd.DataFrame())
    style.apply_style()
    fig, axes = plt.subplots(1, len(datasets) + 1, figsize=(2.6 * (len(datasets) + 1), 3.4),
                             squeeze=False)
    xs = np.arange(len(scores))
    for i, dataset in enumerate(datasets):
        ax = axes[0, i]
        b = best[best["dataset"] == dataset].set_index("score").reindex(scores)
        ax.bar(xs, b["test_mean"], color=style.dataset_colour(dataset, i), alpha=0.85)
        ax.errorbar(xs, b["test_mean"], yerr=b["test_std"], fmt="none", ecolor="black",
                    capsize=2, lw=1)
        top = np.nan
        if not optimum.empty and dataset in optimum.index:
            top = float(optimum.loc[dataset, "best_test_acc"])
            ax.axhline(top, color=style.OPTIMUM_COLOUR, lw=1.5)
            ax.annotate(f"optimum ({optimum.loc[dataset, 'source']}) {top:.2f}",
                        (0.98, top), xycoords=("axes fraction", "data"), ha="right",
                        va="bottom", xytext=(0, 3), textcoords="offset points", fontsize=7,
                        color=style.OPTIMUM_COLOUR, zorder=5,
                        bbox={"fc": "white", "ec": "none", "alpha": 0.85, "pad": 0.5})
        lo = np.nanmin(b["test_mean"] - b["test_std"].fillna(0))
        hi = np.nanmax([top, *(b["test_mean"] + b["test_std"].fillna(0))])
        ax.set_ylim(max(0, lo - 0.1 * (hi - lo) - 0.5), hi + 0.2 * (hi - lo) + 0.8)
        ax.set_xticks(xs, [names.label(s) for s in scores], rotation=90)
        ax.set_title(style.dataset_label(dataset))
        ax.set_ylabel("test acc. of top-scored arch (%)")
    ax = axes[0, -1]
    time_note = ""
    if timing.empty:
        ax.text(0.5, 0.5, "no timings in this run", ha="center", va="center",
                transform=ax.transAxes)
    else:
        mode = "standalone" if (timing["mode"] == "standalone").any() else timing["mode"].iloc[0]
        t = timing[timing["mode"] == mode].groupby("score")["seconds_median"].median()
        ts = [s for s in scores if s in t.index]
        ax.bar(np.arange(len(ts)), t.reindex(ts), color=style.PALETTE[3])
        ax.set_xticks(np.arange(len(ts)), [names.label(s) for s in ts], rotation=90)
        vals = t.reindex(ts).to_numpy(dtype=float)
        if vals.size and np.nanmin(vals) > 0 and np.nanmax(vals) / np.nanmin(vals) > 100:
            ax.set_yscale("log")  # scores differ by orders of magnitude in cost
        time_note = f" Times: median seconds per architecture, {mode} runs, over data sets."
    ax.set_title("time per architecture")
    ax.set_ylabel("seconds")
    fig.tight_layout()
    r = best.iloc[0]
    source = ("benchmark" if optimum.empty or "source" not in optimum.columns
              else " / ".join(sorted(set(optimum["source"]))))
    caption = ("Best accuracy retrieved by each score: bars are the mean test accuracy of the "
               f"top-scored architecture over {int(r['runs'])} runs of {int(r['sample_size'])} "
               f"sampled architectures (pool {int(r['pool_size'])}), black lines one standard "
               "deviation; the dark red line is the highest test accuracy of the "
               f"{source}."
               + time_note + extra)
    return FigureResult("ps_fig3", style.save_figure(fig, out_dir, "ps_fig3", caption))


def _all_vs_above(table: pd.DataFrame, column: str, ylabel: str, name: str, out_dir: Path,
                  caption: str) -> FigureResult:
    if table.empty:
        return _skip(name, f"no {column} statistics")
    scores, extra = _ps_scores(sorted(table["score"].unique()))
    scores = [*scores, *names.present([analysis.RANK_COMBINATION], table["score"])]
    datasets = analysis.ordered_datasets(table["dataset"])
    style.apply_style()
    fig, axes = plt.subplots(1, 2, figsize=(8.0, 3.2), sharey=True)
    width = 0.8 / max(1, len(datasets))
    xs = np.arange(len(scores))
    for ax, subset in zip(axes, analysis.SUBSETS, strict=True):
        for i, dataset in enumerate(datasets):
            t = table[(table["subset"] == subset) & (table["dataset"] == dataset)]
            v = t.set_index("score")[column].reindex(scores)
            ax.bar(xs + (i - (len(datasets) - 1) / 2) * width, v, width,
                   color=style.dataset_colour(dataset, i), label=style.dataset_label(dataset))
        ax.set_xticks(xs, [names.label(s) for s in scores], rotation=90)
        ax.set_title("all sampled architectures" if subset == "all" else "above median score")
    axes[0].set_ylabel(ylabel)
    fig.tight_layout()
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(datasets),
               bbox_to_anchor=(0.5, 1.0), frameon=False)
    return FigureResult(name, style.save_figure(fig, out_dir, name, caption + extra))


def ps_fig4_monotonicity(stats: dict[str, pd.DataFrame], out_dir: Path) -> FigureResult:
    """Figure 4: monotonicity with test accuracy, all vs above-median architectures."""
    mono = stats.get("monotonicity", pd.DataFrame())
    if not mono.empty:
        mono = mono[mono["policy"] == "dropped"]
    return _all_vs_above(mono, "monotonicity", "monotonicity", "ps_fig4", out_dir,
                         "Monotonicity of each score with test accuracy. Left: all scored "
                         "architectures; right: those above the median score. Non-finite "
                         "scores dropped.")


def ps_fig5_slopes(stats: dict[str, pd.DataFrame], out_dir: Path) -> FigureResult:
    """Figure 5: |slope| of accuracy on log(1 − score), all vs above-median."""
    slopes = stats.get("slopes", pd.DataFrame())
    transforms = ", ".join(sorted(slopes["transform"].unique())) if not slopes.empty else ""
    return _all_vs_above(slopes, "abs_slope", "|slope| (acc. % per unit)", "ps_fig5", out_dir,
                         "Absolute slope of the linear regression of test accuracy on "
                         f"the score ({transforms}; log(1 - score) for scores bounded in "
                         "[0, 1], the standardised score otherwise). Left: all; right: above "
                         "the median score.")


def ps_percentile(stats: dict[str, pd.DataFrame], out_dir: Path) -> FigureResult:
    """The Discussion's claim: percentile, in each score's ranking of the sample, of the
    sample's best architecture (mean ± std over runs; lower is better)."""
    best = stats.get("best_retrieved", pd.DataFrame())
    if best.empty:
        return _skip("ps_percentile", "no best-accuracy statistics")
    table = best.assign(subset="all")
    scores, extra = _ps_scores(sorted(best["score"].unique()))
    scores = [*scores, *names.present([analysis.RANK_COMBINATION], best["score"])]
    datasets = analysis.ordered_datasets(best["dataset"])
    style.apply_style()
    fig, ax = plt.subplots(figsize=(7.0, 3.2))
    width = 0.8 / len(datasets)
    xs = np.arange(len(scores))
    for i, dataset in enumerate(datasets):
        t = table[table["dataset"] == dataset].set_index("score").reindex(scores)
        ax.bar(xs + (i - (len(datasets) - 1) / 2) * width, t["percentile_mean"], width,
               yerr=t["percentile_std"], capsize=2, color=style.dataset_colour(dataset, i),
               label=style.dataset_label(dataset))
    ax.set_xticks(xs, [names.label(s) for s in scores], rotation=90)
    ax.set_ylabel("percentile of the sample's best arch\nin the score ranking (%)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    fig.tight_layout()
    r = best.iloc[0]
    caption = ("Where each score places the best architecture (by test accuracy) of a sample "
               f"of {int(r['sample_size'])}: 100 x rank / N, rank 1 = top score, mean and "
               f"standard deviation over {int(r['runs'])} runs; lower is better." + extra)
    return FigureResult("ps_percentile",
                        style.save_figure(fig, out_dir, "ps_percentile", caption))


# ------------------------------------------------------------------------------------------
# nas-without-training
# ------------------------------------------------------------------------------------------
def _histogram(extra: object) -> tuple[np.ndarray, np.ndarray] | None:
    """(edges, counts) from a jacob_cov ``extra``: either ``hist_edges`` + ``hist_counts``
    or equal-width bins given as ``corr_hist_counts`` + ``corr_hist_range`` (what the
    scoring stage writes); None when neither is usable."""
    try:
        d = json.loads(extra) if isinstance(extra, str) else extra
        if "hist_edges" in d:
            edges = np.asarray(d["hist_edges"], dtype=float)
            counts = np.asarray(d["hist_counts"], dtype=float)
        else:
            counts = np.asarray(d["corr_hist_counts"], dtype=float)
            lo, hi = (float(v) for v in d["corr_hist_range"])
            edges = np.linspace(lo, hi, counts.size + 1)
    except (TypeError, KeyError, ValueError):
        return None
    if edges.size != counts.size + 1 or counts.size == 0 or counts.sum() <= 0:
        return None
    return edges, counts


def nwot_fig1_jacobian_histograms(
    df: pd.DataFrame, out_dir: Path, dataset: str, n_bands: int = 5, per_band: int = 4,
    seed: int = 0, stats: dict[str, pd.DataFrame] | None = None,
) -> FigureResult:
    """Figure 1(b): histograms of the Σ_J off-diagonal entries of untrained architectures,
    in columns by trained validation-accuracy band (band edges: accuracy quantiles)."""
    name = f"nwot_fig1_{dataset}"
    if "extra" not in df.columns:
        return _skip(name, "the scores table has no 'extra' column")
    rows = analysis.quality_rows(df)
    sub = rows[(rows["score"] == names.JACOBIAN) & (rows["dataset"] == dataset)]
    if sub.empty:
        return _skip(name, f"{names.JACOBIAN} not scored on {dataset}")
    sub = sub.sort_values("seed").drop_duplicates("arch")
    hists = [_histogram(e) for e in sub["extra"]]
    keep = np.array([h is not None for h in hists]) & np.isfinite(sub["valid_acc"].to_numpy())
    if keep.sum() < n_bands:
        return _skip(name, f"only {int(keep.sum())} {names.JACOBIAN} histograms on {dataset}")
    sub = sub[keep].reset_index(drop=True)
    hists = [h for h, k in zip(hists, keep, strict=True) if k]
    acc = sub["valid_acc"].to_numpy(dtype=float)
    edges = np.quantile(acc, np.linspace(0, 1, n_bands + 1))
    band = np.clip(np.searchsorted(edges, acc, side="right") - 1, 0, n_bands - 1)
    rng = np.random.default_rng(seed)
    style.apply_style()
    fig, axes = plt.subplots(per_band, n_bands, figsize=(1.6 * n_bands, 1.1 * per_band + 0.6),
                             squeeze=False, sharex=True)
    for b in range(n_bands):
        members = np.flatnonzero(band == b)
        chosen = rng.choice(members, size=min(per_band, members.size), replace=False)
        chosen = chosen[np.argsort(-acc[chosen])]
        axes[0, b].set_title(f"{edges[b]:.1f}-{edges[b + 1]:.1f}%", fontsize=8)
        for r in range(per_band):
            ax = axes[r, b]
            ax.grid(False)
            ax.set_yticks([])
            if r >= chosen.size:
                ax.axis("off")
                continue
            e, c = hists[chosen[r]]
            ax.stairs(c, e, fill=True, color=style.PALETTE[0], alpha=0.8)
            ax.set_xlim(-1, 1)
            ax.text(0.02, 0.85, f"{acc[chosen[r]]:.1f}", transform=ax.transAxes, fontsize=6)
    for ax in axes[-1]:
        ax.set_xlabel("corr.")
    tau = ""
    if stats is not None and not stats.get("correlations", pd.DataFrame()).empty:
        c = stats["correlations"]
        c = c[(c["score"] == names.JACOBIAN) & (c["dataset"] == dataset) & (c["subset"] == "all")
              & (c["method"] == "kendall") & (c["target"] == "valid_acc")
              & (c["policy"] == "kept_worst")]
        if not c.empty:
            tau = (f" Kendall tau of {names.JACOBIAN} with validation accuracy on this data set: "
                   f"{_fmt(c['value'].iloc[0])} [{_fmt(c['ci_low'].iloc[0])}, "
                   f"{_fmt(c['ci_high'].iloc[0])}] (n = {int(c['n'].iloc[0])}).")
    fig.suptitle(rf"$\Sigma_J$ off-diagonal entries, {style.dataset_label(dataset)}, by validation "
                 "accuracy band", fontsize=9)
    fig.tight_layout()
    caption = ("Histograms of the correlations between per-image input Jacobians (off-diagonal "
               f"entries of Σ_J) for untrained architectures, {style.dataset_label(dataset)}, "
               f"sorted into columns by trained validation accuracy (column ranges are the "
               f"{n_bands}-quantiles of the {len(sub)} scored architectures; the number in each "
               f"panel is its accuracy). Up to {per_band} architectures per column, seeded "
               f"choice (seed {seed}); y axes scaled individually." + tau)
    return FigureResult(name, style.save_figure(fig, out_dir, name, caption))


# ------------------------------------------------------------------------------------------
# layerwise-ssnr
# ------------------------------------------------------------------------------------------
def ssnr_fig2_score_accuracy(
    df: pd.DataFrame, out_dir: Path, dataset: str, stats: dict[str, pd.DataFrame] | None = None
) -> FigureResult:
    """Figure 2: models in score–accuracy space for saliency sum (synflow), overall SSNR and
    layer-wise SSNR, with Spearman ρ and Kendall τ in each panel's title."""
    name = f"ssnr_fig2_{dataset}"
    wide, why = _scored_with_accuracy(df, dataset)
    if why:
        return _skip(name, why)
    scores = names.present(names.SSNR, wide.columns)
    if not scores:
        return _skip(name, f"none of {list(names.SSNR)} scored on {dataset}")
    missing = [s for s in names.SSNR if s not in scores]
    corr = (stats or {}).get("correlations", pd.DataFrame())
    style.apply_style()
    fig, axes = plt.subplots(1, len(scores), figsize=(3.0 * len(scores), 3.0), squeeze=False)
    for ax, score in zip(axes[0], scores, strict=True):
        x = wide[score].to_numpy(dtype=float)
        y = wide["test_acc"].to_numpy(dtype=float)
        ok = np.isfinite(x) & np.isfinite(y)
        xv = x[ok]
        pos = xv[xv > 0]
        xlabel = "score"
        if pos.size and xv.min() >= 0 and pos.max() / pos.min() > 1e3:
            # synflow spans dozens of decades and has exact zeros (cut-off architectures):
            # plot log10, with zeros gathered two decades left of the smallest value
            zero_at = np.floor(np.log10(pos.min())) - 2
            with np.errstate(divide="ignore"):
                xv = np.where(xv > 0, np.log10(np.where(xv > 0, xv, 1.0)), zero_at)
            xlabel = "log10(score)" + (f"; zeros at {zero_at:.0f}" if (pos.size < ok.sum())
                                       else "")
        ax.plot(xv, y[ok], ".", ms=3, alpha=0.5, color=style.POINT_COLOUR)
        title = names.label(score)
        if not corr.empty:
            c = corr[(corr["score"] == score) & (corr["dataset"] == dataset)
                     & (corr["subset"] == "all") & (corr["target"] == "test_acc")
                     & (corr["policy"] == "kept_worst")].set_index("method")["value"]
            if {"spearman", "kendall"} <= set(c.index):
                title += f"\nρ = {_fmt(c['spearman'], 3)}, τ = {_fmt(c['kendall'], 3)}"
        ax.set_title(title)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("test acc. (%)")
    fig.tight_layout()
    caption = (f"Architectures in score-accuracy space on {style.dataset_label(dataset)}: "
               + ", ".join(names.label(s) for s in scores)
               + ". All use synflow per-parameter saliency. Titles: Spearman rho and Kendall "
               "tau with test accuracy (non-finite scores ranked last)."
               + (f" Not scored in this run: {', '.join(missing)}." if missing else ""))
    return FigureResult(name, style.save_figure(fig, out_dir, name, caption))


# ------------------------------------------------------------------------------------------
# all figures
# ------------------------------------------------------------------------------------------
def spec_lookup(stats: dict[str, pd.DataFrame]):
    """Directions/bounds as the statistics run recorded them (``score_specs``), falling back
    to the proxy registry for scores it does not list."""
    specs = stats.get("score_specs", pd.DataFrame())
    known = {} if specs.empty else {
        r["score"]: analysis.ScoreInfo(r["score"], bool(r["higher_is_better"]),
                                       bool(r["bounded01"]), str(r["family"]), str(r["paper"]))
        for _, r in specs.iterrows()}

    def info(name: str) -> analysis.ScoreInfo:
        return known[name] if name in known else analysis.registry_info(name)

    return info


def make_all_figures(
    df: pd.DataFrame, stats: dict[str, pd.DataFrame], out_dir: Path | str, info=None,
) -> list[FigureResult]:
    """Draw every figure the run's data allow; the notes of skipped ones say why.
    ``info`` gives score directions/bounds (default: the statistics' ``score_specs``)."""
    info = info or spec_lookup(stats)
    out = Path(out_dir)
    datasets = analysis.ordered_datasets(analysis.quality_rows(df)["dataset"].unique())
    results = [ps_fig1_monotonicity_examples(out)]
    results += [ps_fig2_score_vs_accuracy(df, out, d, info) for d in datasets]
    results += [ps_fig3_best_and_time(stats, out), ps_fig4_monotonicity(stats, out),
                ps_fig5_slopes(stats, out), ps_percentile(stats, out)]
    results += [nwot_fig1_jacobian_histograms(df, out, d, stats=stats) for d in datasets]
    results += [ssnr_fig2_score_accuracy(df, out, d, stats) for d in datasets]
    return results


def draw_figures(scores: str | Path, stats_dir: str | Path, out: str | Path) -> list[FigureResult]:
    """Every figure of the papers from a run's merged scores and statistics into ``out``,
    with ``figures_manifest.json`` saying which were drawn and why others were not."""
    from zeroshot_nas import io

    df = analysis.load_scores(scores)
    stats, _ = analysis.read_stats(stats_dir)
    results = make_all_figures(df, stats, out)
    manifest = {
        "made": {r.name: [p.name for p in r.paths] for r in results if r.made},
        "skipped": {r.name: r.note for r in results if not r.made},
    }
    io.write_json(Path(out) / "figures_manifest.json", manifest, indent=2)
    for r in results:
        if not r.made:
            log.warning(r.note)
    log.info("%d figure(s) drawn into %s, %d skipped", len(manifest["made"]), out,
             len(manifest["skipped"]))
    return results
