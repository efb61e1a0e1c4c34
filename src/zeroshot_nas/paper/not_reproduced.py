"""The document's last section: every figure and table of the papers the pipeline does not
reproduce (the catalogue's list, with why), then what this run did not draw or compute
(its figures' skip notes, tables without a row)."""

from __future__ import annotations

import pandas as pd

from zeroshot_nas.plots import catalog

from .document import Document
from .latex import longtable, paragraph_column
from .tex import tex_escape


def not_reproduced_table(skipped: dict[str, str], missing: dict[str, str]) -> pd.DataFrame:
    """What the papers have and we do not reproduce (always), then what this run did not
    draw or compute (its figures' skip notes, tables without a row)."""
    rows = [{"paper": catalog.PAPERS[n.paper].short, "item": n.item, "why": n.why,
             "scope": "pipeline"} for n in catalog.NOT_REPRODUCED]

    def short(paper: str) -> str:
        return catalog.PAPERS[paper].short if paper in catalog.PAPERS else "run"

    for name, note in skipped.items():
        entry = catalog.resolve_figure(name)
        why = note.split(": not drawn: ", 1)[-1]
        rows.append({"paper": short(entry.paper), "item": entry.heading,
                     "why": f"Not drawn by this run: {why}.", "scope": "this run"})
    for key, why in missing.items():
        entry = catalog.resolve_table(key)
        rows.append({"paper": short(entry.paper), "item": entry.heading,
                     "why": f"Not computed by this run: {why}.", "scope": "this run"})
    return pd.DataFrame(rows, columns=["paper", "item", "why", "scope"])


def not_reproduced_tex(table: pd.DataFrame) -> str:
    text = ""
    for scope, caption in (("pipeline", "Every figure and table of the four papers (as "
                            "provided in shared/papers) that this pipeline does not reproduce, "
                            "and why; published values of those we quote are in the tables "
                            "above."),
                           ("this run", "Figures and tables this run did not draw or compute, "
                            "with the reason its stages recorded (a smaller configuration "
                            "scores fewer scores or data sets).")):
        sub = table[table["scope"] == scope]
        if sub.empty:
            continue
        rows = [[tex_escape(r.paper), tex_escape(r.item), tex_escape(r.why)]
                for r in sub.itertuples()]
        text += longtable(["Paper", "Figure or table", "Why"], rows,
                          paragraph_column(0.07) + paragraph_column(0.36)
                          + paragraph_column(0.47), "not_reproduced", caption)
    return text


def section(doc: Document) -> str:
    return "\\section{Not reproduced}\n" + doc.table("not_reproduced")
