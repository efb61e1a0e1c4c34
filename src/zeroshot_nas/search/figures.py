"""Anytime curves: the 200-epoch test accuracy of each method's incumbent against the search
seconds charged so far (top row) and against evaluations (bottom row), mean over runs, one
column per data set. Training-based searches appear on the seconds axis only where their
training time is simulated (CIFAR-10); every method appears on the evaluations axis.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from .tables import DATASET_TITLES, DATASETS, TRAINING_BASED, _method_sort_key  # noqa: E402

GRID_POINTS = 200


def _largest_n_only(runs: pd.DataFrame) -> pd.DataFrame:
    """Random search with a score: keep the largest N per score (its trace contains the
    smaller samples' behaviour), so that the figure stays readable."""
    rs = runs["algorithm"] == "random_score"
    if not rs.any():
        return runs
    base = runs.loc[rs, "method"].str.split(" (", regex=False).str[0]
    sizes = runs.loc[rs, "score_evals"]
    biggest = sizes.groupby(base).transform("max")
    keep = pd.Series(True, index=runs.index)
    keep[rs] = sizes == biggest
    return runs[keep]


def anytime_curve(traces: list[list], axis: int, grid: np.ndarray) -> np.ndarray:
    """Mean over runs of the incumbent's test accuracy at each grid value of ``axis``
    (0 = evaluations, 1 = seconds); NaN until every run has an incumbent."""
    values = np.full((len(traces), len(grid)), np.nan)
    for i, trace in enumerate(traces):
        xs = np.array([p[axis] for p in trace], dtype=float)
        ys = np.array([np.nan if p[3] is None else p[3] for p in trace], dtype=float)
        idx = np.searchsorted(xs, grid, side="right") - 1
        ok = idx >= 0
        values[i, ok] = ys[idx[ok]]
    with np.errstate(all="ignore"):
        mean = values.mean(axis=0)
    return mean


def _grid(traces: list[list], axis: int) -> np.ndarray:
    xs = np.array([p[axis] for t in traces for p in t], dtype=float)
    xs = xs[np.isfinite(xs) & (xs > 0)]
    if xs.size == 0:
        return np.array([1.0])
    lo, hi = xs.min(), xs.max()
    if hi <= lo:
        return np.array([lo])
    return np.geomspace(lo, hi, GRID_POINTS)


def plot_anytime(
    runs: pd.DataFrame,
    space: str,
    out_stem: str | Path,
    optimum: dict[str, tuple[float, float]] | None = None,
) -> list[Path]:
    """Write ``<out_stem>.png`` and ``.pdf``; only runs with accuracies are drawn."""
    sub = runs[(runs["space"] == space) & np.isfinite(runs["test_acc"].astype(float))]
    if sub.empty:
        raise ValueError(f"no search runs with accuracies for space {space!r}: nothing to plot")
    sub = _largest_n_only(sub)
    datasets = [d for d in DATASETS if d in set(sub["dataset"])]
    methods = sorted(
        {(a, m) for a, m in zip(sub["algorithm"], sub["method"], strict=True)},
        key=lambda am: _method_sort_key(*am),
    )
    palette = dict(zip(methods, sns.color_palette("colorblind", len(methods)), strict=True))
    fig, axes = plt.subplots(2, len(datasets), figsize=(4.2 * len(datasets), 6.4), squeeze=False)
    for col, ds in enumerate(datasets):
        dsub = sub[sub["dataset"] == ds]
        for row, (axis, label) in enumerate(((1, "search seconds charged"), (0, "evaluations"))):
            ax = axes[row][col]
            _draw_curves(ax, dsub, methods, palette, axis)
            if optimum and ds in optimum and math.isfinite(optimum[ds][1]):
                ax.axhline(
                    optimum[ds][1],
                    color="0.3",
                    linewidth=0.8,
                    linestyle=":",
                    label="benchmark optimum",
                )
            ax.set_xscale("log")
            ax.set_xlabel(label)
            if col == 0:
                ax.set_ylabel("test accuracy of incumbent (%)")
            if row == 0:
                ax.set_title(DATASET_TITLES[ds])
            ax.grid(True, which="major", alpha=0.3)
    _shared_legend(fig, axes)
    return _save(fig, Path(out_stem))


def _draw_curves(ax, dsub: pd.DataFrame, methods: list[tuple[str, str]], palette: dict,
                 axis: int) -> None:
    """One panel's anytime curves, one per method that has runs on this data set."""
    for algorithm, method in methods:
        msub = dsub[(dsub["algorithm"] == algorithm) & (dsub["method"] == method)]
        if msub.empty:
            continue
        # Seconds of a training-based search mean something only where training time is
        # simulated; elsewhere it was charged none and would look free.
        if axis == 1 and algorithm in TRAINING_BASED and not msub["time_simulated"].all():
            continue
        traces = [json.loads(t) for t in msub["trace"]]
        grid = _grid(traces, axis)
        curve = anytime_curve(traces, axis, grid)
        style = "-" if algorithm in TRAINING_BASED else "--"
        ax.step(
            grid,
            curve,
            where="post",
            linestyle=style,
            linewidth=1.6,
            color=palette[(algorithm, method)],
            label=method,
        )


def _shared_legend(fig, axes: np.ndarray) -> None:
    """One legend below all panels, each label once, in the order the panels first show it."""
    handles, labels = {}, []
    for ax in axes.ravel():
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            if lab not in handles:
                handles[lab] = h
                labels.append(lab)
    fig.legend(
        [handles[lab] for lab in labels],
        labels,
        loc="lower center",
        ncol=min(len(labels), 5),
        frameon=False,
        fontsize="small",
    )
    # Room at the bottom for the legend: one more strip per extra legend row.
    fig.tight_layout(rect=(0, 0.06 + 0.03 * (len(labels) // 5), 1, 1))


def _save(fig, stem: Path) -> list[Path]:
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_suffix(".png"), stem.with_suffix(".pdf")]
    fig.savefig(paths[0], dpi=150)
    fig.savefig(paths[1])
    plt.close(fig)
    return paths
