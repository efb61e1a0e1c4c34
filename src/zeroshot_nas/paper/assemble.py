"""The paper document's generated pieces (``results/<experiment>/paper/generated/``), written
section by section from the registry :data:`~zeroshot_nas.paper.sections.SECTIONS`.

Every number written comes from the statistics of the run; the papers' values are read from
``paper/published.yaml`` and printed next to ours with the difference (ours − paper).
Figures and tables are named by the paper they reproduce ("PS Figure 3"), from
:mod:`zeroshot_nas.plots.catalog`. Tables are ``longtable``s (they break across pages) and
every figure is an unbreakable box scaled to the text block, its height included, set in
reading order (not a float).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from zeroshot_nas import io
from zeroshot_nas.stats import analysis

from . import not_reproduced
from .claims import claims_table, claims_tex
from .document import Document, RunInputs, Tables
from .latex import missing_reason
from .protocol import run_macros
from .published import load_published
from .report import write_report_captions
from .sections import SECTIONS
from .snippets import write_figures, write_search_floats


def _search_tables() -> tuple[str, ...]:
    """The quoted search tables the sections show, in the document's order."""
    return tuple(key for section in SECTIONS for key in section.search_tables)


def _manifest_run(figures_dir: Path | None) -> dict:
    """What the figures stage read from the scores table about the run (its manifest)."""
    path = None if figures_dir is None else figures_dir / "figures_manifest.json"
    if path is None or not path.exists():
        return {}
    return dict(json.loads(path.read_text(encoding="utf-8")).get("run", {}))


def _compute_tables(inputs: RunInputs, search_dir: Path | None) -> Tables:
    """Every table of the document as a DataFrame, keyed by its CSV's name: each section's,
    the claims of all, and the search stage's tables the sections quote."""
    tables: Tables = {}
    for section in SECTIONS:
        tables.update(section.tables(inputs))
    tables["claims"] = claims_table([c for s in SECTIONS for c in s.claims(inputs)])
    if search_dir is not None:
        for key in _search_tables():
            csv = Path(search_dir) / f"search_{key}.csv"
            if csv.exists():
                tables[f"search_{key}"] = pd.read_csv(csv)
    return tables


def _table_texts(inputs: RunInputs, tables: Tables) -> dict[str, str]:
    """The ``<name>.tex`` of every section's tables, then each section's claims table."""
    texts: dict[str, str] = {}
    for section in SECTIONS:
        texts.update(section.texts(inputs, tables))
    for section in SECTIONS:
        texts[f"claims_{section.key}"] = claims_tex(tables["claims"], section.key)
    return {k: v for k, v in texts.items() if v}


def sections_tex() -> str:
    """The document's body (``paper/main.tex`` inputs it): every section in order."""
    keys = [*(s.key for s in SECTIONS), "not_reproduced"]
    return "".join(rf"\input{{generated/section_{key}.tex}}" + "\n" for key in keys)


def write_paper_tables(
    stats_dir: Path | str,
    out_dir: Path | str,
    figures_dir: Path | str | None = None,
    published_path: Path | str | None = None,
    registry=None,
    search_dir: Path | str | None = None,
    run: dict | None = None,
    space_stats: dict[str, Path | str] | None = None,
    sample_stats: dict[str, Path | str] | None = None,
) -> list[Path]:
    """Write ``<out_dir>/*.tex`` (tables, run macros, one file per drawn figure, the search
    tables of ``search_dir`` when given, one ``section_<key>.tex`` per section and
    ``sections.tex`` listing them for ``paper/main.tex``), the tables as CSV and the report's
    captions of them. ``run``: the settings the workflow passes (experiment, image sources
    and counts, configuration); the scores table's own protocol columns come from the
    figures' manifest. ``space_stats``: the statistics folders of the run's experiments on
    another space's tables, by table name (the NAS-Bench-101 section reads ``nb101`` and
    ``nb101-naslib``). ``sample_stats``: the statistics folders of the run's other
    experiments on the report's space and table, by experiment name (RB Table 1 takes the
    scores the report experiment lacks from them). Figure paths are written relative to
    ``out_dir``'s parent (the paper folder, where LaTeX runs). Returns the written paths."""
    stats, summary = analysis.read_stats(stats_dir)
    published = load_published(published_path)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    fdir = Path(figures_dir) if figures_dir is not None else None
    sdir = Path(search_dir) if search_dir is not None else None
    others = {name: analysis.read_stats(path)[0] for name, path in (space_stats or {}).items()}
    samples = {name: analysis.read_stats(path)[0]
               for name, path in (sample_stats or {}).items()}
    inputs = RunInputs(stats, summary, published, registry, _manifest_run(fdir), run or {},
                       others, samples)
    tables = _compute_tables(inputs, sdir)
    doc = Document(out, stats, summary, published, tables["claims"])
    written = [io.write_text(out / "run_macros.tex", run_macros(summary, stats))]
    for key, text in _table_texts(inputs, tables).items():
        written.append(io.write_text(out / f"{key}.tex", text))
        if (why := missing_reason(text)) is not None:
            doc.missing[key] = why
    anytime = sorted((sdir.parent / "figures").glob("*.pdf")) if sdir is not None else []
    written += write_figures(doc, fdir, anytime)
    written += write_search_floats(doc, sdir, _search_tables())
    tables["not_reproduced"] = not_reproduced.not_reproduced_table(doc.skipped, doc.missing)
    written.append(io.write_text(out / "not_reproduced.tex",
                                 not_reproduced.not_reproduced_tex(tables["not_reproduced"])))
    for name, table in tables.items():
        written.append(io.write_csv(out / f"{name}.csv", table))
    for section in SECTIONS:
        written.append(io.write_text(out / f"section_{section.key}.tex", section.write(doc)))
    written.append(io.write_text(out / "section_not_reproduced.tex", not_reproduced.section(doc)))
    written.append(io.write_text(out / "sections.tex", sections_tex()))
    written += write_report_captions(out, tables, stats)
    return written
