"""What each drawn figure and generated table reproduces: its paper, the number the paper
gives it ("PS Figure 3"), its title, and what we do not reproduce and why. The papers'
entries are read from the ``papers`` block of ``paper/published.yaml`` (one block per paper,
beside its published values); the run's own tables are listed here.

Light on purpose (no numpy, no matplotlib): the workflow's rule files import it while
Snakemake parses them, to group the report by paper.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from zeroshot_nas.paper.published import DEFAULT_PUBLISHED, load_published
from zeroshot_nas.spaces.common import DATASET_TITLES


@dataclass(frozen=True)
class Paper:
    key: str
    short: str
    title: str
    source: str  # file name of the paper's text under shared/papers


RUN = "run"  # items about the run itself (protocol, statistics), not one paper


@dataclass(frozen=True)
class Item:
    """A figure or table: ``label`` is the paper's own number ("PS Figure 3"); ``ours`` marks
    items the paper does not have (drawn from its numbers, or evidence we add); ``height``
    the share of the page's text height a tall figure may take in the document (None: the
    document's default)."""

    key: str
    paper: str
    label: str
    title: str
    ours: bool = False
    height: float | None = None


@dataclass(frozen=True)
class NotReproduced:
    paper: str
    item: str
    why: str


@dataclass(frozen=True)
class Catalogue:
    """Every paper, figure and table of the document, and what is not reproduced."""

    papers: dict[str, Paper]
    figures: dict[str, Item]
    tables: dict[str, Item]
    table_aliases: dict[str, str]  # CSV twin -> its table, where the names differ
    per_dataset: tuple[str, ...]  # figures drawn once per data set: <key>_<dataset>[_part<n>]
    not_reproduced: tuple[NotReproduced, ...]


def _field(block: dict, key: str, where: str, path: Path) -> str:
    value = block.get(key) if isinstance(block, dict) else None
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{path}: {where}.{key} must be a non-empty text")
    return value


def _items(paper: str, block: dict, kind: str, where: str, path: Path) -> dict[str, Item]:
    """The figures or tables (``kind``) of ``block`` (at ``where`` in the file)."""
    entries = block.get(kind) or {}
    if not isinstance(entries, dict):
        raise ValueError(f"{path}: {where}.{kind} must map file names to entries")
    return {key: Item(key, paper, _field(entry, "label", f"{where}.{kind}.{key}", path),
                      _field(entry, "title", f"{where}.{kind}.{key}", path),
                      bool(entry.get("ours", False)),
                      _height(entry, f"{where}.{kind}.{key}", path))
            for key, entry in entries.items()}


def _height(entry: dict, where: str, path: Path) -> float | None:
    value = entry.get("height")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 0.9:
        raise ValueError(f"{path}: {where}.height must be a share of the text height in "
                         f"(0, 0.9], not {value!r}")
    return float(value)


def load_catalogue(path: Path | str | None = None) -> Catalogue:
    """The ``papers`` block of ``paper/published.yaml`` (or another file of its layout): each
    paper's names, figures, tables and what is not reproduced; and its ``document`` block:
    the document's own tables (about the run, not one paper). Raises ValueError naming the
    file and key of an entry that lacks a field."""
    path = Path(path) if path else DEFAULT_PUBLISHED
    published = load_published(path)
    papers_block, document = published.get("papers"), published.get("document", {})
    if not isinstance(papers_block, dict) or not papers_block:
        raise ValueError(f"{path}: no `papers` block naming the papers")
    if not isinstance(document, dict) or not all(isinstance(b, dict)
                                                 for b in papers_block.values()):
        raise ValueError(f"{path}: `document` and each paper of `papers` must be mappings")
    papers, figures, tables, aliases, per_dataset, missing = {}, {}, {}, {}, [], []
    blocks = [(RUN, "document", document),
              *((key, f"papers.{key}", block) for key, block in papers_block.items())]
    for key, where, block in blocks:
        figures.update(_items(key, block, "figures", where, path))
        tables.update(_items(key, block, "tables", where, path))
        per_dataset += [k for k, e in (block.get("figures") or {}).items()
                        if e.get("per_dataset")]
        aliases.update({e["csv"]: k for k, e in (block.get("tables") or {}).items()
                        if e.get("csv")})
        if key == RUN:
            continue
        papers[key] = Paper(key, *(_field(block, f, where, path)
                                   for f in ("short", "title", "source")))
        missing += [NotReproduced(key, _field(n, "item", f"{where}.not_reproduced[{i}]", path),
                                  _field(n, "why", f"{where}.not_reproduced[{i}]", path))
                    for i, n in enumerate(block.get("not_reproduced") or [])]
    return Catalogue(papers, figures, tables, aliases, tuple(per_dataset), tuple(missing))


_CATALOGUE = load_catalogue()
PAPERS: dict[str, Paper] = _CATALOGUE.papers
FIGURES: dict[str, Item] = _CATALOGUE.figures
TABLES: dict[str, Item] = _CATALOGUE.tables
TABLE_ALIASES: dict[str, str] = _CATALOGUE.table_aliases
NOT_REPRODUCED: tuple[NotReproduced, ...] = _CATALOGUE.not_reproduced

# "(?!)" never matches: no figure is drawn per data set
_PER_DATASET = re.compile(
    r"^(?P<key>" + ("|".join(map(re.escape, _CATALOGUE.per_dataset)) or "(?!)")
    + r")_(?P<dataset>" + "|".join(re.escape(d) for d in DATASET_TITLES)
    + r")(?:_part(?P<part>\d+))?$")


@dataclass(frozen=True)
class Resolved:
    """A file name resolved to its catalogue item (and data set / part for split figures)."""

    item: Item
    dataset: str | None = None
    part: int | None = None

    @property
    def paper(self) -> str:
        return self.item.paper

    @property
    def heading(self) -> str:
        """The title line: the paper's number, the data set and the part of a split figure."""
        bits = [DATASET_TITLES.get(self.dataset, self.dataset)] if self.dataset else []
        if self.part is not None:
            bits.append(f"part {self.part}")
        return self.item.label + (f" ({', '.join(bits)})" if bits else "")


def resolve_figure(name: str) -> Resolved:
    """The catalogue entry of a figure file's stem (``ps_fig2_cifar10_part2``, ``ps_fig3``);
    unknown names get an item of their own so that nothing drawn goes unlisted."""
    m = _PER_DATASET.match(name)
    if m:
        part = int(m["part"]) if m["part"] else None
        return Resolved(FIGURES[m["key"]], m["dataset"], part)
    if name in FIGURES:
        return Resolved(FIGURES[name])
    if name.startswith("search_anytime"):
        return Resolved(Item(name, "rb", "Search curves", "Anytime search curves: best test "
                             "accuracy found against charged search seconds (training-free "
                             "methods are charged the measured seconds of their scores, "
                             "training-based ones the simulated training time), mean over runs",
                             ours=True))
    return Resolved(Item(name, RUN, name, name, ours=True))


def resolve_table(name: str) -> Resolved:
    """The catalogue entry of a generated table (its .tex or .csv stem)."""
    key = TABLE_ALIASES.get(name, name)
    if key in TABLES:
        return Resolved(TABLES[key])
    return Resolved(Item(name, RUN, name, name, ours=True))


def category(paper: str) -> str:
    """The report category of a paper key: "PS: <title>"; the run's own items apart."""
    if paper in PAPERS:
        return f"{PAPERS[paper].short}: {PAPERS[paper].title}"
    return "Run: protocol, statistics, document"


def figure_category(name: str) -> str:
    return category(resolve_figure(name).paper)


def table_category(name: str) -> str:
    return category(resolve_table(name).paper)


def figure_labels(name: str) -> dict[str, str]:
    r = resolve_figure(name)
    return {"item": r.heading, "title": r.item.title}


def table_labels(name: str) -> dict[str, str]:
    r = resolve_table(name)
    return {"item": r.heading, "title": r.item.title}


def rst_escape(text: str) -> str:
    """Plain text as reStructuredText that renders as the same text: every ASCII mark is
    backslash-escaped (``|slope|`` would otherwise be a substitution) and whitespace runs
    become one space (an indented line would otherwise open a block quote)."""
    flat = " ".join(str(text).split())
    return re.sub(r"([!-/:-@\[-`{-~])", r"\\\1", flat)
