"""The section "How every score compares": the comparison figure (``compare_scores``) and a
longtable of every score of the run, ranked as the statistics' comparison table ranks them
(``stats.comparison``), with the scores ``stats.highlight`` names set in bold. It belongs to
no one paper: its figure and table are the document's own (``published.yaml``,
``document``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from zeroshot_nas.stats import analysis, comparison

from .document import Document, RunInputs, Section, Tables
from .latex import (
    dataset_cell,
    longtable,
    missing_table,
    number,
    paragraph_column,
    stacked_header,
)
from .tex import tex_escape

KEY = "compare_scores"
# Column heads: the data sets' usual abbreviations (the caption spells them out).
SHORT = {"cifar10": "C10", "cifar100": "C100", "ImageNet16-120": "IN16"}


def _lines(*lines: str, align: str = "l") -> str:
    """Several lines in one cell (empty ones left out), the first on the row's baseline."""
    shown = [line for line in lines if line]
    if len(shown) == 1:
        return shown[0]
    return rf"\begin{{tabular}}[t]{{@{{}}{align}@{{}}}}" + r" \\ ".join(shown) + r"\end{tabular}"


def _kendall_cell(row: pd.Series | None) -> str:
    """τ, its interval below it, and how many values were non-finite (ranked last)."""
    if row is None or not np.isfinite(row["kendall"]):
        return "--"
    interval = (rf"{{\scriptsize[{number(row['kendall_low'])}, "
                rf"{number(row['kendall_high'])}]}}" if np.isfinite(row["kendall_low"]) else "")
    bad = int(row["n_nonfinite"]) if pd.notna(row["n_nonfinite"]) else 0
    return _lines(number(row["kendall"]), interval,
                  rf"{{\scriptsize {bad} non-fin.}}" if bad else "", align="r")


def _seconds_cell(rows: pd.DataFrame) -> str:
    """Median over data sets of the seconds per architecture; ``f``: a fused-run share."""
    timed = rows.dropna(subset=["seconds"])
    if timed.empty:
        return "--"
    fused = (timed["seconds_mode"] != "standalone").any()
    value = float(timed["seconds"].median())
    # two significant digits below 10 s (params takes well under a millisecond), at most 4
    digits = min(4, max(1, 1 - int(np.floor(np.log10(value))))) if value > 0 else 1
    return number(value, digits) + (r"\textsuperscript{f}" if fused else "")


def _score_cell(first: pd.Series) -> str:
    name = tex_escape(first["score"]) + ("" if first["higher_is_better"] else r"$\downarrow$")
    if first["highlighted"]:
        name = rf"\textbf{{{name}}}"
    return _lines(name, rf"{{\scriptsize {tex_escape(first['family'])}}}")


def _row(rows: pd.DataFrame, datasets: list[str]) -> list[str]:
    first = rows.iloc[0]
    by_dataset = rows.set_index("dataset")
    mark = r"$\star$\," if first["highlighted"] else ""
    return [f"{mark}{int(first['rank'])}", _score_cell(first),
            tex_escape(first["source"]) or "--",
            *[_kendall_cell(by_dataset.loc[d] if d in by_dataset.index else None)
              for d in datasets],
            *[number(by_dataset["best_test_mean"].get(d, np.nan), 1) for d in datasets],
            _seconds_cell(rows)]


CAPTION = (
    r"Every score of this run, ranked by {key} (rank 1 best; ties in name order). $\tau$: "
    r"Kendall $\tau$ between score and test accuracy over the architectures the statistics "
    r"rank, in the score's direction (sign flipped for the scores marked $\downarrow$, where lower is "
    r"better); below it the 95\% percentile-bootstrap interval and, where the score had "
    r"any, the count of non-finite values, ranked last. best: mean test accuracy (\%) of "
    r"the top-scored architecture of N sampled (the figure gives N and the draws). s / "
    r"arch.: median over data sets of the median seconds per architecture, standalone where "
    r"the score was timed alone (\textsuperscript{{f}}: its share of the fused run). "
    r"{short}. $\star$ and bold: highlighted (\texttt{{stats.highlight}}). Family and "
    r"source are the proxy registry's."
)


def compare_tex(table: pd.DataFrame) -> str:
    """The longtable of every score (module docstring)."""
    datasets = (analysis.ordered_datasets(table["dataset"]) if not table.empty else [])
    short = ", ".join(f"{SHORT.get(d, d)}: {dataset_cell(d)}" for d in datasets)
    caption = CAPTION.format(key=tex_escape(comparison.SORT_DESCRIPTION),
                             short=short or "no data set")
    if table.empty:
        return missing_table(KEY, caption, "no comparison table in the statistics")
    header = [r"\#", "Score", "Source",
              *[stacked_header(r"$\tau$", tex_escape(SHORT.get(d, d))) for d in datasets],
              *[stacked_header("best", tex_escape(SHORT.get(d, d))) for d in datasets],
              stacked_header("s /", "arch.")]
    rows = [_row(group, datasets)
            for _, group in table.groupby("rank", sort=True)]
    align = "rl" + paragraph_column(0.24) + "r" * (2 * len(datasets) + 1)
    return longtable(header, rows, align, KEY, caption)


def _summary_text(table: pd.DataFrame) -> str:
    """Who ranks first, and where the highlighted scores rank, in words."""
    if table.empty:
        return ""
    ranked = table.drop_duplicates("score").sort_values("rank")
    finite = ranked[np.isfinite(ranked[comparison.SORT_KEY].to_numpy(dtype=float))]
    top = ", ".join(f"{tex_escape(r.score)} ({r.mean_kendall:.2f})"
                    for r in finite.head(3).itertuples())
    text = (f"Of the {len(ranked)} scores, the highest mean $\\tau$ over the data sets: "
            f"{top}. " if top else "")
    for r in ranked[ranked["highlighted"]].itertuples():
        key = "no $\\tau$" if not np.isfinite(r.mean_kendall) else f"{r.mean_kendall:.2f}"
        text += (f"The highlighted \\textbf{{{tex_escape(r.score)}}} ranks {r.rank} of "
                 f"{len(ranked)} (mean $\\tau$ {key}). ")
    if not ranked["highlighted"].any():
        text += ("No score is highlighted: name your own proxy in "
                 "\\texttt{stats.highlight} to pick it out. ")
    return text + "\n"


def section(doc: Document) -> str:
    table = doc.stats.get("comparison", pd.DataFrame())
    return ("\\section{How every score compares}\n"
            "One row per score of this run, whichever paper it comes from (and any proxy "
            "registered beside them), ranked by " + tex_escape(comparison.SORT_DESCRIPTION)
            + ". The figure sets the Kendall $\\tau$ of every score on each data set side by "
            "side with the accuracy its top-scored architecture reaches and its cost; the "
            "table gives the numbers, its family and its source. "
            + _summary_text(table) + doc.figure(KEY) + "\n" + doc.table(KEY) + "\n")


def tables(inputs: RunInputs) -> Tables:
    table = inputs.stats.get("comparison", pd.DataFrame())
    return {} if table.empty else {KEY: table}


def texts(inputs: RunInputs, tables: Tables) -> dict[str, str]:
    return {KEY: compare_tex(tables.get(KEY, pd.DataFrame()))}


SECTION = Section("compare", section, tables, texts)
