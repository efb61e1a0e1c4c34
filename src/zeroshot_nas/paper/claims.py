"""Claims of the papers checked against the run: the verdicts, the evidence helpers every
paper's claims use, and the table of one paper's claims. The claims themselves live in
their paper's module."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from zeroshot_nas.spaces.common import DATASET_TITLES
from zeroshot_nas.stats import analysis, names

from .latex import longtable, paragraph_column
from .tex import tex_escape

SUPPORTED, CONTRADICTED, NOT_SUPPORTED, UNTESTABLE = (
    "supported", "contradicted", "not supported", "not testable here")


@dataclass
class Claim:
    """A paper's claim, the numbers of this run that bear on it, and our verdict."""

    paper: str
    claim: str
    evidence: str
    verdict: str


def rows_by_dataset(stats, score: str, method: str = "kendall", target: str = "test_acc"):
    """The correlation rows of ``score`` (all architectures, non-finite ranked last) per
    data set, in the data sets' order; data sets without one are left out."""
    corr = stats.get("correlations", pd.DataFrame())
    if corr.empty:
        return {}
    datasets = analysis.ordered_datasets(corr["dataset"])
    found = {d: analysis.correlation_row(corr, score, d, method, target) for d in datasets}
    return {d: r for d, r in found.items() if r is not None}


def interval_text(row: pd.Series) -> str:
    return f"{row['value']:.2f} [{row['ci_low']:.2f}, {row['ci_high']:.2f}]"


def better_claim(stats, paper: str, claim: str, better: str, worse: list[str], method: str,
                 target: str = "test_acc", absolute: bool = False) -> Claim:
    """``better`` correlates more strongly with accuracy than every score of ``worse``, on
    every data set (|value| when ``absolute``: rank sums correlate negatively)."""
    ours = rows_by_dataset(stats, better, method, target)
    if not ours or not worse:
        return Claim(paper, claim, f"{names.label(better)} was not scored in this run.",
                     UNTESTABLE)
    parts, wins = [], []
    for d, r in ours.items():
        rivals = {s: rows_by_dataset(stats, s, method, target).get(d) for s in worse}
        rivals = {s: x for s, x in rivals.items() if x is not None}
        size = (lambda x: abs(x)) if absolute else (lambda x: x)
        wins.append(bool(rivals) and all(size(r["value"]) > size(x["value"])
                                         for x in rivals.values()))
        parts.append(f"{DATASET_TITLES.get(d, d)}: {names.label(better)} "
                     f"{interval_text(r)} vs " + ", ".join(
                         f"{names.label(s)} {interval_text(x)}" for s, x in rivals.items()))
    verdict = SUPPORTED if all(wins) else NOT_SUPPORTED
    stat = {"kendall": "Kendall tau", "spearman": "Spearman rho"}[method]
    return Claim(paper, claim, f"{stat}" + (" (absolute values compared)" if absolute else "")
                 + ": " + "; ".join(parts) + ".", verdict)


CLAIM_COLUMNS = ["paper", "claim", "evidence", "verdict"]


def claims_table(claims: list[Claim]) -> pd.DataFrame:
    return pd.DataFrame([c.__dict__ for c in claims], columns=CLAIM_COLUMNS)


def claims_tex(claims: pd.DataFrame, paper: str) -> str:
    """The claims of ``paper`` with this run's evidence and verdicts ("" when it has none)."""
    sub = claims[claims["paper"] == paper]
    if sub.empty:
        return ""
    rows = [[tex_escape(r.claim), tex_escape(r.evidence),
             rf"\textbf{{{tex_escape(r.verdict)}}}"] for r in sub.itertuples()]
    return longtable(["The paper's claim", "This run", "Verdict"], rows,
                     paragraph_column(0.3) + paragraph_column(0.5) + paragraph_column(0.12),
                     "claims",
                     "Claims checked against this run's statistics (95\\% bootstrap "
                     "intervals in brackets). Supported: the run agrees on every data set; "
                     "contradicted: it shows the opposite on every data set; not supported: "
                     "neither.")
