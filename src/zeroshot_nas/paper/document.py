"""What the document's sections are written from (:class:`Document`) and the blocks every
section is made of: subsections, figures of the run (or why not drawn), tables, claims and
the quoted search tables."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from zeroshot_nas.plots import catalog

from .claims import Claim
from .tex import tex_escape

Tables = dict[str, pd.DataFrame]  # a section's tables, keyed by the name of their CSV


@dataclass(frozen=True)
class RunInputs:
    """What the tables and claims are computed from: the run's statistics and their summary,
    the published values, the proxy registry (None: the project's), what the run recorded
    about itself (the scores table's protocol columns from the figures' manifest, the
    settings the workflow passed), and the statistics of the run's experiments on another
    space's tables, keyed by the benchmark table they join (``nb101``, ``nb101-naslib``;
    the report experiment's own when it is one of them)."""

    stats: dict[str, pd.DataFrame]
    summary: dict
    published: dict
    registry: Any = None
    scored: dict = field(default_factory=dict)
    run: dict = field(default_factory=dict)
    space_stats: dict[str, dict[str, pd.DataFrame]] = field(default_factory=dict)
    # the statistics of the run's other experiments on the report's space and table, by
    # experiment name (RB Table 1 takes the scores the report experiment lacks from them)
    sample_stats: dict[str, dict[str, pd.DataFrame]] = field(default_factory=dict)

    @property
    def correlations(self) -> pd.DataFrame:
        return self.stats.get("correlations", pd.DataFrame())


@dataclass
class Document:
    """What the sections are written from: the run's statistics and the pieces already
    written into ``out`` (figure snippets, tables, search tables)."""

    out: Path
    stats: dict[str, pd.DataFrame]
    summary: dict
    published: dict
    claims: pd.DataFrame
    figures: dict[str, list[str]] = field(default_factory=dict)  # catalogue key -> stems
    skipped: dict[str, str] = field(default_factory=dict)  # figure -> why not drawn
    missing: dict[str, str] = field(default_factory=dict)  # table key -> why not computed
    search: list[str] = field(default_factory=list)  # quoted search tables written

    def table(self, key: str) -> str:
        path = self.out / f"{key}.tex"
        return rf"\input{{generated/{key}.tex}}" if path.exists() else ""

    def figure(self, key: str) -> str:
        """Every drawn figure of catalogue ``key`` (each data set and part), or a box with
        the reason the run recorded for not drawing it."""
        stems = self.figures.get(key, [])
        if stems:
            return "\n".join(rf"\input{{generated/fig_{s}.tex}}" for s in stems)
        notes = [n.split(": not drawn: ", 1)[-1] for name, n in self.skipped.items()
                 if catalog.resolve_figure(name).item.key == key]
        item = catalog.FIGURES.get(key)
        heading = tex_escape(item.label if item else key)
        return (rf"\missing{{\textbf{{{heading}}} was not drawn by this run"
                + (": " + tex_escape("; ".join(dict.fromkeys(notes))) if notes else "")
                + ".}")

    def claims_block(self, paper: str) -> str:
        """The table of ``paper``'s claims, when it has any."""
        return rf"\input{{generated/claims_{paper}.tex}}" if (
            self.out / f"claims_{paper}.tex").exists() else ""

    def search_blocks(self, keys: tuple[str, ...]) -> str:
        """The quoted search tables of ``keys`` this run wrote, or a box saying why none."""
        shown = [k for k in keys if k in self.search]
        if not shown:
            return (r"\missing{The search tables were not produced by this run (searches "
                    r"disabled or not run); the published rows are in "
                    r"\texttt{paper/published.yaml}.}")
        return "\n".join(rf"\input{{generated/search_float_{k}.tex}}" for k in shown)


def subsection(title: str, *blocks: str) -> str:
    """An unnumbered subsection of the non-empty ``blocks``."""
    return ("\\subsection*{" + tex_escape(title) + "}\n"
            + "\n".join(b for b in blocks if b) + "\n")


def _no_tables(inputs: RunInputs) -> Tables:
    return {}


def _no_texts(inputs: RunInputs, tables: Tables) -> dict[str, str]:
    return {}


def _no_claims(inputs: RunInputs) -> list[Claim]:
    return []


@dataclass(frozen=True)
class Section:
    """One section of the document (``generated/section_<key>.tex``) and all it owns.

    ``write``: the section's TeX, from the :class:`Document` (figures, tables and claims
    already written). ``tables``: its tables as DataFrames, keyed by the name of their CSV.
    ``texts``: the ``<name>.tex`` of its tables, from those DataFrames; a text made by
    :func:`~zeroshot_nas.paper.latex.missing_table` is listed in the "not reproduced"
    section. ``claims``: the paper's claims checked against the run, each under this
    section's key (their table is ``claims_<key>.tex``). ``search_tables``: the quoted
    search tables (``published.yaml``, ``search_tables``) it shows. The figures and tables
    are named by their catalogue entries (``published.yaml``, ``papers``), under whichever
    paper they reproduce: a section about one space of a paper uses that paper's entries.
    """

    key: str
    write: Callable[[Document], str]
    tables: Callable[[RunInputs], Tables] = _no_tables
    texts: Callable[[RunInputs, Tables], dict[str, str]] = _no_texts
    claims: Callable[[RunInputs], list[Claim]] = _no_claims
    search_tables: tuple[str, ...] = ()
