"""NAS-Bench-101, a subset: NWOT Figure 1(a), the correlation of every score with accuracy on
the cells of MLFE's 2,000 architectures (beside what the sources print), our scores against
NASLib's precomputed ones on NASLib's cells, our searches within MLFE's table beside NWOT's
AREA, the NWOT claim on NAS-Bench-101, and the section.

Its numbers come from the statistics of the run's NAS-Bench-101 experiments
(:attr:`RunInputs.space_stats`, keyed by the name of the benchmark table each joins:
``nb101`` for MLFE's, ``nb101-naslib`` for NASLib's), which need not be the report
experiment: a run whose report experiment is NAS-Bench-201 still sets an NB101 experiment's
numbers here (the figure is drawn from the report experiment only).
"""

from __future__ import annotations

import pandas as pd

from zeroshot_nas.stats import analysis, names

from .claims import CONTRADICTED, NOT_SUPPORTED, SUPPORTED, UNTESTABLE, Claim, interval_text
from .document import Document, RunInputs, Section, Tables, subsection
from .latex import difference, interval, longtable, missing_table, number
from .tex import tex_escape

MLFE, NASLIB = "nb101", "nb101-naslib"  # keys of RunInputs.space_stats
SEARCH_TABLES = ("naswot_nb101",)
SUBSET = (
    "Everything in this section is about a subset of NAS-Bench-101, not its whole space of "
    "423,624 cells: NAS-Bench-101's full record has no pinnable download, so the pipeline "
    "reads two public, pinned subsets of it. MLFE's 2,000 architectures "
    "(NingW3028/MLFE@41b9a16) are 846 distinct cells (isomorphism classes, one row per cell, "
    "its accuracy the mean over the training runs its rows hold), with test and validation "
    "accuracy; NASLib's 500 (automl/NASLib@22280f7) are 292 cells, with validation accuracy and "
    "NASLib's precomputed scores. The networks are the NAS-Bench-101 paper's, built by this "
    "project (their parameter counts equal the benchmark's for all 2,000 rows). The searches "
    "choose among MLFE's 846 cells."
)
ROWS_NOTE = (
    "2,000 rows: MLFE's evaluation, each of its rows a cell's score against that row's own "
    "training run (a cell drawn k times counts k times)."
)


def _corr(stats: dict | None, name: str = "correlations") -> pd.DataFrame:
    return pd.DataFrame() if stats is None else stats.get(name, pd.DataFrame())


def _cells(row: pd.Series | None, prefix: str) -> dict:
    """A correlation row as ``<prefix>``, ``<prefix>_ci_low``, ``<prefix>_ci_high``."""
    keys = ("value", "ci_low", "ci_high")
    suffixes = ("", "_ci_low", "_ci_high")
    return {prefix + s: None if row is None else float(row[k]) for k, s in zip(keys, suffixes,
                                                                              strict=True)}


def _row(table: pd.DataFrame, score: str, method: str, target: str | None = None,
         policy: str = "kept_worst") -> pd.Series | None:
    """The row of ``score`` and ``method`` of an NB101 table (correlations filtered to all
    architectures and CIFAR-10 by the caller's ``target``)."""
    if table.empty:
        return None
    m = table[(table["score"] == score) & (table["method"] == method)
              & (table["policy"] == policy)]
    if target is not None:
        m = m[m["target"] == target]
    if "subset" in m.columns:
        m = m[m["subset"] == "all"]
    return None if m.empty else m.iloc[0]


def correlation_table(stats: dict | None, published: dict) -> pd.DataFrame:
    """Every score's Kendall/Spearman with test accuracy on MLFE's cells (one point per cell)
    and over its 2,000 rows, with intervals, beside the published values (none found: the
    block says which sources were checked)."""
    corr = _corr(stats)
    rows_corr = _corr(stats, "nb101_row_correlations")
    if corr.empty:
        return pd.DataFrame()
    cells = corr[(corr["dataset"] == "cifar10") & (corr["target"] == "test_acc")]
    pub = published.get("nb101_correlations", {}).get("values") or {}
    out = []
    for score in dict.fromkeys(cells["score"]):
        rec: dict = {"score": score}
        for method in ("kendall", "spearman"):
            rec.update(_cells(analysis.correlation_row(corr, score, "cifar10", method),
                              method))
            rec.update(_cells(_row(rows_corr, score, method), f"{method}_rows"))
            dropped = analysis.correlation_row(corr, score, "cifar10", method, policy="dropped")
            rec[f"{method}_dropped"] = None if dropped is None else float(dropped["value"])
            paper = (pub.get(score) or {}).get(method)
            rec[f"{method}_published"] = paper
            rec[f"{method}_diff"] = difference(rec[method], paper)
        r = analysis.correlation_row(corr, score, "cifar10", "kendall")
        rec["n_cells"] = None if r is None else int(r["n"])
        rec["n_nonfinite"] = None if r is None else int(r["n_nonfinite"])
        k = _row(rows_corr, score, "kendall")
        rec["n_rows"] = None if k is None else int(k["n"])
        out.append(rec)
    return pd.DataFrame(out)


def _checked(published: dict) -> str:
    checked = published.get("nb101_correlations", {}).get("checked") or []
    return " ".join(" ".join(str(c).split()) for c in checked)


def correlation_tex(table: pd.DataFrame, published: dict) -> str:
    caption = (r"Kendall $\tau$ and Spearman $\rho$ between each score and the 108-epoch test "
               r"accuracy, CIFAR-10: one point per cell of MLFE's table (the cells the run "
               r"scored), and over MLFE's rows. Non-finite scores ranked last (worst), 95\% "
               r"percentile-bootstrap intervals; ``$\rho$ dropped'' drops them instead. "
               + tex_escape(ROWS_NOTE) + r" Published: no per-score NAS-Bench-101 correlation "
               r"was found in a source available here (``--''). " + tex_escape(_checked(published)))
    if table.empty:
        return missing_table("nb101_correlations", caption,
                             "no NAS-Bench-101 experiment on MLFE's table in this run")
    header = ["Score", r"$\tau$ cells [95\% CI]", r"$\rho$ cells [95\% CI]",
              r"$\tau$ 2,000 rows [95\% CI]", r"$\rho$ 2,000 rows [95\% CI]",
              r"$\rho$ dropped", r"$\rho$ published", r"$\Delta\rho$", "cells (non-fin.)"]
    rows = []
    for r in table.itertuples():
        rows.append([tex_escape(names.label(r.score)), _interval(r, "kendall"),
                     _interval(r, "spearman"), _interval(r, "kendall_rows"),
                     _interval(r, "spearman_rows"), number(r.spearman_dropped),
                     number(r.spearman_published), number(r.spearman_diff, signed=True),
                     "--" if pd.isna(r.n_cells) else
                     f"{int(r.n_cells)} ({int(r.n_nonfinite)})"])
    return longtable(header, rows, "lrrrrrrrr", "nb101_correlations", caption)


def _interval(record, prefix: str) -> str:
    value = getattr(record, prefix)
    if value is None or pd.isna(value):
        return "--"
    return interval(pd.Series({"value": value, "ci_low": getattr(record, f"{prefix}_ci_low"),
                               "ci_high": getattr(record, f"{prefix}_ci_high")}))


def naslib_table(stats: dict | None) -> pd.DataFrame:
    """Per score NASLib precomputed: our Spearman with validation accuracy on NASLib's cells,
    NASLib's own on the same cells, and the Spearman and Kendall between the two."""
    agreement = _corr(stats, "naslib_agreement")
    if agreement.empty:
        return pd.DataFrame()
    corr, theirs = _corr(stats), _corr(stats, "naslib_correlations")
    out = []
    for score in dict.fromkeys(agreement["score"]):
        rec: dict = {"score": score}
        rec.update(_cells(analysis.correlation_row(corr, score, "cifar10", "spearman",
                                                   "valid_acc"), "ours"))
        rec.update(_cells(_row(theirs, score, "spearman"), "naslib"))
        rec.update(_cells(_row(agreement, score, "spearman"), "agreement"))
        tau = _row(agreement, score, "kendall")
        rec["agreement_kendall"] = None if tau is None else float(tau["value"])
        spearman = _row(agreement, score, "spearman")
        rec["n"] = None if spearman is None else int(spearman["n"])
        rec["n_nonfinite"] = None if spearman is None else int(spearman["n_nonfinite"])
        out.append(rec)
    return pd.DataFrame(out)


def naslib_tex(table: pd.DataFrame) -> str:
    caption = (r"NASLib's precomputed zero-cost scores of its 500 NAS-Bench-101 architectures "
               r"(naslib/data/zc\_nasbench101.json, the NAS-Bench-Suite-Zero implementation; "
               r"292 cells) beside ours on the same cells: Spearman $\rho$ of each with the "
               r"108-epoch validation accuracy, and the rank correlation between our value and "
               r"NASLib's of every cell (``agreement''; 1 = the two implementations rank the "
               r"cells alike). NASLib's values as stored (its log synflow ranks as synflow); "
               r"our non-finite values ranked last. 95\% percentile-bootstrap intervals.")
    if table.empty:
        return missing_table("nb101_naslib", caption,
                             "no NAS-Bench-101 experiment on NASLib's table in this run")
    header = ["Score", r"$\rho$ ours [95\% CI]", r"$\rho$ NASLib [95\% CI]",
              r"agreement $\rho$ [95\% CI]", r"agreement $\tau$", "cells (non-fin.)"]
    rows = [[tex_escape(names.label(r.score)), _interval(r, "ours"), _interval(r, "naslib"),
             _interval(r, "agreement"), number(r.agreement_kendall),
             "--" if pd.isna(r.n) else f"{int(r.n)} ({int(r.n_nonfinite)})"]
            for r in table.itertuples()]
    return longtable(header, rows, "lrrrrr", "nb101_naslib", caption)


def claim_jacobian(stats: dict | None) -> Claim:
    """NWOT on NAS-Bench-101: the Jacobian score predicts trained accuracy (its Figure 1(a)
    sorts the histograms by validation accuracy): the sign of the interval decides."""
    claim = ("The Jacobian score of an untrained network is highly indicative of its trained "
             "accuracy on NAS-Bench-101 (NWOT abstract, Figure 1(a)).")
    row = analysis.correlation_row(_corr(stats), names.JACOBIAN, "cifar10", "kendall",
                                   "valid_acc")
    if row is None:
        return Claim("nb101", claim, f"{names.JACOBIAN} was not scored on MLFE's NAS-Bench-101 "
                     "cells in this run.", UNTESTABLE)
    evidence = (f"Kendall tau with validation accuracy over {int(row['n'])} cells of MLFE's "
                f"table: {interval_text(row)}.")
    verdict = (SUPPORTED if row["ci_low"] > 0 else CONTRADICTED if row["ci_high"] < 0
               else NOT_SUPPORTED)
    return Claim("nb101", claim, evidence, verdict)


def tables(inputs: RunInputs) -> Tables:
    return {"nb101_correlations": correlation_table(inputs.space_stats.get(MLFE),
                                                    inputs.published),
            "nb101_naslib": naslib_table(inputs.space_stats.get(NASLIB))}


def texts(inputs: RunInputs, tables: Tables) -> dict[str, str]:
    return {"nb101_correlations": correlation_tex(tables["nb101_correlations"],
                                                  inputs.published),
            "nb101_naslib": naslib_tex(tables["nb101_naslib"])}


def claims(inputs: RunInputs) -> list[Claim]:
    return [claim_jacobian(inputs.space_stats.get(MLFE))]


FIGURE_SOURCE = ("Figure 1(a) is drawn from the report experiment's scores when that "
                 "experiment is on nb101 and scores jacob_cov (workflow/presets/nb101.yaml).")


def _figure(doc: Document) -> str:
    """The drawn Figure 1(a), or the box saying it was not drawn and where it comes from."""
    drawn = doc.figure("nwot_fig1a")
    return drawn if doc.figures.get("nwot_fig1a") else f"{drawn}\n{tex_escape(FIGURE_SOURCE)}\n"


def section(doc: Document) -> str:
    return ("\\section{NAS-Bench-101 (a subset)}\n" + tex_escape(SUBSET) + "\n"
            + subsection("NWOT Figure 1(a): histograms of the Jacobian correlations",
                         _figure(doc))
            + subsection("Correlation with accuracy", doc.table("nb101_correlations"))
            + subsection("Our scores against NASLib's precomputed ones",
                         doc.table("nb101_naslib"))
            + subsection("Searches within MLFE's table", doc.search_blocks(SEARCH_TABLES))
            + subsection("NWOT claim on NAS-Bench-101", doc.claims_block("nb101")))


SECTION = Section("nb101", section, tables, texts, claims, SEARCH_TABLES)
