"""NWOT, "Neural architecture search without training": the Kendall tau of the Jacobian
score with validation accuracy (its Figure 1(b) in numbers; the paper prints none), the
search results its authors' README quotes (a quoted search table with our runs), its claim,
and the section."""

from __future__ import annotations

import pandas as pd

from zeroshot_nas.spaces.common import DATASET_TITLES
from zeroshot_nas.stats import analysis, names

from .claims import (
    CONTRADICTED,
    NOT_SUPPORTED,
    SUPPORTED,
    UNTESTABLE,
    Claim,
    interval_text,
    rows_by_dataset,
)
from .document import Document, RunInputs, Section, Tables, subsection
from .latex import dataset_cell, difference, interval, longtable, missing_table, number
from .tex import tex_escape

SEARCH_TABLES = ("naswot_table",)


def nwot_table(stats: dict[str, pd.DataFrame], published: dict) -> pd.DataFrame:
    """Kendall tau of the Jacobian score with validation accuracy per data set, non-finite
    scores ranked last and dropped, beside the paper's (none printed)."""
    corr = stats.get("correlations", pd.DataFrame())
    pub = published["nwot_fig1"]
    rows = []
    for i, dataset in enumerate(pub["datasets"]):
        for policy in ("kept_worst", "dropped"):
            r = analysis.correlation_row(corr, names.JACOBIAN, dataset, "kendall", "valid_acc",
                                         policy=policy)
            paper = pub["values"][names.JACOBIAN]["kendall"][i]
            ours = None if r is None else float(r["value"])
            rows.append({"dataset": dataset, "policy": policy, "kendall": ours,
                         "ci_low": None if r is None else float(r["ci_low"]),
                         "ci_high": None if r is None else float(r["ci_high"]),
                         "paper": paper, "diff": difference(ours, paper),
                         "n": None if r is None else int(r["n"]),
                         "n_nonfinite": None if r is None else int(r["n_nonfinite"])})
    return pd.DataFrame(rows)


def nwot_tex(table: pd.DataFrame, corr: pd.DataFrame, published: dict) -> str:
    header = ["Data set", "Non-finite scores", r"$\tau$ ours [95\% CI]", "paper", r"$\Delta$",
              "$n$ (non-fin.)"]
    rows = []
    for _, r in table.iterrows():
        if r["kendall"] is None or pd.isna(r["kendall"]):
            continue
        c = analysis.correlation_row(corr, names.JACOBIAN, r["dataset"], "kendall",
                                     "valid_acc", policy=r["policy"])
        rows.append([dataset_cell(r["dataset"]), "ranked last" if r["policy"] == "kept_worst"
                     else "dropped", interval(c), number(r["paper"]),
                     number(r["diff"], signed=True), f"{int(r['n'])} ({int(r['n_nonfinite'])})"])
    caption = (r"Kendall $\tau$ of the Jacobian score (jacob\_cov) with validation accuracy. "
               r"Paper: " + tex_escape(published["nwot_fig1"]["note"]))
    if not rows:
        return missing_table("nwot_table", caption, "jacob_cov not scored")
    return longtable(header, rows, "llrrrr", "nwot_table", caption)


def claim_jacobian(stats: dict[str, pd.DataFrame]) -> Claim:
    """NWOT: the Jacobian score predicts trained accuracy; with no rival score, the sign of
    its interval on every data set decides."""
    claim = ("The Jacobian score of an untrained network is highly indicative of its trained "
             "accuracy (abstract, Figure 1).")
    rows = rows_by_dataset(stats, names.JACOBIAN, "kendall", "valid_acc")
    if not rows:
        return Claim("nwot", claim, f"{names.JACOBIAN} was not scored in this run.", UNTESTABLE)
    evidence = "Kendall tau with validation accuracy: " + "; ".join(
        f"{DATASET_TITLES.get(d, d)}: {interval_text(r)}" for d, r in rows.items()) + "."
    if all(r["ci_low"] > 0 for r in rows.values()):
        verdict = SUPPORTED
    elif all(r["ci_high"] < 0 for r in rows.values()):
        verdict = CONTRADICTED
    else:
        verdict = NOT_SUPPORTED
    return Claim("nwot", claim, evidence, verdict)


def tables(inputs: RunInputs) -> Tables:
    return {"nwot_kendall": nwot_table(inputs.stats, inputs.published)}


def texts(inputs: RunInputs, tables: Tables) -> dict[str, str]:
    return {"nwot_table": nwot_tex(tables["nwot_kendall"], inputs.correlations,
                                   inputs.published)}


def claims(inputs: RunInputs) -> list[Claim]:
    return [claim_jacobian(inputs.stats)]


def section(doc: Document) -> str:
    return ("\\section{NWOT: Neural architecture search without training}\n"
            "The provided text of the paper ends after its Figure~1; it prints no "
            "correlation value. Panel (b) (NAS-Bench-201) is drawn per data set.\n"
            + subsection("NWOT Figure 1(b): histograms of the Jacobian correlations",
                         doc.figure("nwot_fig1"), doc.table("nwot_table"))
            + subsection("NWOT search results", doc.search_blocks(SEARCH_TABLES))
            + subsection("NWOT claims checked", doc.claims_block("nwot")))


SECTION = Section("nwot", section, tables, texts, claims, SEARCH_TABLES)
