"""The document's table building blocks: number and interval cells, paragraph columns and
``longtable``s captioned with the paper's number of the table they reproduce."""

from __future__ import annotations

import numpy as np
import pandas as pd

from zeroshot_nas.plots import catalog
from zeroshot_nas.spaces.common import DATASET_TITLES

from .tex import tex_escape


def number(v: float | None, digits: int = 2, signed: bool = False) -> str:
    """A number cell; "--" where there is no finite value."""
    if v is None or not np.isfinite(v):
        return "--"
    if abs(v) >= 1e5:  # e.g. slopes on a standardised score with extreme outliers
        mant, exp = f"{v:.2e}".split("e")
        return f"${'+' if signed and v > 0 else ''}{mant}\\times 10^{{{int(exp)}}}$"
    return f"{v:+.{digits}f}" if signed else f"{v:.{digits}f}"


def interval(row: pd.Series | None, digits: int = 2) -> str:
    """A statistic with its bootstrap interval in brackets (a correlation row)."""
    if row is None:
        return "--"
    s = number(row["value"], digits)
    if np.isfinite(row["ci_low"]):
        s += (rf" {{\scriptsize[{number(row['ci_low'], digits)}, "
              rf"{number(row['ci_high'], digits)}]}}")
    return s


def difference(ours: float | None, paper: float | None) -> float | None:
    """Ours minus the paper's value, or None where either is missing."""
    if ours is None or paper is None or not np.isfinite(ours):
        return None
    return ours - paper


def dataset_cell(dataset: str) -> str:
    return tex_escape(DATASET_TITLES.get(dataset, dataset))


def paragraph_column(width: float) -> str:
    """A ragged-right paragraph column of ``width`` times the line width."""
    return rf">{{\raggedright\arraybackslash}}p{{{width}\linewidth}}"


def longtable(header: list[str], rows: list[list[str]], align: str, key: str,
              caption: str) -> str:
    """A table that breaks across pages, captioned with the paper's number of ``key``
    (a catalogue table) and its header repeated on every page."""
    entry = catalog.resolve_table(key)
    heading = tex_escape(entry.heading)
    ncol = len(header)
    head = " & ".join(header) + r" \\"
    lines = [r"\begingroup\footnotesize\setlength{\tabcolsep}{4pt}",
             rf"\begin{{longtable}}{{{align}}}",
             rf"\papercaption{{{heading}}}{{{tex_escape(entry.item.title)}. {caption}}}\\",
             r"\toprule", head, r"\midrule", r"\endfirsthead",
             rf"\multicolumn{{{ncol}}}{{l}}{{\textbf{{{heading}}} (continued)}}\\",
             r"\toprule", head, r"\midrule", r"\endhead",
             r"\midrule",
             rf"\multicolumn{{{ncol}}}{{r}}{{\emph{{continued on the next page}}}}\\",
             r"\endfoot", r"\bottomrule", r"\endlastfoot"]
    lines += [r if isinstance(r, str) else " & ".join(r) + r" \\" for r in rows]
    lines += [r"\end{longtable}", r"\endgroup", ""]
    return "\n".join(lines)


def stacked_header(*lines: str) -> str:
    """A header cell of several centred lines (keeps narrow columns narrow)."""
    return r"\begin{tabular}[b]{@{}c@{}}" + r" \\ ".join(lines) + r"\end{tabular}"


def group_row(text: str, ncol: int) -> str:
    """A full-width row naming the group (data set) of the rows below it."""
    return rf"\multicolumn{{{ncol}}}{{l}}{{\textit{{{text}}}}} \\"


MISSING_PREFIX = "% missing: "


def missing_table(key: str, caption: str, why: str) -> str:
    """In place of a table the run has no row for: a box with its caption and why."""
    entry = catalog.resolve_table(key)
    # the first line says why in plain text, for the "not reproduced" section
    return (f"{MISSING_PREFIX}{' '.join(why.split())}\n"
            rf"\missing{{\textbf{{{tex_escape(entry.heading)}.}} "
            rf"{tex_escape(entry.item.title)}. {caption} "
            rf"\emph{{Not produced by this run: {tex_escape(why)}.}}}}" + "\n")


def missing_reason(text: str) -> str | None:
    """Why a written table has no rows (its first line), or None for a table with rows."""
    if not text.startswith(MISSING_PREFIX):
        return None
    return text.splitlines()[0].removeprefix(MISSING_PREFIX)
