"""RB, "Rank-based training-free NAS algorithm": its Table 1 (correlations with test
accuracy, beside the values it quotes from FreeREA), its search Tables 2 and 3 (quoted
search tables with our runs), the rank combination's claim, and the section."""

from __future__ import annotations

import pandas as pd

from zeroshot_nas.stats import analysis, names

from .claims import Claim, better_claim
from .document import Document, RunInputs, Section, Tables, subsection
from .latex import dataset_cell, difference, group_row, interval, longtable, missing_table, number
from .tex import tex_escape

SEARCH_TABLES = ("rank_based_table2", "rank_based_table3")


def rank_based_table(stats: dict[str, pd.DataFrame], published: dict) -> pd.DataFrame:
    """Kendall/Spearman per score and data set (rank-based Table 1) with the paper's values."""
    pub = published["rank_based_table1"]
    corr = stats.get("correlations", pd.DataFrame())
    rows = []
    for score in pub["values"]:
        for i, dataset in enumerate(pub["datasets"]):
            rec = {"score": score, "dataset": dataset}
            for method in ("kendall", "spearman"):
                r = analysis.correlation_row(corr, score, dataset, method, "test_acc")
                d = analysis.correlation_row(corr, score, dataset, method, "test_acc",
                                             policy="dropped")
                paper = pub["values"][score][method][i]
                ours = None if r is None else float(r["value"])
                rec.update({
                    f"{method}": ours,
                    f"{method}_ci_low": None if r is None else float(r["ci_low"]),
                    f"{method}_ci_high": None if r is None else float(r["ci_high"]),
                    f"{method}_dropped": None if d is None else float(d["value"]),
                    f"{method}_paper": paper,
                    f"{method}_diff": difference(ours, paper),
                })
            r = analysis.correlation_row(corr, score, dataset, "kendall", "test_acc")
            rec["n"] = None if r is None else int(r["n"])
            rec["n_nonfinite"] = None if r is None else int(r["n_nonfinite"])
            rows.append(rec)
    return pd.DataFrame(rows)


def rank_based_tex(table: pd.DataFrame, corr: pd.DataFrame) -> str:
    header = ["Score", r"$\tau$ ours [95\% CI]", r"$\tau$ paper", r"$\Delta\tau$",
              r"$\rho$ ours [95\% CI]", r"$\rho$ paper", r"$\Delta\rho$",
              r"$\tau$ dropped", r"$n$ (non-fin.)"]
    rows: list = []
    for dataset in analysis.ordered_datasets(table["dataset"]):
        group = []
        for _, r in table[table["dataset"] == dataset].iterrows():
            if r["n"] is None or pd.isna(r["n"]):
                continue
            k = analysis.correlation_row(corr, r["score"], dataset, "kendall", "test_acc")
            s = analysis.correlation_row(corr, r["score"], dataset, "spearman", "test_acc")
            group.append([tex_escape(names.RANK_BASED.get(r["score"], names.label(r["score"]))),
                          interval(k), number(r["kendall_paper"]),
                          number(r["kendall_diff"], signed=True),
                          interval(s), number(r["spearman_paper"]),
                          number(r["spearman_diff"], signed=True), number(r["kendall_dropped"]),
                          f"{int(r['n'])} ({int(r['n_nonfinite'])})"])
        rows += [group_row(dataset_cell(dataset), len(header)), *group] if group else []
    caption = (r"Kendall $\tau$ and Spearman $\rho$ between score and test accuracy. Ours: "
               r"non-finite scores ranked last (worst), 95\% percentile-bootstrap intervals; "
               r"``$\tau$ dropped'' drops them instead. Paper: published values (all NATS "
               r"architectures, mean of three initialisations). $\Delta$ = ours $-$ paper; "
               r"``--'': the paper prints no value. NI and the rank combination (a rank sum, "
               r"smaller is better, so its correlations are negative when it works) are ours "
               r"only.")
    if not rows:
        return missing_table("rank_based_table1", caption, "none of its scores was scored")
    return longtable(header, rows, "lrrrrrrrr", "rank_based_table1", caption)


def tables(inputs: RunInputs) -> Tables:
    return {"rank_based_table1": rank_based_table(inputs.stats, inputs.published)}


def texts(inputs: RunInputs, tables: Tables) -> dict[str, str]:
    return {"rank_based_table1": rank_based_tex(tables["rank_based_table1"],
                                                inputs.correlations)}


def claims(inputs: RunInputs) -> list[Claim]:
    """Abstract, Section 1: the rank combination beats each of its members."""
    members = list(inputs.summary.get("rank_combination", []))
    return [better_claim(inputs.stats, "rb", "Combining " + ", ".join(
        names.label(m) for m in members) + " by rank evaluates architectures better than each "
        "of them alone (abstract, Section 1).", analysis.RANK_COMBINATION, members, "kendall",
        absolute=True)]


def section(doc: Document) -> str:
    anytime = "\n".join(rf"\input{{generated/fig_{s}.tex}}"
                        for s in doc.figures.get("search_anytime", []))
    return ("\\section{RB: Rank-based training-free NAS}\n"
            "The paper's Table 1 quotes FreeREA's correlations (all NATS-Bench topology "
            "architectures, three initialisations averaged); its Tables 2 and 3 compare "
            "searches. NI and the rank combination (sum of per-score ranks, directions from "
            "our proxy registry, never from accuracies) have no published correlation.\n"
            + subsection("RB Table 1: correlation with test accuracy",
                         doc.table("rank_based_table1"), doc.figure("rb_table1"))
            + subsection("RB Tables 2 and 3: searches",
                         doc.search_blocks(SEARCH_TABLES), anytime)
            + subsection("RB claims checked", doc.claims_block("rb")))


SECTION = Section("rb", section, tables, texts, claims, SEARCH_TABLES)
