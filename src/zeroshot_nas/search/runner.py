"""Run one search algorithm on one data set for R seeded runs and tabulate every run.

Each run gets its own generator ``numpy.random.default_rng([seed, run])``, so run r of a
seed is the same whatever else runs. The output has one row per run (and per selector for
random search with a score): the chosen architecture with its 200-epoch validation and test
accuracy from the benchmark, what the run was charged, and its anytime trace.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from zeroshot_nas.config import NB101_SEARCHES, TRAINING_FREE_SEARCHES, schema_default
from zeroshot_nas.spaces import arch_id

from . import algorithms as alg
from .bohb import BOHBConfig
from .evaluators import (
    TRAIN_EPOCHS,
    TRAIN_METRIC,
    AccuracyOracle,
    Budget,
    Ledger,
    LiveScorer,
    ScoreEvaluator,
    ScoreStore,
    TrainingEvaluator,
    trace_json,
)
from .ranking import directions_for
from .space import SearchSpace, get_space

ALGORITHMS = ("random_score", "ga_rank", "sa_rank", "random_train", "rea", "area",
              "reinforce", "bohb")
TRAINING_FREE = TRAINING_FREE_SEARCHES
TRAINING_BASED = tuple(a for a in ALGORITHMS if a not in TRAINING_FREE)

RUN_COLUMNS = [
    "algorithm",
    "method",
    "space",
    "dataset",
    "run",
    "seed",
    "arch",
    "arch_id",
    "valid_acc",
    "test_acc",
    "score_evals",
    "train_evals",
    "evaluations",
    "seconds",
    "score_seconds",
    "train_seconds",
    "budget",
    "time_simulated",
    "scores",
    "score_seed",
    "settings",
    "trace",
]


def _search_default(key: str):
    return field(default=schema_default("search", key))


@dataclass
class SearchSettings:
    """Budgets and hyper-parameters of the searches. Defaults come from the workflow schema
    (its quick run); the papers' settings (N = 10/100/1000, 1,000 evaluations, 12,000 s)
    are in the presets. GA, SA, REA, REINFORCE and BOHB keep their authors' (and NATS-Bench's)
    published hyper-parameters."""

    budget: int = _search_default("budget")
    sample_sizes: tuple[int, ...] = _search_default("sample_sizes")
    random_scores: tuple[str, ...] = _search_default("random_scores")
    rank_scores: tuple[str, ...] = field(default=schema_default("stats", "rank_combination"))
    train_seconds: float | None = _search_default("train_budget_seconds")
    train_evals: int = _search_default("train_evals")
    train_metric: str = TRAIN_METRIC
    area_sample: int = _search_default("area_sample")
    area_scores: tuple[str, ...] = _search_default("area_scores")
    pool: str = _search_default("pool")
    ga: alg.GAConfig = field(default_factory=alg.GAConfig)
    sa: alg.SAConfig = field(default_factory=alg.SAConfig)
    rea: alg.REAConfig = field(default_factory=alg.REAConfig)
    reinforce: alg.ReinforceConfig = field(default_factory=alg.ReinforceConfig)
    bohb: BOHBConfig = field(default_factory=BOHBConfig)

    @classmethod
    def from_config(cls, search: dict, rank_combination: list[str]) -> SearchSettings:
        """The settings of a validated configuration's ``search`` section (the rank
        combination is the statistics' one, so searches and tables combine the same scores)."""
        return cls(
            budget=search["budget"], sample_sizes=tuple(search["sample_sizes"]),
            random_scores=tuple(search["random_scores"]), rank_scores=tuple(rank_combination),
            train_seconds=search["train_budget_seconds"], train_evals=search["train_evals"],
            area_sample=search["area_sample"], area_scores=tuple(search["area_scores"]),
            pool=search["pool"],
        )

    def score_names(self, algorithm: str) -> list[str]:
        """Scores an algorithm needs from the scores table."""
        if algorithm == "random_score":
            return list(dict.fromkeys([*self.random_scores, *self.rank_scores]))
        if algorithm in ("ga_rank", "sa_rank"):
            return list(self.rank_scores)
        if algorithm == "area":
            return list(self.area_scores)
        return []


# Tables whose only schedule is the full one: a simulated training returns its validation
# accuracy and is charged the whole training time (NAS-Bench-101: 108 epochs).
FULL_SCHEDULE = {"nb101": ("valid_acc", 108)}


def training_metric(space: str, settings: SearchSettings) -> tuple[str, int]:
    """(benchmark column, epochs charged) of a simulated training in ``space``: the 12-epoch
    validation accuracy where the table has it, the full schedule's otherwise."""
    if space in FULL_SCHEDULE and settings.train_metric == TRAIN_METRIC:
        return FULL_SCHEDULE[space]
    return settings.train_metric, FULL_SCHEDULE.get(space, (None, TRAIN_EPOCHS))[1]


def _label_n(name: str, n: int) -> str:
    return f"{name} (N={n:,})"


def _training_budget(settings: SearchSettings, oracle: AccuracyOracle, extra: dict) -> Budget:
    if settings.train_seconds is not None and oracle.has_train_times:
        return Budget(seconds=settings.train_seconds, **extra)
    return Budget(train_evals=settings.train_evals, **extra)


def run_search(
    algorithm: str,
    *,
    space: str,
    dataset: str,
    runs: int,
    seed: int = 0,
    benchmark: pd.DataFrame | None = None,
    scores: pd.DataFrame | None = None,
    settings: SearchSettings | None = None,
    live: LiveScorer | None = None,
    directions: Mapping[str, bool] | None = None,
    score_seed: int | None = None,
    score_seeds: Sequence[int] | None = None,
    seed_aggregation: str = "first",
) -> pd.DataFrame:
    """``runs`` runs of ``algorithm`` on ``dataset``; one row per run (see ``RUN_COLUMNS``).

    ``benchmark`` gives the accuracies (a run's choice gets NaN accuracies where it has
    none); ``scores`` is the long scores table; ``live`` computes scores the table lacks;
    ``directions`` overrides the registry's ``higher_is_better`` (tests use it).
    ``score_seed`` reads one scoring seed; otherwise ``score_seeds`` (default: the table's)
    are combined by ``seed_aggregation`` (:class:`evaluators.ScoreStore`).
    """
    settings = _checked_settings(algorithm, runs, settings)
    if space == "nb101" and algorithm not in NB101_SEARCHES:
        raise ValueError(f"{algorithm} is not defined on the nb101 table (it moves in an "
                         f"NB201-style genome); its searches are {', '.join(NB101_SEARCHES)}")
    sp = get_space(space)
    oracle = AccuracyOracle(benchmark, sp, dataset)
    names = settings.score_names(algorithm)
    store = _score_store(names, scores, sp, dataset, live,
                         {"seed": score_seed, "seeds": score_seeds,
                          "aggregation": seed_aggregation})
    dirs = directions_for(names, directions) if names else []
    pool = store.archs if (store is not None and settings.pool == "table") else None
    if algorithm not in TRAINING_FREE and not oracle.available:
        raise ValueError(
            f"{algorithm} trains on the benchmark, but there are no {space} accuracies for "
            f"{dataset}; give a benchmark table with them"
        )

    rows = []
    for run in range(runs):
        rng = np.random.default_rng([seed, run])
        results, budget, timed = _one_run(
            algorithm, sp, oracle, store, dirs, names, pool, settings, rng
        )
        context = _RunContext(
            algorithm=algorithm, space=space, dataset=dataset, run=run, seed=seed,
            budget=budget, timed=timed, names=names,
            score_seed=-1 if store is None or store.seed is None else int(store.seed),
            settings=settings,
            seed_average=(store.seeds, store.aggregation) if store and store.averaged else None,
        )
        rows += [_result_row(res, oracle, context) for res in results]
    return pd.DataFrame(rows, columns=RUN_COLUMNS)


def _checked_settings(
    algorithm: str, runs: int, settings: SearchSettings | None
) -> SearchSettings:
    """The settings to run with (the schema's defaults when none are given), after the
    arguments are checked, so that nothing is loaded for a request that cannot run."""
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unknown search algorithm {algorithm!r}; expected one of {ALGORITHMS}")
    if runs < 1:
        raise ValueError(f"runs must be at least 1, got {runs}")
    settings = settings or SearchSettings()
    if settings.pool not in ("space", "table"):
        raise ValueError(f"pool must be 'space' or 'table', got {settings.pool!r}")
    return settings


def _score_store(
    names: list[str],
    scores: pd.DataFrame | None,
    sp: SearchSpace,
    dataset: str,
    live: LiveScorer | None,
    seeds: dict[str, Any],
) -> ScoreStore | None:
    """The scores an algorithm reads (``seeds``: ScoreStore's seed, seeds and aggregation);
    None when it uses none."""
    if not names:
        return None
    store = ScoreStore(names, scores, space=sp, dataset=dataset, live=live, **seeds)
    if len(store) == 0 and live is None:
        raise ValueError(
            f"no {', '.join(names)} scores for {sp.name}/{dataset} in the scores table and "
            "live scoring is off"
        )
    return store


@dataclass(frozen=True)
class _RunContext:
    """What every result row of one run shares."""

    algorithm: str
    space: str
    dataset: str
    run: int
    seed: int
    budget: Budget
    timed: bool
    names: list[str]
    score_seed: int
    settings: SearchSettings
    seed_average: tuple[tuple[int, ...], str] | None = None


def _result_row(res: alg.RunResult, oracle: AccuracyOracle, ctx: _RunContext) -> dict:
    """One row of ``RUN_COLUMNS``: the result with its benchmark accuracies (also along
    its trace) and what the run was charged."""
    valid, test = oracle.final(res.arch)
    trace = [(e, s, *oracle.final(a)) for e, s, a in res.trace]
    return {
        "algorithm": ctx.algorithm,
        "method": res.method,
        "space": ctx.space,
        "dataset": ctx.dataset,
        "run": ctx.run,
        "seed": ctx.seed,
        "arch": res.arch,
        "arch_id": arch_id(ctx.space, res.arch),
        "valid_acc": valid,
        "test_acc": test,
        "score_evals": res.score_evals,
        "train_evals": res.train_evals,
        "evaluations": res.evaluations,
        "seconds": res.seconds,
        "score_seconds": res.score_seconds,
        "train_seconds": res.train_seconds,
        "budget": ctx.budget.describe(),
        "time_simulated": ctx.timed,
        "scores": ",".join(res.info.get("scores", ctx.names)),
        "score_seed": ctx.score_seed,
        "settings": json.dumps(
            _settings_record(ctx.algorithm, ctx.space, ctx.settings, res.info,
                             ctx.seed_average),
            sort_keys=True,
        ),
        "trace": trace_json(trace),
    }


def _settings_record(algorithm: str, space: str, settings: SearchSettings, info: dict,
                     seed_average: tuple[tuple[int, ...], str] | None) -> dict:
    record = {k: v for k, v in info.items() if k != "scores"}
    if seed_average is not None:  # score_seed is -1: the scores are several seeds' average
        record["score_seeds"], record["seed_aggregation"] = list(seed_average[0]), \
            seed_average[1]
    if algorithm in TRAINING_BASED:
        record["train_metric"], record["train_epochs"] = training_metric(space, settings)
    record["pool"] = settings.pool
    return record


def _one_run(algorithm, sp, oracle, store, dirs, names, pool, settings, rng):
    """One run: returns (results, budget, whether training time was simulated)."""
    if algorithm == "random_score":
        results = []
        for n in settings.sample_sizes:
            evaluator = ScoreEvaluator(store, Ledger(Budget(score_evals=n)))
            selectors = {_label_n(s, n): [s] for s in settings.random_scores}
            if len(settings.rank_scores) > 1:
                selectors[_label_n("rank", n)] = list(settings.rank_scores)
            results += alg.random_score_search(sp, evaluator, dirs, rng, n, selectors, pool)
        budget = Budget(score_evals=max(settings.sample_sizes))
        return results, budget, False
    if algorithm in ("ga_rank", "sa_rank"):
        budget = Budget(score_evals=settings.budget)
        evaluator = ScoreEvaluator(store, Ledger(budget))
        if algorithm == "ga_rank":
            res = alg.ga_rank(sp, evaluator, dirs, rng, settings.ga)
        else:
            res = alg.sa_rank(sp, evaluator, dirs, rng, settings.sa)
        res.info["scores"] = names
        return [res], budget, False
    extra = {"score_evals": settings.area_sample} if algorithm == "area" else {}
    budget = _training_budget(settings, oracle, extra)
    ledger = Ledger(budget)
    metric, epochs = training_metric(sp.name, settings)
    trainer = TrainingEvaluator(oracle, ledger, metric=metric, epochs=epochs)
    timed = budget.seconds is not None
    if algorithm == "random_train":
        res = alg.random_train_search(sp, trainer, rng)
    elif algorithm == "rea":
        res = alg.rea(sp, trainer, rng, settings.rea)
    elif algorithm == "reinforce":
        res = alg.reinforce(sp, trainer, rng, settings.reinforce)
    elif algorithm == "bohb":
        res = alg.bohb(sp, trainer, rng, settings.bohb)
    else:
        scorer = ScoreEvaluator(store, ledger)
        res = alg.area(
            sp, scorer, dirs, trainer, rng, settings.area_sample, settings.rea, pool=pool
        )
        res.method = "AREA" if names == ["naswot"] else f"AREA ({'+'.join(names)})"
    return [res], budget, timed


def settings_dict(settings: SearchSettings) -> dict:
    """Plain-data form of the settings (for logs and provenance)."""
    return asdict(settings)


def live_scorer_for(space: str, dataset: str, seeds: Sequence[int], names: list[str], images,
                    cache_dir, protocol_settings: dict, aggregation: str = "first") -> LiveScorer:
    """The live scorer of a search: the experiment's protocol (its thread count included),
    its cache and images; with several ``seeds`` and an averaging ``aggregation``, every seed
    is scored and the values combined as the scores table's are (the lowest seed alone for
    ``first``)."""
    from zeroshot_nas.proxies import Protocol
    from zeroshot_nas.proxies.numerics import resolve_device

    from .evaluators import proxy_live_scorer, seed_averaged_scorer

    device = resolve_device(protocol_settings["device"]).type
    used = sorted(set(seeds)) if aggregation != "first" else [min(seeds)]
    scorers = [
        proxy_live_scorer(space, dataset, seed, names, images, cache_dir,
                          protocol=Protocol.from_experiment(protocol_settings, seed=seed,
                                                            device=device))
        for seed in used
    ]
    return scorers[0] if len(scorers) == 1 else seed_averaged_scorer(scorers, aggregation)
