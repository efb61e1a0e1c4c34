"""Commands of the paper stage: ``paper-tables`` (alias ``tables``) and ``build-paper``."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

log = logging.getLogger(__name__)


def _paper_tables(args: argparse.Namespace) -> int:
    from .assemble import write_paper_tables

    space_stats = dict(_named_folder(item, "--space-stats", "nb101")
                       for item in args.space_stats or [])
    sample_stats = dict(_named_folder(item, "--sample-stats", "rb-sample")
                        for item in args.sample_stats or [])
    written = write_paper_tables(args.stats, args.out, args.figures, args.published,
                                 search_dir=args.search, space_stats=space_stats,
                                 sample_stats=sample_stats)
    log.info("%d file(s) written to %s", len(written), args.out)
    return 0


def _named_folder(item: str, option: str, example: str) -> tuple[str, str]:
    """``NAME=FOLDER`` of --space-stats (NAME a table) and --sample-stats (an experiment)."""
    name, sep, folder = item.partition("=")
    if not sep or not name or not folder:
        raise ValueError(f"{option} {item!r}: give NAME=FOLDER, e.g. "
                         f"{example}=results/{example}/stats")
    return name, folder


def _build_paper(args: argparse.Namespace) -> int:
    from .build import PAPER_DIR, build_pdf

    generated = Path(args.generated)
    pdf = build_pdf(Path(args.main or PAPER_DIR / "main.tex"), generated,
                    generated.parent / "main.pdf")
    print(f"PDF written: {pdf}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the paper commands to the CLI."""
    for name, help_text in (("tables", "tables of the papers (CSV + LaTeX) from statistics"),
                            ("paper-tables", "the paper's generated/*.tex from the statistics")):
        t = subparsers.add_parser(name, help=help_text)
        t.add_argument("--stats", required=True, help="folder written by `stats`")
        t.add_argument("--out", required=True, help="output folder (<paper>/generated)")
        t.add_argument("--figures", help="folder of the drawn figures (figure .tex snippets)")
        t.add_argument("--search", help="folder of the search tables (search-tables --out)")
        t.add_argument("--published", help="published values (default paper/published.yaml)")
        t.add_argument("--space-stats", nargs="*", metavar="TABLE=FOLDER",
                       help="statistics of the run's experiments on another space's tables "
                            "(nb101=..., nb101-naslib=...: the NAS-Bench-101 section)")
        t.add_argument("--sample-stats", nargs="*", metavar="EXPERIMENT=FOLDER",
                       help="statistics of the run's other experiments on the report's space "
                            "(RB Table 1 takes the scores the report lacks from them)")
        t.set_defaults(func=_paper_tables)

    b = subparsers.add_parser("build-paper", help="build main.pdf with latexmk beside "
                              "the generated pieces")
    b.add_argument("--generated", required=True, help="the folder paper-tables wrote")
    b.add_argument("--main", help="main.tex (default paper/main.tex)")
    b.set_defaults(func=_build_paper)
