"""NWOT Figure 1 (histograms of the Jacobian correlations by accuracy band: panel (a) from a
NAS-Bench-101 run, (b) from NAS-Bench-201) and SSNR Figure 2 (saliency sum, overall and
layer-wise SSNR against accuracy)."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from zeroshot_nas.plots import style
from zeroshot_nas.plots.base import (
    FigureResult,
    correlation,
    has_path,
    left_out_sentence,
    left_out_text,
    scored_with_accuracy,
    skip,
    with_interval,
)
from zeroshot_nas.stats import analysis, names


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


def _jacobian_sample(df: pd.DataFrame, dataset: str):
    """(rows with a usable histogram and validation accuracy, their histograms, left-out
    sentence) of jacob_cov on ``dataset``, or a string saying why there are none."""
    if "extra" not in df.columns:
        return "the scores table has no 'extra' column"
    rows = analysis.quality_rows(df)
    sub = rows[(rows["score"] == names.JACOBIAN) & (rows["dataset"] == dataset)]
    if sub.empty:
        return f"{names.JACOBIAN} not scored on {dataset}"
    sub = sub.sort_values("seed").drop_duplicates("arch")
    hists = [_histogram(e) for e in sub["extra"]]
    keep = np.array([h is not None for h in hists]) & np.isfinite(sub["valid_acc"].to_numpy())
    dropped = sub["arch"].to_numpy()[~keep]
    note = ""
    if dropped.size:
        cut = sum(not has_path(a) for a in dropped)
        note = (f" Left out: {dropped.size} architecture(s) without a usable histogram or "
                "validation accuracy" + (f" ({cut} of them without a path from input to "
                                         "output)" if cut else "") + ".")
    hists = [h for h, k in zip(hists, keep, strict=True) if k]
    return sub[keep].reset_index(drop=True), hists, note


def _draw_bands(axes, hists, acc: np.ndarray, edges: np.ndarray, seed: int) -> None:
    per_band, n_bands = axes.shape
    band = np.clip(np.searchsorted(edges, acc, side="right") - 1, 0, n_bands - 1)
    rng = np.random.default_rng(seed)
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
        ax.set_xlabel("correlation")


def nwot_fig1_jacobian_histograms(
    df: pd.DataFrame, out_dir: Path, dataset: str, n_bands: int = 5, per_band: int = 4,
    seed: int = 0, stats: dict[str, pd.DataFrame] | None = None,
) -> FigureResult:
    """Figure 1(b) (NAS-Bench-201) or, for a run on NAS-Bench-101 cells, Figure 1(a):
    histograms of the Σ_J off-diagonal entries of untrained architectures, in columns by
    trained validation-accuracy band (band edges: accuracy quantiles)."""
    nb101 = "space" in df.columns and set(df["space"]) == {"nb101"}
    name = f"nwot_fig1{'a' if nb101 else ''}_{dataset}"
    space_words = " of NAS-Bench-101 cells (a subset of the benchmark)" if nb101 else ""
    sample = _jacobian_sample(df, dataset)
    if isinstance(sample, str):
        return skip(name, sample)
    sub, hists, left_out = sample
    if len(sub) < n_bands:
        return skip(name, f"only {len(sub)} {names.JACOBIAN} histograms on {dataset}")
    acc = sub["valid_acc"].to_numpy(dtype=float)
    edges = np.quantile(acc, np.linspace(0, 1, n_bands + 1))
    style.apply_style()
    fig, axes = plt.subplots(per_band, n_bands, figsize=(1.6 * n_bands, 1.1 * per_band + 0.6),
                             squeeze=False, sharex=True)
    _draw_bands(axes, hists, acc, edges, seed)
    row = correlation(stats, names.JACOBIAN, dataset, "kendall", target="valid_acc")
    tau = (f" Kendall tau of {names.JACOBIAN} with validation accuracy on this data set "
           f"[95% CI]: {with_interval(row)} (n = {int(row['n'])})." if row is not None else "")
    fig.suptitle(rf"$\Sigma_J$ off-diagonal entries, {'NAS-Bench-101, ' if nb101 else ''}"
                 f"{style.dataset_label(dataset)}, by validation accuracy band", fontsize=9)
    fig.tight_layout()
    caption = ("Histograms of the correlations between per-image input Jacobians (off-diagonal "
               f"entries of Σ_J) for untrained architectures{space_words}, "
               f"{style.dataset_label(dataset)}, "
               f"sorted into columns by trained validation accuracy (column ranges are the "
               f"{n_bands}-quantiles of the {len(sub)} scored architectures; the number in each "
               f"panel is its accuracy). Up to {per_band} architectures per column, seeded "
               f"choice (seed {seed}); y axes scaled individually, as in the paper."
               + left_out + tau)
    return FigureResult(name, style.save_figure(fig, out_dir, name, caption))


def _log_axis(x: np.ndarray, archs: np.ndarray, label: str) -> tuple[np.ndarray, str, str]:
    """x positions, axis label and caption note: log10 when the positive values span more
    than three decades and none is negative; exact zeros then sit one decade left of the
    smallest positive value (said in the note, with how many have no input-output path)."""
    pos = x[x > 0]
    if not (pos.size and x.min() >= 0 and pos.max() / pos.min() > 1e3):
        return x, "score", ""
    zero_at = float(np.floor(np.log10(pos.min())) - 1)
    zeros = x == 0
    with np.errstate(divide="ignore"):
        out = np.where(zeros, zero_at, np.log10(np.where(zeros, 1.0, x)))
    note = f"{label}: log10 axis"
    if zeros.any():
        cut = sum(not has_path(a) for a in archs[zeros])
        note += (f"; {int(zeros.sum())} architecture(s) score exactly 0"
                 + (f" ({cut} without a path from input to output)" if cut else "")
                 + f" and are drawn as open circles at x = {zero_at:.0f}, one decade left of "
                 "the smallest positive score")
    return out, "log10(score)", note


def _ssnr_panel(ax, wide: pd.DataFrame, score: str, stats, dataset: str) -> tuple[str, str]:
    x = wide[score].to_numpy(dtype=float)
    y = wide["test_acc"].to_numpy(dtype=float)
    ok = np.isfinite(x) & np.isfinite(y)
    xv, xlabel, note = _log_axis(x[ok], wide.index.to_numpy()[ok], names.label(score))
    zero = x[ok] == 0 if xlabel != "score" else np.zeros(ok.sum(), dtype=bool)
    ax.plot(xv[~zero], y[ok][~zero], ".", ms=3, alpha=0.5, color=style.POINT_COLOUR)
    if zero.any():
        ax.plot(xv[zero], y[ok][zero], "o", ms=4, mfc="none", color=style.PALETTE[5])
    title = names.label(score)
    for method, sym in (("spearman", "rho"), ("kendall", "tau")):
        row = correlation(stats, score, dataset, method)
        if row is not None:
            title += f"\n{sym} = {with_interval(row, 3)}"
    ax.set_title(title, fontsize=8)
    ax.set_xlabel(xlabel)
    ax.xaxis.set_major_locator(MaxNLocator(4))
    if xlabel == "score":  # raw SSNR runs to 1e6: a power-of-ten offset, not long labels
        ax.ticklabel_format(axis="x", style="sci", scilimits=(-2, 3))
    return note, left_out_text(wide, score, ok)


def ssnr_fig2_score_accuracy(
    df: pd.DataFrame, out_dir: Path, dataset: str, stats: dict[str, pd.DataFrame] | None = None
) -> FigureResult:
    """Figure 2: models in score–accuracy space for saliency sum (synflow), overall SSNR and
    layer-wise SSNR, with Spearman ρ and Kendall τ (95% intervals) in each panel's title;
    every panel has the same accuracy range."""
    name = f"ssnr_fig2_{dataset}"
    wide, why = scored_with_accuracy(df, dataset)
    if why:
        return skip(name, why)
    scores = names.present(names.SSNR, wide.columns)
    if not scores:
        return skip(name, f"none of {list(names.SSNR)} scored on {dataset}")
    missing = [s for s in names.SSNR if s not in scores]
    style.apply_style()
    fig, axes = plt.subplots(1, len(scores), figsize=(2.4 * len(scores) + 0.6, 3.2),
                             squeeze=False, sharey=True)
    notes, left_out = [], {}
    for ax, score in zip(axes[0], scores, strict=True):
        note, left_out[names.label(score)] = _ssnr_panel(ax, wide, score, stats, dataset)
        notes += [note] if note else []
    acc = wide["test_acc"].to_numpy(dtype=float)
    drawn = np.isfinite(wide[scores].to_numpy(dtype=float)).any(axis=1) & np.isfinite(acc)
    lo, hi = acc[drawn].min(), acc[drawn].max()
    axes[0, 0].set_ylim(lo - 0.04 * (hi - lo + 1), hi + 0.04 * (hi - lo + 1))
    axes[0, 0].set_ylabel("test accuracy (%)")
    fig.tight_layout()
    caption = (f"Architectures in score-accuracy space on {style.dataset_label(dataset)}: "
               + ", ".join(names.label(s) for s in scores)
               + ". All use synflow per-parameter saliency. Every panel has the same accuracy "
               "range. Titles: Spearman rho and Kendall tau with test accuracy and their 95% "
               "bootstrap intervals (non-finite scores ranked last)."
               + "".join(f" {n}." for n in notes) + " " + left_out_sentence(left_out)
               + (f" Not scored in this run: {', '.join(missing)}." if missing else ""))
    return FigureResult(name, style.save_figure(fig, out_dir, name, caption))
