"""Command of the statistics stage: ``stats``."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import pandas as pd

from zeroshot_nas.config import seed_argument
from zeroshot_nas.stats import analysis, seeds
from zeroshot_nas.stats.names import RANK_COMBINATION

log = logging.getLogger(__name__)


def _highlightable(names: list[str], rank_combination: list[str]) -> list[str]:
    """The ``--highlight`` names, each a registered proxy or the rank combination (when one
    is formed); ValueError naming the option otherwise."""
    from zeroshot_nas.proxies import REGISTRY

    known = {*REGISTRY, *([RANK_COMBINATION] if rank_combination else [])}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"--highlight: unknown score {', '.join(map(repr, unknown))}; known: "
                         f"{', '.join(sorted(known))}")
    return names


def _stats(args: argparse.Namespace) -> int:
    highlight = tuple(_highlightable(args.highlight, args.rank_combination))
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
        seed_aggregation=args.seed_aggregation,
        require_path=args.require_path,
        highlight=highlight,
    )
    tables, summary = analysis.compute_stats(df, cfg, benchmark=benchmark, timings=timings)
    analysis.write_stats(tables, summary, args.out)
    log.info("statistics of %d score(s) on %s written to %s", len(summary["scores"]),
             ", ".join(summary["datasets"]), args.out)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the statistics commands to the CLI."""
    p = subparsers.add_parser("stats", help="statistics of a merged scores table")
    p.add_argument("--scores", required=True, help="results/<experiment>/scores.parquet")
    p.add_argument("--out", required=True, help="output folder (CSV + Parquet + summary.json)")
    p.add_argument("--benchmark", help="benchmark table (for the benchmark optimum)")
    p.add_argument("--timings", help="standalone timing table (same long format)")
    p.add_argument("--space", help="search space of the run (informational)")
    d = analysis.StatsConfig()  # the schema's defaults
    p.add_argument("--bootstrap", type=int, default=d.bootstrap,
                   help="bootstrap resamples (0: no CI)")
    p.add_argument("--best-of-n", type=int, default=d.best_of_n, help="architectures per run")
    p.add_argument("--best-of-runs", type=int, default=d.best_of_runs, help="runs of best-of-N")
    p.add_argument("--rank-combination", nargs="*", default=list(d.rank_combination),
                   help="scores summed by rank into the rank_combination score")
    p.add_argument("--seed", type=seed_argument, default=d.seed,
                   help="seed of bootstrap and sampling")
    p.add_argument("--seed-aggregation", choices=seeds.AGGREGATIONS, default=d.seed_aggregation,
                   help="how the values of several scoring seeds become one per architecture")
    p.add_argument("--require-path", action=argparse.BooleanOptionalAction,
                   default=d.require_path,
                   help="drop architectures without a path from input to output first")
    p.add_argument("--highlight", nargs="*", default=list(d.highlight),
                   help="scores to pick out in the comparison of every score (your proxy)")
    p.set_defaults(func=_stats)
