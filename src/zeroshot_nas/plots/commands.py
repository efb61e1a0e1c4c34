"""Command of the figures stage: ``figures``."""

from __future__ import annotations

import argparse


def _figures(args: argparse.Namespace) -> int:
    from zeroshot_nas.plots.figures import draw_figures

    draw_figures(args.scores, args.stats, args.out)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the figures command to the CLI."""
    p = subparsers.add_parser("figures", help="every figure of the papers from a run")
    p.add_argument("--scores", required=True, help="results/<experiment>/scores.parquet")
    p.add_argument("--stats", required=True, help="folder written by `stats`")
    p.add_argument("--out", required=True, help="output folder (PNG, PDF, captions)")
    p.set_defaults(func=_figures)
