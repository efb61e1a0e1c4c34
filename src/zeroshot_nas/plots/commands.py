"""Commands of the figures stage: ``figures`` and ``copy-figures``."""

from __future__ import annotations

import argparse
from pathlib import Path


def _figures(args: argparse.Namespace) -> int:
    from zeroshot_nas.plots.figures import draw_figures

    draw_figures(args.scores, args.stats, args.out)
    return 0


def _copy_figures(args: argparse.Namespace) -> int:
    from zeroshot_nas.plots.publish import copy_figures

    source = Path(args.results) / args.experiment / "figures"
    dest = Path(args.dest) / args.experiment
    report = copy_figures(source, dest, args.only)
    print(f"copied {len(report.copied)} file(s) from {source} into {dest}"
          + (f"; removed {len(report.removed)} copied earlier" if report.removed else "")
          + (f"; left {len(report.kept)} changed since" if report.kept else ""))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the figures commands to the CLI."""
    p = subparsers.add_parser("figures", help="every figure of the papers from a run")
    p.add_argument("--scores", required=True, help="results/<experiment>/scores.parquet")
    p.add_argument("--stats", required=True, help="folder written by `stats`")
    p.add_argument("--out", required=True, help="output folder (PNG, PDF, captions)")
    p.set_defaults(func=_figures)

    c = subparsers.add_parser(
        "copy-figures", help="copy a run's figures into figures/<experiment>/",
        description="Copies the figures of results/<experiment>/figures into "
        "figures/<experiment>/ (the repository's home of regenerated figures). It replaces or "
        "removes only files it copied earlier and that are unchanged since (copied.json "
        "lists them); any other file there stops the copy before anything is written.")
    c.add_argument("--experiment", required=True, help="experiment name (results/<name>)")
    c.add_argument("--only", nargs="+", metavar="FIGURE",
                   help="figure names (e.g. ps_fig3), default every figure the run drew")
    c.add_argument("--results", default="results", help="folder holding the runs' results")
    c.add_argument("--dest", default="figures", help="folder of the copies (one per experiment)")
    c.set_defaults(func=_copy_figures)
