"""The parameters-scoring paper's figures (PS Figures 1-5), its Discussion's percentile
claim, and the evidence on WPJS/WPJSI (score against the number of parameter tensors)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from zeroshot_nas.plots import style
from zeroshot_nas.plots.base import (
    FigureResult,
    correlation,
    fmt,
    left_out_sentence,
    left_out_text,
    ps_scores,
    scored_with_accuracy,
    skip,
    tensors_used,
    with_combination,
    with_interval,
)
from zeroshot_nas.stats import analysis, core, names

PS_FIG2_ROWS = 4  # scores per page of PS Figure 2 (12 scores x 2 panels do not fit one)


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


def _limits(values: np.ndarray, pad: float = 0.04) -> tuple[float, float]:
    v = values[np.isfinite(values)]
    if not v.size:
        return 0.0, 1.0
    lo, hi = float(v.min()), float(v.max())
    margin = max(hi - lo, 1.0) * pad
    return lo - margin, hi + margin


def _ps_fig2_points(wide: pd.DataFrame, score: str, spec):
    """(x, accuracy, drawn mask, above-median mask, transform) of one score's panels."""
    raw = wide[score].to_numpy(dtype=float)
    x, transform = core.slope_transform(raw, spec.bounded01)
    acc = wide["test_acc"].to_numpy(dtype=float)
    drawn = np.isfinite(raw) & np.isfinite(x) & np.isfinite(acc)
    oriented = raw if spec.higher_is_better else -raw
    above = drawn & analysis._above_median_finite(oriented, np.isfinite(raw))
    return x, acc, drawn, above, transform


def _ps_fig2_row(axes, wide: pd.DataFrame, score: str, spec, colour: str) -> tuple[str, str]:
    """Draw one score's pair of panels (all, above median); returns (transform, left-out)."""
    x, acc, drawn, above, transform = _ps_fig2_points(wide, score, spec)
    for c, mask in enumerate((drawn, above)):
        ax = axes[c]
        ax.plot(x[mask], acc[mask], ".", ms=3, alpha=0.6, color=colour)
        ax.set_xlabel(transform)
        ax.xaxis.set_major_locator(MaxNLocator(5))
        ax.set_title(f"{names.label(score)}, {'all' if c == 0 else 'above median'} "
                     f"(n = {int(mask.sum())})")
    axes[0].set_ylabel("test accuracy (%)")
    why = ("with score >= 1, where log(1 - score) is undefined" if spec.bounded01
           else "not standardisable")
    return transform, left_out_text(wide, score, drawn, why)


def _ps_fig2_part(wide: pd.DataFrame, scores: list[str], info, out_dir: Path, name: str,
                  part: tuple[int, int], ylim: tuple[float, float], note: str) -> list[Path]:
    style.apply_style()
    fig, axes = plt.subplots(len(scores), 2, figsize=(6.6, 1.55 * len(scores) + 0.5),
                             squeeze=False, sharey=True)
    transforms, left_out = set(), {}
    for r, score in enumerate(scores):
        axes[r, 1].sharex(axes[r, 0])
        transform, why = _ps_fig2_row(axes[r], wide, score, info(score), style.PALETTE[r % 6])
        transforms.add(transform)
        left_out[names.label(score)] = why
    axes[0, 0].set_ylim(*ylim)
    fig.tight_layout()
    n_acc = int(np.isfinite(wide["test_acc"].to_numpy(dtype=float)).sum())
    caption = (f"Score versus test accuracy on {note[0]}, part {part[0]} of {part[1]} "
               f"({', '.join(names.label(s) for s in scores)}); one point per architecture. "
               f"Left: all {n_acc} scored architectures with a test accuracy; right: those "
               f"scoring better than the median score. x axis: {', '.join(sorted(transforms))} "
               "(log(1 - score) for scores bounded in [0, 1], as in the paper; the "
               "standardised score otherwise). All parts of this figure share one accuracy "
               f"range ({ylim[0]:.1f} to {ylim[1]:.1f}%); the two panels of a row share their "
               f"x range. {left_out_sentence(left_out)}{note[1]}")
    return style.save_figure(fig, out_dir, name, caption)


def ps_fig2_score_vs_accuracy(
    df: pd.DataFrame, out_dir: Path, dataset: str, info=analysis.registry_info,
    rows_per_part: int = PS_FIG2_ROWS,
) -> FigureResult:
    """Figure 2: log(1 − score) (standardised score when unbounded) against test accuracy,
    all sampled architectures and those above the median, in parts of ``rows_per_part``
    scores (files ``ps_fig2_<dataset>_part<k>``) so that each part fits a page."""
    name = f"ps_fig2_{dataset}"
    wide, why = scored_with_accuracy(df, dataset)
    if why:
        return skip(name, why)
    scores, extra = ps_scores([c for c in wide.columns if c not in analysis.TARGETS])
    if not scores:
        return skip(name, f"no score on {dataset}")
    chunks = [scores[i:i + rows_per_part] for i in range(0, len(scores), rows_per_part)]
    # one accuracy range for every panel of every part: that of the points drawn anywhere
    drawn = np.zeros(len(wide), dtype=bool)
    for score in scores:
        drawn |= _ps_fig2_points(wide, score, info(score))[2]
    ylim = _limits(wide["test_acc"].to_numpy(dtype=float)[drawn])
    paths: list[Path] = []
    for k, chunk in enumerate(chunks, start=1):
        paths += _ps_fig2_part(wide, chunk, info, out_dir, f"{name}_part{k}", (k, len(chunks)),
                               ylim, (style.dataset_label(dataset), extra))
    return FigureResult(name, paths)


def _best_panel(ax, best: pd.DataFrame, dataset: str, scores: list[str], optimum, i: int):
    b = best[best["dataset"] == dataset].set_index("score").reindex(scores)
    xs = np.arange(len(scores))
    colour = style.dataset_colour(dataset, i)
    ax.errorbar(xs, b["test_mean"], yerr=b["test_std"], fmt="o", ms=5, color=colour,
                ecolor="black", elinewidth=1, capsize=2)
    if not optimum.empty and dataset in optimum.index:
        top = float(optimum.loc[dataset, "best_test_acc"])
        ax.axhline(top, color=style.OPTIMUM_COLOUR, lw=1.5)
        ax.annotate(f"optimum {top:.2f}", (0.98, top), xycoords=("axes fraction", "data"),
                    ha="right", va="bottom", xytext=(0, 3), textcoords="offset points",
                    fontsize=7, color=style.OPTIMUM_COLOUR)
        ax.margins(y=0.15)
    ax.set_xticks(xs, [names.label(s) for s in scores], rotation=90)
    ax.set_xlim(-0.6, len(scores) - 0.4)
    ax.set_title(style.dataset_label(dataset))
    if i == 0:  # one label for the row: the panels' own axes carry the numbers
        ax.set_ylabel("test accuracy of the top-scored architecture (%)")


def _time_panel(ax, timing: pd.DataFrame, scores: list[str]) -> str:
    """Seconds per architecture per score (dots); returns the caption's sentence on it."""
    if timing.empty:
        ax.text(0.5, 0.5, "no timings in this run", ha="center", va="center",
                transform=ax.transAxes)
        ax.set_xticks([])
        return " No timings in this run."
    mode = "standalone" if (timing["mode"] == "standalone").any() else timing["mode"].iloc[0]
    t = timing[timing["mode"] == mode].groupby("score")["seconds_median"].median()
    ts = [s for s in scores if s in t.index]
    vals = t.reindex(ts).to_numpy(dtype=float)
    ax.plot(np.arange(len(ts)), vals, "o", ms=5, color=style.PALETTE[3])
    ax.set_xticks(np.arange(len(ts)), [names.label(s) for s in ts], rotation=90)
    log = style.spans_decades(vals, 10)
    if log:
        ax.set_yscale("log")
    ax.set_ylabel("seconds per architecture" + (" (log scale)" if log else ""))
    return (f" Right: median seconds per architecture over data sets, {mode} runs"
            + (", on a log axis." if log else "."))


def ps_fig3_best_and_time(stats: dict[str, pd.DataFrame], out_dir: Path) -> FigureResult:
    """Figure 3: best accuracy retrieved per score and data set (mean ± std over runs, the
    benchmark optimum as a dark red line) and time per architecture per score."""
    best = stats.get("best_retrieved", pd.DataFrame())
    if best.empty:
        return skip("ps_fig3", "no best-accuracy statistics")
    scores, extra = ps_scores(sorted(best["score"].unique()))
    scores = with_combination(scores, best["score"])
    datasets = analysis.ordered_datasets(best["dataset"])
    optimum = stats.get("benchmark_best", pd.DataFrame())
    optimum = optimum.set_index("dataset") if not optimum.empty else optimum
    style.apply_style()
    width = max(2.4, 0.22 * len(scores) + 0.9)
    fig, axes = plt.subplots(1, len(datasets) + 1, squeeze=False,
                             figsize=(min(max(width * (len(datasets) + 1), 6.5), 11.0), 3.8))
    for i, dataset in enumerate(datasets):
        _best_panel(axes[0, i], best, dataset, scores, optimum, i)
    time_note = _time_panel(axes[0, -1], stats.get("timing", pd.DataFrame()), scores)
    axes[0, -1].set_title("time per architecture")
    fig.tight_layout()
    r = best.iloc[0]
    source = ("benchmark" if optimum.empty or "source" not in optimum.columns
              else " / ".join(sorted(set(optimum["source"]))))
    caption = ("Left: best accuracy retrieved by each score; dots are the mean test accuracy "
               f"of the top-scored architecture over {names.counted(int(r['runs']), 'run')} of "
               f"{int(r['sample_size'])} sampled architectures (pool {int(r['pool_size'])}), "
               "black bars one standard deviation (a dot plot: the accuracy axis does not start "
               "at zero); the dark red line is the highest test accuracy of the "
               f"{source}." + time_note + extra)
    return FigureResult("ps_fig3", style.save_figure(fig, out_dir, "ps_fig3", caption))


def _dot_columns(ax, table: pd.DataFrame, column: str, scores: list[str], datasets: list[str],
                 subset: str) -> None:
    xs = np.arange(len(scores))
    for i, dataset in enumerate(datasets):
        t = table[(table["subset"] == subset) & (table["dataset"] == dataset)]
        v = t.set_index("score")[column].reindex(scores).to_numpy(dtype=float)
        ax.plot(xs + style.dodge(i, len(datasets)), v, "o", ms=4.5, ls="none",
                color=style.dataset_colour(dataset, i), label=style.dataset_label(dataset))
    ax.set_xticks(xs, [names.label(s) for s in scores], rotation=90)
    ax.set_xlim(-0.6, len(scores) - 0.4)
    ax.set_title("all sampled architectures" if subset == "all" else "above the median score")


def _all_vs_above(table: pd.DataFrame, column: str, ylabel: str, name: str, out_dir: Path,
                  caption: str, scale: str = "linear") -> FigureResult:
    """Two panels (all architectures, above the median score), one dot per score and data
    set; ``scale`` "log" draws a log axis when the values span decades."""
    if table.empty:
        return skip(name, f"no {column} statistics")
    scores, extra = ps_scores(sorted(table["score"].unique()))
    scores = with_combination(scores, table["score"])
    datasets = analysis.ordered_datasets(table["dataset"])
    style.apply_style()
    fig, axes = plt.subplots(1, 2, figsize=(max(6.5, 0.5 * len(scores) + 2.5), 3.4),
                             sharey=True)
    for ax, subset in zip(axes, analysis.SUBSETS, strict=True):
        _dot_columns(ax, table, column, scores, datasets, subset)
    values = table[table["score"].isin(scores)][column].to_numpy(dtype=float)
    log = scale == "log" and style.spans_decades(values[values > 0])
    if log:
        axes[0].set_yscale("log")
        hidden = int((~(values > 0)).sum())
        caption += (" Log axis: the values span more than two decades"
                    + (f"; {hidden} zero or undefined value(s) cannot be drawn on it."
                       if hidden else "."))
    elif np.isfinite(values).any():
        axes[0].set_ylim(0, max(1.0, float(np.nanmax(values)) * 1.08))
        caption += " The axis starts at zero."
    axes[0].set_ylabel(ylabel + (" (log scale)" if log else ""))
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
                         "Monotonicity of each score with test accuracy (|Kendall tau-a|), one "
                         "dot per data set. Left: all scored architectures; right: those above "
                         "the median score. Non-finite scores dropped.")


def ps_fig5_slopes(stats: dict[str, pd.DataFrame], out_dir: Path) -> FigureResult:
    """Figure 5: |slope| of accuracy on log(1 − score), all vs above-median."""
    slopes = stats.get("slopes", pd.DataFrame())
    transforms = ", ".join(sorted(slopes["transform"].unique())) if not slopes.empty else ""
    return _all_vs_above(slopes, "abs_slope", "|slope| (accuracy % per unit)", "ps_fig5",
                         out_dir, "Absolute slope of the linear regression of test accuracy "
                         f"on the score ({transforms}; log(1 - score) for scores bounded in "
                         "[0, 1], the standardised score otherwise), one dot per data set. "
                         "Left: all; right: above the median score.", scale="log")


def _published_percentiles() -> dict[str, float]:
    from zeroshot_nas.paper.published import load_published

    try:
        return dict(load_published()["ps_percentile"]["values"])
    except (FileNotFoundError, KeyError, ValueError, TypeError):
        return {}


def ps_percentile(stats: dict[str, pd.DataFrame], out_dir: Path) -> FigureResult:
    """The Discussion's claim: percentile, in each score's ranking of the sample, of the
    sample's best architecture (mean ± std over runs; lower is better), with the paper's
    published upper bounds."""
    best = stats.get("best_retrieved", pd.DataFrame())
    if best.empty:
        return skip("ps_percentile", "no best-accuracy statistics")
    scores, extra = ps_scores(sorted(best["score"].unique()))
    scores = with_combination(scores, best["score"])
    datasets = analysis.ordered_datasets(best["dataset"])
    paper = _published_percentiles()
    style.apply_style()
    fig, ax = plt.subplots(figsize=(max(6.5, 0.45 * len(scores) + 2.5), 3.4))
    xs = np.arange(len(scores))
    for i, dataset in enumerate(datasets):
        t = best[best["dataset"] == dataset].set_index("score").reindex(scores)
        ax.errorbar(xs + style.dodge(i, len(datasets)), t["percentile_mean"],
                    yerr=t["percentile_std"].fillna(0), fmt="o", ms=4.5, capsize=2,
                    color=style.dataset_colour(dataset, i), label=style.dataset_label(dataset))
    marked = [s for s in scores if s in paper]
    if marked:
        ax.plot([scores.index(s) for s in marked], [paper[s] for s in marked], "x", ms=8,
                mew=2, color="black", label="paper: upper bound")
    ax.set_xticks(xs, [names.label(s) for s in scores], rotation=90)
    ax.set_xlim(-0.6, len(scores) - 0.4)
    ax.set_ylim(0, None)
    ax.set_ylabel("percentile of the sample's best\narchitecture in the ranking (%)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    fig.tight_layout()
    r = best.iloc[0]
    caption = ("Where each score places the best architecture (by test accuracy) of a sample "
               f"of {int(r['sample_size'])}: 100 x rank / N, rank 1 = top score; dots are the "
               f"mean and bars the standard deviation over {int(r['runs'])} run(s); lower is "
               "better; the axis starts at zero."
               + (" Crosses: the upper bound the paper states for all three data sets."
                  if marked else "") + extra)
    return FigureResult("ps_percentile",
                        style.save_figure(fig, out_dir, "ps_percentile", caption))


TENSOR_SCORES = ("pjs", "wpjs", "wpjsi")  # the scores whose definition divides by N


def _tensor_table(rows: pd.DataFrame, dataset: str, members: list[str]) -> pd.DataFrame:
    """Per architecture of ``dataset``: tensors used (from the scores' ``extra``), the
    members' values (seed mean) and test accuracy."""
    sub = rows[(rows["dataset"] == dataset) & rows["score"].isin(members)]
    n = sub.assign(n=[tensors_used(e) for e in sub["extra"]]).groupby("arch")["n"].median()
    wide, _ = analysis.wide_scores(rows[rows["dataset"] == dataset], dataset)
    return wide.join(n.rename("tensors_used"), how="inner")


def _spearman(x: np.ndarray, y: np.ndarray) -> float:
    from scipy import stats as sps

    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 3 or np.ptp(x[ok]) == 0 or np.ptp(y[ok]) == 0:
        return float("nan")
    return float(sps.spearmanr(x[ok], y[ok]).statistic)


def _tensor_row(axes, t: pd.DataFrame, shown: list[str], dataset: str) -> list[str]:
    n = t["tensors_used"].to_numpy(dtype=float)
    acc = t["test_acc"].to_numpy(dtype=float)
    axes[0].plot(n, acc, ".", ms=3, alpha=0.6, color=style.POINT_COLOUR)
    axes[0].set_ylabel(f"{style.dataset_label(dataset)}\ntest accuracy (%)")
    axes[0].set_title(f"accuracy, rho = {fmt(_spearman(n, acc))}")
    notes = [f"{style.dataset_label(dataset)}: rho(N, accuracy) = {fmt(_spearman(n, acc))}"]
    for ax, score in zip(axes[1:], shown, strict=True):
        v = t[score].to_numpy(dtype=float)
        ax.plot(n, v, ".", ms=3, alpha=0.6, color=style.PALETTE[5])
        if style.spans_decades(v[v > 0], 30) and (v[np.isfinite(v)] > 0).all():
            ax.set_yscale("log")
        rho = _spearman(n, v)
        ax.set_title(f"{names.label(score)}, rho = {fmt(rho)}")
        ax.set_ylabel(names.label(score) + (" (log scale)" if ax.get_yscale() == "log" else ""))
        notes.append(f"rho(N, {names.label(score)}) = {fmt(rho)}")
    for ax in axes:
        ax.set_xlabel("parameter tensors used, N")
    return notes


def ps_tensors(df: pd.DataFrame, out_dir: Path,
               stats: dict[str, pd.DataFrame] | None = None) -> FigureResult:
    """Evidence for the sign of WPJS/WPJSI: their definition divides by N, the number of
    parameter tensors the score uses (``extra["tensors_used"]``), and accuracy rises with
    N; each score and accuracy are drawn against N, per data set."""
    name = "ps_tensors"
    if "extra" not in df.columns:
        return skip(name, "the scores table has no 'extra' column")
    rows = analysis.quality_rows(df)
    shown = names.present(TENSOR_SCORES, rows["score"])
    if not shown:
        return skip(name, f"none of {list(TENSOR_SCORES)} scored")
    tables = {d: _tensor_table(rows, d, shown)
              for d in analysis.ordered_datasets(rows["dataset"])}
    tables = {d: t for d, t in tables.items() if t["tensors_used"].notna().sum() >= 3}
    if not tables:
        return skip(name, "no 'tensors_used' in the parameter-space scores' extra")
    style.apply_style()
    fig, axes = plt.subplots(len(tables), len(shown) + 1, squeeze=False,
                             figsize=(2.0 * (len(shown) + 1) + 0.4, 2.1 * len(tables) + 0.3))
    notes = []
    for r, (dataset, t) in enumerate(tables.items()):
        notes += _tensor_row(axes[r], t, shown, dataset)
    fig.tight_layout()
    taus = [f"{names.label(s)} on {style.dataset_label(d)}: "
            f"{with_interval(correlation(stats, s, d, 'kendall'))}"
            for d in tables for s in shown if correlation(stats, s, d, "kendall") is not None]
    caption = ("Parameter-space scores against N, the number of parameter tensors they use "
               "(one point per architecture); the first column is test accuracy against N. "
               "The paper defines WPJS and WPJSI with a factor 1/N in front of a weighted mean "
               "that is itself bounded in [0, 1], so they shrink as N grows, whereas PJS is a "
               "plain mean. Spearman rho with N: " + "; ".join(notes) + "."
               + (" Kendall tau with test accuracy [95% CI]: " + "; ".join(taus) + "."
                  if taus else ""))
    return FigureResult(name, style.save_figure(fig, out_dir, name, caption))
