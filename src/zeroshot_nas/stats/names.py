"""Which registry scores each paper's figures and tables show, in the papers' order, and
the labels the papers print for them."""

from __future__ import annotations

from collections.abc import Iterable

# The statistics' sum of ranks of stats.rank_combination (rank-based paper), a score of its own.
RANK_COMBINATION = "rank_combination"

# parameters-scoring: Table 1 / Figures 2-5 order and labels.
PARAMETERS_SCORING = {
    "js": "JS", "jsc": "JSC", "sns": "SNS", "snsc": "SNSC", "lns": "LNS", "lnsc": "LNSC",
    "mnjs": "MNJS", "mnjsc": "MNJSC", "pjs": "PJS", "pjsc": "PJSC", "wpjs": "WPJS",
    "wpjsi": "WPJSI",
}
# rank-based Table 1 rows (+ NI and the rank combination, as the issue asks).
RANK_BASED = {
    "ntk": "NTK", "ntk_rb": "NTK (RB code)", "snip": "Snip", "fisher": "Fisher", "grasp": "Grasp", "naswot": "NASWOT",
    "synflow": "SynFlow", "logsynflow": "LogSynFlow", "ni": "NI",
    RANK_COMBINATION: "Rank comb.",
}
# layerwise-ssnr Figure 2 panels: saliency sum, overall SSNR, layer-wise SSNR (synflow).
SSNR = {"synflow": "Saliency sum (synflow)", "ssnr": "Overall SSNR",
        "ssnr_layerwise": "Layer-wise SSNR"}
JACOBIAN = "jacob_cov"

ALL_LABELS = {**PARAMETERS_SCORING, **RANK_BASED, **SSNR, JACOBIAN: "jacob_cov (NWOT)"}


def label(score: str) -> str:
    """The paper's label of a score, else its registry name."""
    return ALL_LABELS.get(score, score)


def counted(n: int, noun: str) -> str:
    """"1 run", "5 runs": a count with its noun, for captions."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def present(order: Iterable[str], available: Iterable[str]) -> list[str]:
    """Scores of ``order`` that are in ``available``, in ``order``."""
    have = set(available)
    return [s for s in order if s in have]
