"""What every figure function shares: its result type, the skip note, the score table of one
data set, the statistics it quotes, and the counts of points a figure leaves out."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from zeroshot_nas.stats import analysis, names

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


def skip(name: str, why: str) -> FigureResult:
    return FigureResult(name=name, note=f"{name}: not drawn: {why}")


def scored_with_accuracy(df: pd.DataFrame, dataset: str) -> tuple[pd.DataFrame | None, str]:
    """The wide per-architecture score table of ``dataset``, or why a figure cannot use it."""
    rows = analysis.quality_rows(df)
    if dataset not in set(rows["dataset"]):
        return None, f"data set {dataset} not scored"
    wide, _ = analysis.wide_scores(rows, dataset)
    if not wide["test_acc"].notna().any():
        return None, f"no test accuracies on {dataset}"
    return wide, ""


def fmt(v: float | None, digits: int = 2) -> str:
    return "n/a" if v is None or not np.isfinite(v) else f"{v:.{digits}f}"


def ps_scores(available) -> tuple[list[str], str]:
    """The parameters-scoring scores of the run in the paper's order, or every scored one
    (with a note for the caption) when the run has none of them."""
    ps = names.present(names.PARAMETERS_SCORING, available)
    if ps:
        return ps, ""
    return sorted(s for s in available if s != analysis.RANK_COMBINATION), (
        " None of the parameters-scoring scores was in this run; all scored proxies are shown.")


def with_combination(scores: list[str], available) -> list[str]:
    return [*scores, *names.present([analysis.RANK_COMBINATION], available)]


def correlation(stats: dict[str, pd.DataFrame] | None, score: str, dataset: str, method: str,
                target: str = "test_acc", policy: str = "kept_worst",
                subset: str = "all") -> pd.Series | None:
    """One row of the statistics' correlation table (value, ci_low, ci_high, n), or None."""
    corr = (stats or {}).get("correlations", pd.DataFrame())
    return analysis.correlation_row(corr, score, dataset, method, target, policy, subset)


def with_interval(row: pd.Series | None, digits: int = 2) -> str:
    """``0.61 [0.55, 0.66]``: a correlation with its bootstrap interval, as text."""
    if row is None:
        return "n/a"
    text = fmt(row["value"], digits)
    if np.isfinite(row["ci_low"]) and np.isfinite(row["ci_high"]):
        text += f" [{fmt(row['ci_low'], digits)}, {fmt(row['ci_high'], digits)}]"
    return text


def has_path(arch: str) -> bool:
    """Whether an NB201 cell connects its input to its output (:func:`spaces.nb201.has_path`);
    strings that are not NB201 cells (the size space's) count as connected."""
    from zeroshot_nas.spaces import ArchError, nb201

    try:
        return nb201.has_path(arch)
    except ArchError:
        return True


def left_out_text(wide: pd.DataFrame, score: str, plotted: np.ndarray,
                  reason_transform: str = "") -> str:
    """Why the architectures of ``wide`` missing from a panel of ``score`` were left out:
    non-finite score (how many of them have no path from input to output), no accuracy,
    or a transform that is not finite (``reason_transform``). Empty when none was."""
    raw = wide[score].to_numpy(dtype=float)
    acc = wide["test_acc"].to_numpy(dtype=float)
    missing = ~plotted
    if not missing.any():
        return ""
    parts = []
    bad = missing & ~np.isfinite(raw)
    if bad.any():
        cut = sum(not has_path(a) for a in wide.index[bad])
        where = ("all without a path from input to output" if cut == bad.sum()
                 else f"{cut} of them without a path from input to output" if cut else "")
        parts.append(f"{int(bad.sum())} with a non-finite score" + (f", {where}" if where else ""))
    noacc = missing & np.isfinite(raw) & ~np.isfinite(acc)
    if noacc.any():
        parts.append(f"{int(noacc.sum())} without accuracy")
    other = missing & np.isfinite(raw) & np.isfinite(acc)
    if other.any():
        parts.append(f"{int(other.sum())} {reason_transform or 'not drawable'}")
    return f"{int(missing.sum())} architecture(s): " + "; ".join(parts)


def left_out_sentence(reasons: dict[str, str]) -> str:
    """One sentence for a caption from {score label: :func:`left_out_text`}, the scores
    with the same reason named together."""
    groups: dict[str, list[str]] = {}
    for label, reason in reasons.items():
        if reason:
            groups.setdefault(reason, []).append(label)
    if not groups:
        return "No architecture was left out."
    return "Left out: " + "; ".join(f"{', '.join(labels)}: {reason}"
                                    for reason, labels in groups.items()) + "."


def tensors_used(extra: object) -> float:
    """The number of parameter tensors a parameter-space score used (its ``extra``)."""
    try:
        d = json.loads(extra) if isinstance(extra, str) else extra
        return float(d["tensors_used"])
    except (TypeError, KeyError, ValueError):
        return float("nan")
