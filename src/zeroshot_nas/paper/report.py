"""The HTML report's captions of the document's tables and of the statistics
(``generated/report/*.rst``, reStructuredText the Snakemake report includes): each table's
title under the paper's number, and the table itself when it is small."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from zeroshot_nas import io
from zeroshot_nas.plots import catalog
from zeroshot_nas.stats import analysis, crosscheck

REPORT_DIR = "report"  # reStructuredText captions the Snakemake report includes
REPORT_MAX_ROWS = 60  # larger tables are attached, not printed in the caption
STATS_DESCRIPTIONS = {
    "correlations": "Kendall tau-b and Spearman rho of every score with test and validation "
                    "accuracy per data set, subset (all, above the median) and non-finite policy "
                    "(kept_worst: ranked last; dropped), with 95% percentile-bootstrap intervals "
                    "(value, ci_low, ci_high) and n.",
    "monotonicity": "Monotonicity (|Kendall tau-a|, parameters scoring) with test accuracy.",
    "slopes": "Linear regression of test accuracy on log(1 - score) (bounded scores) or the "
              "standardised score: slope, |slope|, intercept, r, n.",
    "best_retrieved": "Best accuracy retrieved: test/validation accuracy of the top-scored "
                      "architecture of each sample (mean and std over runs) and the "
                      "percentile of the sample's best architecture.",
    "best_retrieved_runs": "Every run behind best_retrieved.",
    "timing": "Seconds per architecture per score, data set and mode.",
    "nonfinite": "Counts of each status (ok, nan, +inf, -inf, error) per score and data set.",
    "benchmark_best": "Highest test and validation accuracy per data set.",
    "score_specs": "Direction and bounds of every score, as the statistics used them.",
    "comparison": "Every score of the run ranked by its mean Kendall tau with test accuracy "
                  "over the data sets (in the score's direction), per data set with its 95% "
                  "interval and non-finite count, best accuracy of N, seconds per "
                  "architecture; the scores of stats.highlight marked (highlighted).",
    "freerea_check": crosscheck.DESCRIPTION + ".",
    "freerea_accuracy": crosscheck.ACCURACY_DESCRIPTION + ".",
    "nb101_row_correlations": "NAS-Bench-101 (MLFE's table): Kendall tau-b and Spearman rho of "
                              "every score over MLFE's 2,000 rows, each row a cell's score "
                              "against that row's own test accuracy, with 95% bootstrap "
                              "intervals.",
    "naslib_agreement": "NAS-Bench-101 (NASLib's table): rank correlation between our value "
                        "and NASLib's precomputed value of each score over the cells both "
                        "have, with 95% bootstrap intervals.",
    "naslib_correlations": "NAS-Bench-101 (NASLib's table): Kendall tau-b and Spearman rho of "
                           "NASLib's precomputed values with the 108-epoch validation "
                           "accuracy over the run's cells, with 95% bootstrap intervals.",
}


def _cell(v: object) -> str:
    if isinstance(v, float | np.floating):
        return "" if not np.isfinite(v) else f"{v:.4g}"
    return " ".join(str(v).split())


def report_rst(title: str, text: str, table: pd.DataFrame | None) -> str:
    """A report caption: bold title, text, and the table inline when it is small."""
    body = f"**{catalog.rst_escape(title)}.** {catalog.rst_escape(text)}\n"
    if table is None or table.empty or len(table) > REPORT_MAX_ROWS:
        rows = 0 if table is None else len(table)
        return body + (f"\n{rows} rows; open the file for the full table.\n" if rows else "")

    def quoted(v: object) -> str:
        # cells are parsed as reStructuredText too: "|a|" would be a substitution
        return '"' + catalog.rst_escape(_cell(v)).replace('"', '""') + '"'

    lines = ["", ".. csv-table::", "   :header: " + ", ".join(map(quoted, table.columns)), ""]
    for row in table.itertuples(index=False):
        lines.append("   " + ", ".join(map(quoted, row)))
    return body + "\n".join(lines) + "\n"


def write_report_captions(out: Path, tables: dict[str, pd.DataFrame],
                          stats: dict[str, pd.DataFrame]) -> list[Path]:
    """``report/<csv>.rst`` for every table CSV and ``report/stats_<name>.rst`` for every
    statistics table, for the report's caption templates to include."""
    written = []
    for stem, table in tables.items():
        entry = catalog.resolve_table(stem)
        text = (f"{entry.item.title}. The table of the PDF, as CSV: our values beside the "
                "printed ones and their difference where the paper prints values.")
        written.append(io.write_text(out / REPORT_DIR / f"{stem}.rst",
                                     report_rst(entry.heading, text, table)))
    present = [n for n in analysis.OPTIONAL_TABLES if not stats.get(n, pd.DataFrame()).empty]
    for name in (*analysis.OUTPUT_TABLES, *present):
        table = stats.get(name)
        text = STATS_DESCRIPTIONS.get(name, name)
        written.append(io.write_text(out / REPORT_DIR / f"stats_{name}.rst",
                                     report_rst(f"Statistics: {name}", text, table)))
    return written

