"""SSNR, "Layer-wise saliency signal-to-noise ratio": the Spearman values printed under its
Figure 2 and the Kendall values of its Table 1 beside ours, its two claims (layer-wise and
overall SSNR beat the saliency sum), and the section."""

from __future__ import annotations

import pandas as pd

from zeroshot_nas.stats import analysis, names

from .claims import Claim, better_claim
from .document import Document, RunInputs, Section, Tables, subsection
from .latex import dataset_cell, difference, group_row, interval, longtable, missing_table, number
from .tex import tex_escape


def ssnr_table(stats: dict[str, pd.DataFrame], published: dict) -> pd.DataFrame:
    """Spearman (CIFAR-10) and Kendall (CIFAR-10, CIFAR-100) of the SSNR scores vs paper."""
    corr = stats.get("correlations", pd.DataFrame())
    sp = published["ssnr_spearman"]
    kt = published["ssnr_table1"]
    rows = []
    for score in names.SSNR:
        for dataset in analysis.DATASET_ORDER:
            for method in ("spearman", "kendall"):
                paper = None
                if method == "spearman" and dataset == sp["dataset"]:
                    paper = sp["values"].get(score)
                if method == "kendall" and dataset in kt["datasets"]:
                    paper = kt["values"][score]["kendall"][kt["datasets"].index(dataset)]
                r = analysis.correlation_row(corr, score, dataset, method, "test_acc")
                ours = None if r is None else float(r["value"])
                rows.append({"score": score, "dataset": dataset, "method": method,
                             "ours": ours,
                             "ci_low": None if r is None else float(r["ci_low"]),
                             "ci_high": None if r is None else float(r["ci_high"]),
                             "paper": paper, "diff": difference(ours, paper),
                             "n": None if r is None else int(r["n"])})
    return pd.DataFrame(rows)


def ssnr_tex(table: pd.DataFrame, corr: pd.DataFrame) -> str:
    header = ["Score", "Statistic", r"ours [95\% CI]", "paper", r"$\Delta$", "$n$"]
    rows: list = []
    for dataset in analysis.ordered_datasets(table["dataset"]):
        group = []
        for _, r in table[table["dataset"] == dataset].iterrows():
            if r["ours"] is None or pd.isna(r["ours"]):
                continue
            c = analysis.correlation_row(corr, r["score"], dataset, r["method"], "test_acc")
            group.append([tex_escape(names.label(r["score"])),
                          "Spearman $\\rho$" if r["method"] == "spearman" else "Kendall $\\tau$",
                          interval(c, 4), number(r["paper"], 4),
                          number(r["diff"], 4, signed=True), str(int(r["n"]))])
        rows += [group_row(dataset_cell(dataset), len(header)), *group] if group else []
    caption = (r"Spearman $\rho$ (printed under the paper's Figure~2, all NAS-Bench-201 "
               r"models) and Kendall $\tau$ (its Table~1, NASLib, test size 5000) with test "
               r"accuracy. Paper values are published; $\Delta$ = ours $-$ paper; ``--'': the "
               r"paper prints no value for that data set.")
    if not rows:
        return missing_table("ssnr_table", caption, "synflow/ssnr/ssnr_layerwise not scored")
    return longtable(header, rows, "llrrrr", "ssnr_table", caption)



def tables(inputs: RunInputs) -> Tables:
    return {"ssnr_correlations": ssnr_table(inputs.stats, inputs.published)}


def texts(inputs: RunInputs, tables: Tables) -> dict[str, str]:
    return {"ssnr_table": ssnr_tex(tables["ssnr_correlations"], inputs.correlations)}


def claims(inputs: RunInputs) -> list[Claim]:
    """Figure 2's Spearman values: layer-wise and overall SSNR beat the saliency sum."""
    sp = inputs.published["ssnr_spearman"]["values"]
    return [better_claim(inputs.stats, "ssnr", f"Layer-wise SSNR tracks accuracy better than "
                         f"the saliency sum (Spearman {sp['ssnr_layerwise']} vs "
                         f"{sp['synflow']}).", "ssnr_layerwise", ["synflow"], "spearman"),
            better_claim(inputs.stats, "ssnr", f"Overall SSNR tracks accuracy better than the "
                         f"saliency sum (Spearman {sp['ssnr']} vs {sp['synflow']}).", "ssnr",
                         ["synflow"], "spearman")]


def section(doc: Document) -> str:
    return ("\\section{SSNR: Layer-wise saliency signal-to-noise ratio}\n"
            "The paper prints Spearman correlations under its Figure~2 and Kendall "
            "correlations in its Table~1 (NASLib, test size 5000).\n"
            + subsection("SSNR Figure 2: models in score-accuracy space",
                         doc.figure("ssnr_fig2"))
            + subsection("SSNR Table 1 and the Spearman values of Figure 2",
                         doc.table("ssnr_table"), doc.figure("ssnr_table1"))
            + subsection("SSNR claims checked", doc.claims_block("ssnr")))


SECTION = Section("ssnr", section, tables, texts, claims)
