"""The figures and quoted search tables as boxes the sections ``\\input``: one
``fig_<stem>.tex`` per drawn figure and one ``search_float_<key>.tex`` per search table,
each under the paper's number and scaled to the text block, set in reading order (not a
float: floats beside the longtables did overflow pages)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from zeroshot_nas import io
from zeroshot_nas.plots import catalog
from zeroshot_nas.stats import analysis

from .document import Document
from .tex import tex_escape

FIGURE_HEIGHT = r"0.62\textheight"  # image + the longest caption stay within one page
# (a figure's catalogue entry may give a taller share: one row per score needs the page)


def figure_tex(figures_dir: Path, name: str, paper_dir: Path,
               width: str = r"\linewidth") -> str | None:
    """A figure environment for ``name`` when the run drew it, captioned with the paper's
    number and title and the text of its .txt; scaled to the text block (width and height).
    The graphics path is relative to ``paper_dir``, where LaTeX runs."""
    pdf = figures_dir / f"{name}.pdf"
    txt = figures_dir / f"{name}.txt"
    if not pdf.exists():
        return None
    caption = txt.read_text(encoding="utf-8").strip() if txt.exists() else ""
    entry = catalog.resolve_figure(name)
    rel = Path(os.path.relpath(pdf.resolve(), start=paper_dir.resolve())).as_posix()
    height = rf"{entry.item.height}\textheight" if entry.item.height else FIGURE_HEIGHT
    # Not a float: an unbreakable box in reading order. It moves to the next page when it
    # does not fit, and cannot overflow one (image at most FIGURE_HEIGHT, caption below).
    return ("\\par\\medskip\\noindent\\begin{minipage}{\\linewidth}\n\\centering\n"
            f"\\includegraphics[width={width},height={height},keepaspectratio]{{{rel}}}\n"
            f"\\captionof*{{figure}}{{\\textbf{{{tex_escape(entry.heading)}.}}\\enspace "
            f"{tex_escape(entry.item.title)}. {tex_escape(caption)}}}\n"
            "\\end{minipage}\\par\\medskip\n")


def search_table_tex(key: str, source: str, with_notes: bool) -> str:
    """A quoted search table of the search stage (``search_<key>.tex``) as a float scaled to
    the text block, under the paper's number."""
    entry = catalog.resolve_table(f"search_{key}")
    caption = tex_escape(f"{entry.item.title}. Our runs beside the published values "
                         f"({' '.join(source.split())})")
    return ("\\par\\medskip\\noindent\\begin{minipage}{\\linewidth}\n\\centering\\footnotesize\n"
            f"\\captionof*{{table}}{{\\textbf{{{tex_escape(entry.heading)}.}}\\enspace "
            f"{caption}}}\n"
            "\\begin{adjustbox}{max width=\\linewidth,max totalheight=0.6\\textheight}\n"
            f"\\input{{generated/search_{key}.tex}}\n\\end{{adjustbox}}\n"
            + (f"\\par\\smallskip\\raggedright\\input{{generated/search_{key}_notes.tex}}\n"
               if with_notes else "") + "\\end{minipage}\\par\\medskip\n")


def _figure_order(stem: str) -> tuple:
    r = catalog.resolve_figure(stem)
    ds = list(analysis.DATASET_ORDER)
    return (ds.index(r.dataset) if r.dataset in ds else -1, r.part or 0, stem)


def write_figures(doc: Document, figures_dir: Path | None,
                  search_figures: list[Path]) -> list[Path]:
    """fig_<name>.tex for every drawn figure (and the search stage's anytime figures),
    grouped by catalogue key in the document's order; the figures' skip notes into
    ``doc.skipped``."""
    written = []
    pdfs = sorted(figures_dir.glob("*.pdf")) if figures_dir is not None else []
    for pdf in [*pdfs, *search_figures]:
        text = figure_tex(pdf.parent, pdf.stem, doc.out.parent)
        if text:
            written.append(io.write_text(doc.out / f"fig_{pdf.stem}.tex", text))
            key = catalog.resolve_figure(pdf.stem).item.key
            key = "search_anytime" if key.startswith("search_anytime") else key
            doc.figures.setdefault(key, []).append(pdf.stem)
    for key in doc.figures:
        doc.figures[key].sort(key=_figure_order)
    if figures_dir is not None and (figures_dir / "figures_manifest.json").exists():
        manifest = json.loads((figures_dir / "figures_manifest.json").read_text())
        doc.skipped = dict(manifest.get("skipped", {}))
    return written


def write_search_floats(doc: Document, search_dir: Path | None,
                        keys: tuple[str, ...]) -> list[Path]:
    """The search stage's tables into ``generated/`` and a float per quoted table of
    ``keys`` (recorded in ``doc.search``)."""
    if search_dir is None:
        return []
    written = []
    for tex in sorted(Path(search_dir).glob("*.tex")):
        written.append(io.write_text(doc.out / tex.name, tex.read_text(encoding="utf-8")))
    quoted = doc.published.get("search_tables", {})
    for key in keys:
        if (doc.out / f"search_{key}.tex").exists() and key in quoted:
            notes = (doc.out / f"search_{key}_notes.tex").exists()
            written.append(io.write_text(doc.out / f"search_float_{key}.tex", search_table_tex(
                key, str(quoted[key].get("source", "")), notes)))
            doc.search.append(key)
    return written
