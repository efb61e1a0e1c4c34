"""How every score compares, in one figure (``compare_scores``): one row per score, ranked
by the statistics' comparison table (``stats.comparison``), with a Kendall tau panel per
data set sharing the score axis, then the accuracy each score retrieves from a sample and
its seconds per architecture. The scores ``stats.highlight`` names are shaded.

The rows are the comparison table's ranks, so the figure, the table and the paper's
section cannot disagree on the order. It stays readable with 45 and more scores: a row is
a fixed height, names are written once (left), and every panel reads along the same row.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from zeroshot_nas.plots import style
from zeroshot_nas.plots.base import FigureResult, skip
from zeroshot_nas.stats import analysis, comparison, names

NAME = "compare_scores"
ROW_INCHES = 0.16  # height of one score's row
MARGIN_INCHES = 1.45  # titles, axis labels and the legend
HIGHLIGHT_BAND = style.PALETTE[6]  # Okabe-Ito yellow, behind the highlighted rows
HIGHLIGHT_TEXT = style.PALETTE[5]  # vermillion names
LOWER_MARK = " ↓"  # after the name of a score where lower is better


def score_label(score: str, higher_is_better: bool) -> str:
    """The score's registry name (the one a configuration and ``stats.highlight`` use, not
    one paper's label for it), ↓ marking lower is better."""
    return score + ("" if higher_is_better else LOWER_MARK)


def _ranked(table: pd.DataFrame) -> pd.DataFrame:
    """One row per score in rank order: name, direction, highlight."""
    return (table.drop_duplicates("score").sort_values("rank")
            [["score", "rank", "higher_is_better", "highlighted", comparison.SORT_KEY]]
            .reset_index(drop=True))


def _per_dataset(table: pd.DataFrame, dataset: str, order: list[str]) -> pd.DataFrame:
    return table[table["dataset"] == dataset].set_index("score").reindex(order)


def _offset(i: int, n: int) -> float:
    """Vertical offset of the ``i``-th of ``n`` data sets within a score's row."""
    return style.dodge(i, n, width=0.6)


def _kendall_panel(ax, rows: pd.DataFrame, y: np.ndarray, dataset: str, i: int) -> None:
    k = rows["kendall"].to_numpy(dtype=float)
    err = np.vstack([k - rows["kendall_low"].to_numpy(dtype=float),
                     rows["kendall_high"].to_numpy(dtype=float) - k])
    colour = style.dataset_colour(dataset, i)
    ax.axvline(0.0, color="0.5", lw=0.8, zorder=0)
    ax.errorbar(k, y, xerr=np.where(np.isfinite(err), err, 0.0), fmt="o", ms=3.2,
                color=colour, ecolor=colour, elinewidth=1.0, capsize=0)
    ax.set_title(style.dataset_label(dataset))
    ax.set_xlabel("Kendall τ")


def _best_panel(ax, table: pd.DataFrame, y: np.ndarray, order: list[str],
                datasets: list[str]) -> None:
    for i, dataset in enumerate(datasets):
        rows = _per_dataset(table, dataset, order)
        gap = rows["best_gap"].to_numpy(dtype=float)
        std = rows["best_test_std"].to_numpy(dtype=float)
        colour = style.dataset_colour(dataset, i)
        ax.errorbar(gap, y + _offset(i, len(datasets)),
                    xerr=np.where(np.isfinite(std), std, 0.0), fmt="o", ms=2.8,
                    color=colour, ecolor=colour, elinewidth=0.8, capsize=0)
    _say_when_empty(ax, table["best_gap"], "no best-of-N statistics")
    _from_zero(ax, table["best_gap"] + table["best_test_std"].fillna(0.0))
    sizes = table["best_sample_size"].dropna()
    ax.set_title(f"best of {int(sizes.iloc[0])}" if len(sizes) else "best of N")
    ax.set_xlabel("points below\nthe best")


def _time_panel(ax, table: pd.DataFrame, y: np.ndarray, order: list[str],
                datasets: list[str]) -> bool:
    """Seconds per architecture; filled dots standalone, hollow fused. Returns whether the
    axis is logarithmic."""
    values = table["seconds"].to_numpy(dtype=float)
    for i, dataset in enumerate(datasets):
        rows = _per_dataset(table, dataset, order)
        colour = style.dataset_colour(dataset, i)
        for mode, face in (("standalone", colour), ("fused", "none")):
            mask = (rows["seconds_mode"] == mode).to_numpy()
            ax.plot(rows["seconds"].to_numpy(dtype=float)[mask],
                    (y + _offset(i, len(datasets)))[mask], "o", ms=3.0, ls="none",
                    mec=colour, mfc=face, mew=0.9)
    _say_when_empty(ax, table["seconds"], "no timings in this run")
    log = style.spans_decades(values[np.isfinite(values)], 10)
    if log:
        ax.set_xscale("log")
        style.readable_log_axis(ax.xaxis)
    else:
        _from_zero(ax, table["seconds"])
    ax.set_title("time")
    ax.set_xlabel("s / architecture" + ("\n(log scale)" if log else ""))
    return log


def _say_when_empty(ax, values: pd.Series, text: str) -> None:
    """A panel with nothing to draw says why instead of showing bare axes."""
    if not np.isfinite(values.to_numpy(dtype=float)).any():
        ax.text(0.5, 0.5, text, ha="center", va="center", rotation=90, fontsize=7,
                transform=ax.transAxes)


def _from_zero(ax, values: pd.Series) -> None:
    """An axis from 0 to a little beyond the largest value (no dot on the frame)."""
    v = values.to_numpy(dtype=float)
    top = float(v[np.isfinite(v)].max()) if np.isfinite(v).any() else 0.0
    ax.set_xlim(0.0, top * 1.08 if top > 0 else 1.0)


def _shared_kendall_limits(axes, table: pd.DataFrame) -> None:
    bounds = table[["kendall_low", "kendall_high", "kendall"]].to_numpy(dtype=float)
    bounds = bounds[np.isfinite(bounds)]
    lo = min(float(bounds.min()) if bounds.size else 0.0, 0.0)
    hi = max(float(bounds.max()) if bounds.size else 0.0, 0.0)
    pad = max(hi - lo, 0.1) * 0.05
    for ax in axes:
        ax.set_xlim(max(-1.0, lo - pad), min(1.0, hi + pad))


def _rows_and_labels(axes, ranked: pd.DataFrame, y: np.ndarray) -> None:
    """Score names on the left, best rank on top; highlighted rows shaded across every
    panel, their names bold."""
    labels = [score_label(s, bool(h)) for s, h in
              zip(ranked["score"], ranked["higher_is_better"], strict=True)]
    axes[0].set_yticks(y, labels)
    axes[0].set_ylim(len(y) - 0.5, -0.5)
    for tick, lit in zip(axes[0].get_yticklabels(), ranked["highlighted"], strict=True):
        if lit:
            tick.set_fontweight("bold")
            tick.set_color(HIGHLIGHT_TEXT)
    for ax in axes:
        ax.grid(axis="y", visible=False)
        for row in y[ranked["highlighted"].to_numpy(dtype=bool)]:
            ax.axhspan(row - 0.5, row + 0.5, color=HIGHLIGHT_BAND, alpha=0.35, lw=0, zorder=0)


def _legend(fig, datasets: list[str], height: float, fused: bool) -> None:
    handles = [Line2D([], [], marker="o", ls="none", color=style.dataset_colour(d, i),
                      label=style.dataset_label(d)) for i, d in enumerate(datasets)]
    if fused:
        handles.append(Line2D([], [], marker="o", ls="none", mfc="none", mec="0.3",
                              label="fused time (no standalone timing)"))
    fig.legend(handles=handles, loc="upper center", ncol=len(handles), frameon=False,
               bbox_to_anchor=(0.5, 1.0))
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.3 / height))


def compare_scores(stats: dict[str, pd.DataFrame], out_dir: Path | str,
                   run: dict | None = None, summary: dict | None = None) -> FigureResult:
    """Every score of the run, ranked: Kendall tau with its interval per data set, best of N
    and seconds per architecture (module docstring). ``run``: what the scores table says
    about the protocol (:func:`zeroshot_nas.plots.figures.run_protocol`); ``summary``: the
    statistics' ``summary.json``; both only feed the caption."""
    table = stats.get("comparison", pd.DataFrame())
    if table.empty:
        return skip(NAME, "no comparison table in the statistics")
    ranked = _ranked(table)
    order = list(ranked["score"])
    datasets = analysis.ordered_datasets(table["dataset"])
    y = np.arange(len(order), dtype=float)
    style.apply_style()
    height = max(3.0, ROW_INCHES * len(order) + MARGIN_INCHES)
    fig, axes = plt.subplots(1, len(datasets) + 2, sharey=True, squeeze=False,
                             figsize=(7.4, height),
                             gridspec_kw={"width_ratios": [1.0] * len(datasets) + [0.85, 0.85]})
    axes = list(axes[0])
    for i, dataset in enumerate(datasets):
        _kendall_panel(axes[i], _per_dataset(table, dataset, order), y, dataset, i)
    _shared_kendall_limits(axes[:len(datasets)], table)
    _best_panel(axes[-2], table, y, order, datasets)
    log = _time_panel(axes[-1], table, y, order, datasets)
    if len(order) > 30:
        axes[0].tick_params(axis="y", labelsize=7)
    _rows_and_labels(axes, ranked, y)
    _legend(fig, datasets, height, bool((table["seconds_mode"] == "fused").any()))
    optimum = stats.get("benchmark_best", pd.DataFrame())
    source = ("benchmark" if optimum.empty or "source" not in optimum.columns
              else " / ".join(sorted(set(optimum["source"]))))
    caption = compare_caption(table, datasets, run or {}, summary or {}, log, source)
    return FigureResult(NAME, style.save_figure(fig, out_dir, NAME, caption))


def _scale_sentence(table: pd.DataFrame, datasets: list[str], run: dict, summary: dict) -> str:
    n_archs = summary.get("n_archs") or {
        d: int(table.loc[table["dataset"] == d, "n"].max()) for d in datasets}
    per = "; ".join(f"{style.dataset_label(d)} {n_archs.get(d, 'n/a')}" for d in datasets)
    batch = ", ".join(run.get("batch_size", [])) or "not recorded"
    seeds = summary.get("seeds") or run.get("seeds") or []
    rule = summary.get("seed_aggregation", {}).get("rule")
    seeding = (f"scoring seed {seeds[0]}" if len(seeds) == 1 else
               f"scoring seeds {', '.join(map(str, seeds))}, combined per architecture before "
               f"ranking (stats.seed_aggregation: {rule or 'not recorded'})" if seeds
               else "scoring seeds not recorded")
    boot = summary.get("bootstrap")
    level = round(100 * float(summary.get("confidence", 0.95)))
    paths = summary.get("require_path") or {}
    dropped = ("; ".join(f"{style.dataset_label(d)} {n}" for d, n in paths["dropped"].items())
               if paths.get("required") and paths.get("dropped") else "")
    return (f"Scale: {len(table['score'].unique())} scores; architectures per data set: {per}; "
            f"batch {batch}; {seeding}."
            + (f" Architectures without a path from input to output were dropped before "
               f"every statistic (stats.require_path: {dropped})." if dropped else "")
            + f" Bars: {level}% percentile-bootstrap intervals"
            + (f" ({boot} resamples)." if boot else "."))


def _nonfinite_sentence(table: pd.DataFrame) -> str:
    bad = table[table["n_nonfinite"].fillna(0) > 0]
    policy = ("Non-finite scores (NaN, ±inf, errors) are ranked last, as the worst "
              "architectures, in every τ")
    if bad.empty:
        return policy + "; no score had any in this run."
    worst = bad.sort_values(["n_nonfinite", "score"], ascending=[False, True]).iloc[0]
    return (f"{policy}; {bad['score'].nunique()} score(s) had some (most: "
            f"{worst['score']}, {int(worst['n_nonfinite'])} of {int(worst['n'])} "
            f"on {style.dataset_label(worst['dataset'])}; every count is in the table).")


def _best_and_time_sentence(table: pd.DataFrame, stats_optimum: str, log: bool) -> str:
    best = table.dropna(subset=["best_runs"])
    text = ""
    if not best.empty:
        r = best.iloc[0]
        text = (f"Best of N: the test accuracy of the top-scored architecture of "
                f"{names.counted(int(r['best_runs']), 'draw')} of {int(r['best_sample_size'])} "
                f"from the {int(r['best_pool_size'])} scored, as points below the highest test "
                f"accuracy of the {stats_optimum} (mean; bars one standard deviation over "
                "draws). ")
    timed = table.dropna(subset=["seconds"])
    if timed.empty:
        return text + "No timings in this run."
    modes = sorted(set(timed["seconds_mode"]))
    n = sorted({int(v) for v in timed["seconds_n"]})
    untimed = sorted(set(table["score"]) - set(timed["score"]))
    return _ended(text + f"Time: median seconds per architecture ({' or '.join(modes)} runs, "
                  f"{'/'.join(map(str, n))} architectures per timed data set"
                  + ("; log axis" if log else "") + ")"
                  + ("; hollow dots are fused-run shares of scores without a standalone timing"
                     if "fused" in modes else "")
                  + (f"; not timed: {', '.join(untimed)}"
                     if untimed else ""))


def _ended(sentence: str) -> str:
    """``sentence`` with one full stop (a list may end in an abbreviation: "Rank comb.")."""
    return sentence if sentence.endswith(".") else sentence + "."


def _highlight_sentence(ranked: pd.DataFrame, table: pd.DataFrame) -> str:
    lit = ranked[ranked["highlighted"]]
    if lit.empty:
        return "No score is highlighted (stats.highlight names your own)."
    parts = []
    for r in lit.itertuples():
        rows = table[(table["score"] == r.score) & table["kendall"].notna()]
        taus = ", ".join(f"{style.dataset_label(d)} {k:.2f}"
                         for d, k in zip(rows["dataset"], rows["kendall"], strict=True))
        parts.append(f"{r.score} (rank {r.rank} of {len(ranked)}; τ "
                     f"{taus or 'none'})")
    return "Highlighted (stats.highlight; shaded row, bold name): " + "; ".join(parts) + "."


def compare_caption(table: pd.DataFrame, datasets: list[str], run: dict, summary: dict,
                    log: bool, optimum: str = "benchmark") -> str:
    """The figure's caption: what is drawn, the order, the scale, the non-finite policy.
    ``optimum`` says where the best accuracy is from (the benchmark, or the scored sample)."""
    ranked = _ranked(table)
    lower = [s for s, h in zip(ranked["score"], ranked["higher_is_better"], strict=True)
             if not h]
    no_tau = [s for s, k in zip(ranked["score"], ranked[comparison.SORT_KEY], strict=True)
              if not np.isfinite(k)]
    return " ".join(filter(None, [
        f"Every score of this run, one row each, ranked by {comparison.SORT_DESCRIPTION} "
        "(best on top; ties in name order). Left panels: Kendall τ between score and test "
        "accuracy on each data set, in the score's direction"
        + (f" (sign flipped for the scores marked ↓, where lower is better: "
           f"{', '.join(lower)})" if lower else "") + ", so further right is better for every "
        "score.",
        _scale_sentence(table, datasets, run, summary),
        _nonfinite_sentence(table),
        (_ended(f"No Kendall τ (fewer than three finite values, listed last): "
                f"{', '.join(no_tau)}") if no_tau else ""),
        _best_and_time_sentence(table, optimum, log),
        _highlight_sentence(ranked, table),
    ]))
