"""The search stage's outputs: the search tables beside the published values (CSV and
LaTeX) and the anytime figure of each space."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from .figures import plot_anytime
from .tables import benchmark_optimum, load_published, load_runs, write_tables

log = logging.getLogger(__name__)


def write_search_outputs(
    runs: list[Path],
    benchmarks: dict[str, pd.DataFrame | None],
    tables_dir: Path,
    figures_dir: Path,
) -> list[Path]:
    """Tables of ``runs`` into ``tables_dir`` and the anytime figure(s) into ``figures_dir``."""
    table = load_runs(runs)
    # The figures folder exists even when no space has accuracies to draw (the workflow
    # declares it as an output).
    Path(figures_dir).mkdir(parents=True, exist_ok=True)
    published = load_published()
    written = write_tables(table, tables_dir, benchmarks, published)
    figures: list[Path] = []
    for space in sorted(set(table["space"])):
        if not table.loc[table["space"] == space, "test_acc"].notna().any():
            log.info("no accuracies for %s runs: no anytime figure for that space", space)
            continue
        figures += plot_anytime(table, space, Path(figures_dir) / f"search_anytime_{space}",
                                benchmark_optimum(benchmarks.get(space)))
    return written + figures
