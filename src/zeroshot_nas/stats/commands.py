"""Commands of the statistics stage: ``stats``, ``tables``, ``paper-tables``, ``build-paper``."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import pandas as pd

log = logging.getLogger(__name__)


def _stats(args: argparse.Namespace) -> int:
    from zeroshot_nas.stats import analysis

    df = analysis.load_scores(args.scores)
    benchmark = None
    if args.benchmark:
        if not Path(args.benchmark).exists():
            raise FileNotFoundError(f"benchmark table not found: {args.benchmark}")
        benchmark = pd.read_parquet(args.benchmark)
    timings = None
    if args.timings:
        if not Path(args.timings).exists():
            raise FileNotFoundError(f"timings table not found: {args.timings}")
        timings = pd.read_parquet(args.timings)
    cfg = analysis.StatsConfig(
        bootstrap=args.bootstrap,
        best_of_n=args.best_of_n,
        best_of_runs=args.best_of_runs,
        rank_combination=tuple(args.rank_combination),
        seed=args.seed,
    )
    tables, summary = analysis.compute_stats(df, cfg, benchmark=benchmark, timings=timings)
    analysis.write_stats(tables, summary, args.out)
    log.info("statistics of %d score(s) on %s written to %s", len(summary["scores"]),
             ", ".join(summary["datasets"]), args.out)
    return 0


def _paper_tables(args: argparse.Namespace) -> int:
    from zeroshot_nas.stats import paper

    written = paper.write_paper_tables(args.stats, args.out, args.figures, args.published)
    log.info("%d file(s) written to %s", len(written), args.out)
    return 0


def _build_paper(args: argparse.Namespace) -> int:
    from zeroshot_nas.stats import paper

    pdf = paper.build_pdf(args.paper_dir, args.out_dir)
    if pdf is not None:
        print(f"PDF written: {pdf}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the statistics commands to the CLI."""
    p = subparsers.add_parser("stats", help="statistics of a merged scores table")
    p.add_argument("--scores", required=True, help="results/<experiment>/scores.parquet")
    p.add_argument("--out", required=True, help="output folder (CSV + Parquet + summary.json)")
    p.add_argument("--benchmark", help="benchmark table (for the benchmark optimum)")
    p.add_argument("--timings", help="standalone timing table (same long format)")
    p.add_argument("--space", help="search space of the run (informational)")
    p.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples (0: no CI)")
    p.add_argument("--best-of-n", type=int, default=100, help="architectures per run")
    p.add_argument("--best-of-runs", type=int, default=5, help="runs of best-of-N")
    p.add_argument("--rank-combination", nargs="*", default=["ni", "naswot", "logsynflow"],
                   help="scores summed by rank into the rank_combination score")
    p.add_argument("--seed", type=int, default=0, help="seed of bootstrap and sampling")
    p.set_defaults(func=_stats)

    for name, help_text in (("tables", "tables of the papers (CSV + LaTeX) from statistics"),
                            ("paper-tables", "paper/generated/*.tex from the statistics")):
        t = subparsers.add_parser(name, help=help_text)
        t.add_argument("--stats", required=True, help="folder written by `stats`")
        t.add_argument("--out", default="paper/generated", help="output folder")
        t.add_argument("--figures", help="folder of the drawn figures (figure .tex snippets)")
        t.add_argument("--published", help="published values (default paper/published.yaml)")
        t.set_defaults(func=_paper_tables)

    b = subparsers.add_parser("build-paper", help="build the PDF with latexmk (skips without)")
    b.add_argument("--paper-dir", default=None, help="folder with main.tex (default paper/)")
    b.add_argument("--out-dir", default=None, help="build folder (default paper/build)")
    b.set_defaults(func=_build_paper)
