"""Commands ``search`` (one algorithm × data set × R runs → a Parquet of runs) and
``search-tables`` (run files → search tables, CSV + LaTeX, and the anytime figure).

Option defaults are the workflow schema's (``search`` and ``stats.rank_combination``); the
papers' settings are in the presets.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import pandas as pd

from zeroshot_nas import io
from zeroshot_nas.config import (
    check_ntk_batch_size,
    schema_default,
    schema_default_root,
    seed_argument,
)
from zeroshot_nas.proxies.commands import add_protocol_options
from zeroshot_nas.stats import seeds as seed_rules

from . import algorithms as alg
from .bohb import BOHBConfig
from .runner import ALGORITHMS, SearchSettings, live_scorer_for, run_search

DEFAULT = SearchSettings()  # the schema's defaults

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``search`` and ``search-tables``."""
    _add_search_parser(subparsers)
    _add_search_tables_parser(subparsers)


def _add_search_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "search",
        help="run a search algorithm R times on one data set",
        description="Run one search algorithm on one data set for R seeded runs; write one "
        "row per run (chosen arch, its benchmark accuracies, charged evaluations/seconds, "
        "anytime trace) to a Parquet file.",
    )
    # Argument order is the order of `--help`: inputs, budgets, then one group per algorithm.
    _add_run_options(p)
    _add_budget_options(p)
    _add_ga_options(p)
    _add_sa_options(p)
    _add_rea_options(p)
    _add_nats_algorithm_options(p)
    _add_live_options(p)
    p.set_defaults(func=cmd_search)


def _add_run_options(p: argparse.ArgumentParser) -> None:
    """What to search, with which inputs, how often, and where the runs go."""
    p.add_argument("--algorithm", required=True, choices=ALGORITHMS)
    p.add_argument("--space", default="nb201", choices=("nb201", "nats_sss"))
    p.add_argument("--dataset", required=True)
    p.add_argument(
        "--benchmark",
        type=Path,
        help="benchmark table (Parquet); accuracies of "
        "the chosen architectures and the training lookups",
    )
    p.add_argument("--scores", type=Path, help="merged scores table (Parquet, long format)")
    p.add_argument("--out", required=True, type=Path, help="output Parquet of runs")
    p.add_argument("--runs", type=int, default=schema_default("search", "runs"),
                   help="independent runs (papers 100)")
    p.add_argument("--seed", type=seed_argument, default=schema_default("search", "seed"),
                   help="base seed; run r uses [seed, r]")
    p.add_argument(
        "--score-seed", type=seed_argument,
        help="read this scoring seed of the scores table alone (default: its seeds combined "
        "by --seed-aggregation)",
    )
    p.add_argument(
        "--seed-aggregation", choices=seed_rules.AGGREGATIONS,
        default=schema_default("stats", "seed_aggregation"),
        help="how the values of the table's scoring seeds become one per architecture "
        "(first: the smallest seed alone)",
    )


def _add_budget_options(p: argparse.ArgumentParser) -> None:
    """Budgets and score choices shared by the algorithms (the fields of SearchSettings)."""
    p.add_argument(
        "--pool",
        choices=("space", "table"),
        default=DEFAULT.pool,
        help="random search with a score and AREA draw from the whole space or "
        "only from the architectures the scores table holds",
    )
    p.add_argument(
        "--budget",
        type=int,
        default=DEFAULT.budget,
        help="score evaluations per GA/SA run (rank-based paper 1,000)",
    )
    p.add_argument(
        "--sample-sizes",
        type=int,
        nargs="+",
        default=list(DEFAULT.sample_sizes),
        help="N of random search with a score",
    )
    p.add_argument(
        "--random-scores",
        nargs="+",
        default=list(DEFAULT.random_scores),
        help="scores that random search picks by, one at a time",
    )
    p.add_argument(
        "--rank-scores",
        nargs="+",
        default=list(DEFAULT.rank_scores),
        help="scores combined by summed rank (random search, GA, SA)",
    )
    _add_training_options(p)
    p.add_argument(
        "--area-sample",
        type=int,
        default=DEFAULT.area_sample,
        help="random architectures AREA scores before evolving",
    )
    p.add_argument(
        "--area-scores",
        nargs="+",
        default=list(DEFAULT.area_scores),
        help="score(s) AREA ranks its sample by (several: summed rank)",
    )


def _add_training_options(p: argparse.ArgumentParser) -> None:
    """The simulated training of the training-based searches (benchmark lookups)."""
    p.add_argument(
        "--train-seconds",
        type=float,
        default=DEFAULT.train_seconds,
        help="simulated training-time budget where the benchmark has times "
        "(CIFAR-10); 0 disables it",
    )
    p.add_argument(
        "--train-evals",
        type=int,
        default=DEFAULT.train_evals,
        help="training budget (count) where the benchmark has no times",
    )
    p.add_argument(
        "--train-metric",
        default="valid_acc_12",
        help="benchmark column a simulated training returns",
    )


def _add_ga_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("rank-based GA (authors' defaults)")
    g.add_argument("--ga-population", type=int, default=alg.GAConfig.population)
    g.add_argument("--ga-iterations", type=int, default=alg.GAConfig.iterations)
    g.add_argument("--ga-mutation", type=float, default=alg.GAConfig.p_mutation)
    g.add_argument("--ga-crossover", type=float, default=alg.GAConfig.p_crossover)


def _add_sa_options(p: argparse.ArgumentParser) -> None:
    s = p.add_argument_group("rank-based SA (published defaults)")
    s.add_argument("--sa-t0", type=float, default=alg.SAConfig.t_initial)
    s.add_argument("--sa-tend", type=float, default=alg.SAConfig.t_end)
    s.add_argument("--sa-cooling", type=float, default=alg.SAConfig.cooling)
    s.add_argument("--sa-iterations", type=int, default=alg.SAConfig.iterations)
    s.add_argument("--sa-alpha", type=float, default=alg.SAConfig.alpha)
    s.add_argument("--sa-neighbours", type=int, default=alg.SAConfig.neighbours)
    s.add_argument("--sa-beta", type=float, default=alg.SAConfig.beta)


def _add_rea_options(p: argparse.ArgumentParser) -> None:
    r = p.add_argument_group("REA / AREA (NATS-Bench defaults)")
    r.add_argument("--rea-population", type=int, default=alg.REAConfig.population)
    r.add_argument("--rea-sample", type=int, default=alg.REAConfig.sample)


def _add_nats_algorithm_options(p: argparse.ArgumentParser) -> None:
    rl = p.add_argument_group("REINFORCE (NATS-Bench defaults)")
    rl.add_argument("--reinforce-lr", type=float, default=alg.ReinforceConfig.learning_rate)
    rl.add_argument("--reinforce-momentum", type=float,
                    default=alg.ReinforceConfig.ema_momentum, help="EMA baseline momentum")
    bo = p.add_argument_group("BOHB (hpbandster; NATS-Bench defaults, budgets in epochs)")
    bo.add_argument("--bohb-eta", type=float, default=BOHBConfig.eta)
    bo.add_argument("--bohb-min-budget", type=float, default=BOHBConfig.min_budget)
    bo.add_argument("--bohb-num-samples", type=int, default=BOHBConfig.num_samples)
    bo.add_argument("--bohb-random-fraction", type=float, default=BOHBConfig.random_fraction)
    bo.add_argument("--bohb-bandwidth-factor", type=float, default=BOHBConfig.bandwidth_factor)
    bo.add_argument("--bohb-min-bandwidth", type=float, default=BOHBConfig.min_bandwidth)


def _add_live_options(p: argparse.ArgumentParser) -> None:
    live = p.add_argument_group("live scoring of architectures the scores table lacks")
    live.add_argument(
        "--live",
        action="store_true",
        help="score missing architectures with the proxy engine (cached per architecture)",
    )
    live.add_argument("--images", type=Path, help="prepared images (data/images/<dataset>.npz)")
    live.add_argument("--cache-dir", type=Path, default=Path(schema_default_root("cache_dir")))
    add_protocol_options(live)


def _add_search_tables_parser(subparsers: argparse._SubParsersAction) -> None:
    t = subparsers.add_parser(
        "search-tables",
        help="search tables (CSV + LaTeX) and the anytime figure",
        description="Collect run files of `search` into the search tables next to the "
        "published values, and draw the anytime figure.",
    )
    t.add_argument("runs", nargs="+", type=Path, help="run files written by `search`")
    t.add_argument(
        "--benchmark",
        action="append",
        default=[],
        metavar="[SPACE=]PATH",
        help="benchmark table of a space (default space nb201); repeatable",
    )
    t.add_argument("--out", required=True, type=Path, help="folder for tables")
    t.add_argument("--figures", type=Path, help="folder for the figure (default: --out)")
    t.set_defaults(func=cmd_search_tables)


def _read_parquet(path: Path | None, what: str) -> pd.DataFrame | None:
    if path is None:
        return None
    if not path.is_file():
        raise FileNotFoundError(f"{what} {path} does not exist")
    return pd.read_parquet(path)


def _settings(args: argparse.Namespace) -> SearchSettings:
    return SearchSettings(
        budget=args.budget,
        sample_sizes=tuple(args.sample_sizes),
        random_scores=tuple(args.random_scores),
        rank_scores=tuple(args.rank_scores),
        train_seconds=args.train_seconds if args.train_seconds > 0 else None,
        train_evals=args.train_evals,
        train_metric=args.train_metric,
        area_sample=args.area_sample,
        area_scores=tuple(args.area_scores),
        pool=args.pool,
        ga=alg.GAConfig(
            args.ga_population, args.ga_iterations, args.ga_mutation, args.ga_crossover
        ),
        sa=alg.SAConfig(
            args.sa_t0,
            args.sa_tend,
            args.sa_cooling,
            args.sa_iterations,
            args.sa_alpha,
            args.sa_neighbours,
            args.sa_beta,
        ),
        rea=alg.REAConfig(args.rea_population, args.rea_sample),
        reinforce=alg.ReinforceConfig(args.reinforce_lr, args.reinforce_momentum),
        bohb=BOHBConfig(eta=args.bohb_eta, min_budget=args.bohb_min_budget,
                        num_samples=args.bohb_num_samples,
                        random_fraction=args.bohb_random_fraction,
                        bandwidth_factor=args.bohb_bandwidth_factor,
                        min_bandwidth=args.bohb_min_bandwidth),
    )


def _live_scorer(args: argparse.Namespace, names: list[str], scores: pd.DataFrame | None):
    if not args.live:
        return None
    if args.images is None:
        raise ValueError("--live needs --images (the prepared <dataset>.npz)")
    settings = {"batch_size": args.batch_size, "bn_mode": args.bn_mode, "dtype": args.dtype,
                "init": args.init, "kaiming_mode": args.kaiming_mode, "device": args.device,
                "ntk_batch_size": args.ntk_batch_size, "threads": args.threads}
    # the seeds the table's values combine, so that a live score is combined the same way
    seeds = [args.score_seed] if args.score_seed is not None else sorted(
        {int(s) for s in scores.loc[scores["dataset"] == args.dataset, "seed"]}
        if scores is not None else ()) or [0]
    return live_scorer_for(args.space, args.dataset, seeds, names, args.images, args.cache_dir,
                           settings, args.seed_aggregation)


def cmd_search(args: argparse.Namespace) -> int:
    """Run the searches and write the run table."""
    if args.runs < 1:
        raise ValueError(f"--runs must be at least 1, got {args.runs}")
    if args.live:  # the protocol check of `score` and of the configuration
        check_ntk_batch_size(args.ntk_batch_size, args.batch_size, "--ntk-batch-size")
    settings = _settings(args)
    benchmark = _read_parquet(args.benchmark, "benchmark table")
    scores = _read_parquet(args.scores, "scores table")
    live = _live_scorer(args, settings.score_names(args.algorithm), scores)
    start = time.perf_counter()
    runs = run_search(
        args.algorithm,
        space=args.space,
        dataset=args.dataset,
        runs=args.runs,
        seed=args.seed,
        benchmark=benchmark,
        scores=scores,
        settings=settings,
        live=live,
        score_seed=args.score_seed,
        seed_aggregation=args.seed_aggregation,
    )
    io.write_parquet(args.out, runs)
    summary = runs.groupby("method")["test_acc"].agg(["mean", "std"]).round(2)
    log.info(
        "%s on %s/%s: %d runs in %.1f s -> %s\n%s",
        args.algorithm,
        args.space,
        args.dataset,
        args.runs,
        time.perf_counter() - start,
        args.out,
        summary,
    )
    return 0


def _benchmarks(specs: list[str]) -> dict[str, pd.DataFrame]:
    out = {}
    for spec in specs:
        space, _, path = spec.rpartition("=")
        space = space or "nb201"
        if space in out:
            raise ValueError(f"--benchmark given twice for space {space!r}")
        out[space] = _read_parquet(Path(path), f"benchmark table of {space}")
    return out


def cmd_search_tables(args: argparse.Namespace) -> int:
    """Write the search tables and the anytime figure(s)."""
    from .report import write_search_outputs

    written = write_search_outputs(list(args.runs), _benchmarks(args.benchmark), args.out,
                                   args.figures or args.out)
    log.info("wrote %s", ", ".join(str(p) for p in written))
    return 0
