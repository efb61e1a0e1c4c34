"""Correlation tables drawn with their bootstrap intervals: RB Table 1 and SSNR Table 1 (with
the Spearman values SSNR prints under its Figure 2), our value beside the printed one."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from zeroshot_nas.plots import style
from zeroshot_nas.plots.base import FigureResult, correlation, skip
from zeroshot_nas.stats import analysis, names

METHOD_TITLES = {"kendall": "Kendall tau", "spearman": "Spearman rho"}


def _published() -> dict:
    from zeroshot_nas.paper.published import load_published

    try:
        return load_published()
    except (FileNotFoundError, ValueError):
        return {}


def rank_based_paper_values(published: dict) -> dict[tuple[str, str, str], float]:
    """(score, method, data set) -> value printed in RB Table 1."""
    block = published.get("rank_based_table1", {})
    out = {}
    for score, v in block.get("values", {}).items():
        for method in ("kendall", "spearman"):
            for dataset, value in zip(block["datasets"], v[method], strict=True):
                if value is not None:
                    out[(score, method, dataset)] = float(value)
    return out


def ssnr_paper_values(published: dict) -> dict[tuple[str, str, str], float]:
    """(score, method, data set) -> value printed by SSNR (Table 1 and under Figure 2)."""
    out = {}
    table = published.get("ssnr_table1", {})
    for score, v in table.get("values", {}).items():
        for dataset, value in zip(table["datasets"], v["kendall"], strict=True):
            out[(score, "kendall", dataset)] = float(value)
    sp = published.get("ssnr_spearman", {})
    for score, value in sp.get("values", {}).items():
        out[(score, "spearman", sp["dataset"])] = float(value)
    return out


def _interval_panel(ax, stats, scores: dict[str, str], datasets: list[str], method: str,
                    paper: dict) -> int:
    """One method's panel: a row per score, a dot and interval per data set, a cross per
    printed value; returns how many printed values it shows."""
    ys = np.arange(len(scores))[::-1]
    shown = 0
    labels = list(scores.values())
    for i, dataset in enumerate(datasets):
        off = style.dodge(i, len(datasets))
        for y, score in zip(ys, scores, strict=True):
            row = correlation(stats, score, dataset, method)
            colour = style.dataset_colour(dataset, i)
            if row is not None and np.isfinite(row["value"]):
                ax.errorbar(row["value"], y + off, fmt="o", ms=4, color=colour,
                            xerr=[[max(0.0, row["value"] - row["ci_low"])],
                                  [max(0.0, row["ci_high"] - row["value"])]]
                            if np.isfinite(row["ci_low"]) else None,
                            capsize=2, label=style.dataset_label(dataset) if y == ys[0] else None)
            if (score, method, dataset) in paper:
                shown += 1
                ax.plot(paper[(score, method, dataset)], y + off, "x", ms=6, mew=1.8,
                        color="black", label="paper" if shown == 1 else None)
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_xlim(-1, 1)
    # labels every 0.5 (at 0.25 steps the nine labels of a 3.5-inch panel run together)
    ax.set_xticks([-1.0, -0.5, 0.0, 0.5, 1.0], ["−1", "−0.5", "0", "0.5", "1"])
    ax.set_xticks(np.arange(-0.75, 1.0, 0.5), minor=True)
    ax.set_yticks(ys, labels)
    ax.set_title(METHOD_TITLES[method])
    ax.set_xlabel(f"{METHOD_TITLES[method]} with test accuracy")
    return shown


def correlation_intervals(stats: dict[str, pd.DataFrame], out_dir: Path, name: str,
                          order: dict[str, str], paper: dict, what: str) -> FigureResult:
    """Kendall and Spearman of each score of ``order`` (score -> the paper's label) the run
    has, per data set, with the 95% bootstrap interval, and the paper's printed values as
    crosses."""
    corr = stats.get("correlations", pd.DataFrame())
    if corr.empty:
        return skip(name, "no correlation statistics")
    scores = {s: order[s] for s in names.present(order, corr["score"])}
    if not scores:
        return skip(name, f"none of {list(order)} has correlations in this run")
    datasets = analysis.ordered_datasets(corr[corr["score"].isin(scores)]["dataset"])
    style.apply_style()
    rows = 0.3 * len(scores) * max(1.0, len(datasets) / 1.5)
    fig, axes = plt.subplots(1, 2, figsize=(7.0, rows + 1.3), sharey=True)
    shown = sum(_interval_panel(ax, stats, scores, datasets, m, paper)
                for ax, m in zip(axes, ("kendall", "spearman"), strict=True))
    handles, labels = axes[0].get_legend_handles_labels()
    h2, l2 = axes[1].get_legend_handles_labels()
    extra = [(h, lab) for h, lab in zip(h2, l2, strict=True) if lab not in labels]
    fig.legend(handles + [h for h, _ in extra], labels + [lab for _, lab in extra],
               loc="lower center", ncol=len(datasets) + 1, bbox_to_anchor=(0.5, 1.0),
               frameon=False)
    fig.tight_layout()
    sel = corr[(corr["subset"] == "all") & (corr["method"] == "kendall")
               & (corr["target"] == "test_acc") & (corr["policy"] == "kept_worst")]
    sizes = sel.groupby("dataset")["n"].max()
    caption = (f"{what}: Kendall tau-b (left) and Spearman rho (right) between each score and "
               "test accuracy, one dot per data set with its 95% percentile-bootstrap interval "
               "(non-finite scores ranked last; architectures: "
               + ", ".join(f"{int(sizes[d])} on {style.dataset_label(d)}"
                           for d in datasets if d in sizes.index) + ")."
               + (f" Crosses: the {shown} value(s) the paper prints." if shown
                  else " The paper prints no value for these scores."))
    return FigureResult(name, style.save_figure(fig, out_dir, name, caption))


def rb_table1(stats: dict[str, pd.DataFrame], out_dir: Path,
              published: dict | None = None) -> FigureResult:
    """RB Table 1 drawn: every Table 1 score, NI and the rank combination."""
    published = _published() if published is None else published
    return correlation_intervals(stats, out_dir, "rb_table1", names.RANK_BASED,
                                 rank_based_paper_values(published),
                                 "RB Table 1 drawn (the rank combination is a rank sum, smaller "
                                 "is better, so its correlations are negative when it works)")


def ssnr_table1(stats: dict[str, pd.DataFrame], out_dir: Path,
                published: dict | None = None) -> FigureResult:
    """SSNR's correlations drawn: saliency sum (synflow), overall and layer-wise SSNR."""
    published = _published() if published is None else published
    return correlation_intervals(stats, out_dir, "ssnr_table1", names.SSNR,
                                 ssnr_paper_values(published), "SSNR correlations drawn")
