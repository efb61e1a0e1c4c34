"""What a search pays to look at an architecture: benchmark "training" and training-free scores.

Both evaluators charge one :class:`Ledger` per run, which counts evaluations and seconds and
enforces the run's :class:`Budget`:

* :class:`TrainingEvaluator` "trains" an architecture by looking up its 12-epoch validation
  accuracy in the benchmark table (or, for BOHB's lower fidelities, its accuracy after fewer
  epochs of that schedule) and charges NATS-Bench's simulated time, epochs ×
  ``train_seconds_per_epoch`` + one validation pass (``valid_seconds_per_epoch``), where the
  benchmark gives times (NB201: CIFAR-10; the NATS size space: every data set); elsewhere the
  training is only counted. Every call is charged, as NATS-Bench's simulated training charges
  a re-trained architecture again.
* :class:`ScoreEvaluator` returns an architecture's training-free scores from a
  :class:`ScoreStore` (a scores table, filled in by live scoring where it has no entry) and
  charges the recorded scoring seconds once per run: a search keeps the scores it computed.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from zeroshot_nas.data.benchmark import curve_column

from .space import SearchSpace

log = logging.getLogger(__name__)

#: Benchmark column the training evaluator returns by default (mini-NB201, 12 epochs).
TRAIN_METRIC = "valid_acc_12"
TRAIN_EPOCHS = 12


class BudgetExhausted(Exception):
    """Raised when the next evaluation would exceed the run's budget; the search then stops
    and returns the best architecture it has evaluated."""


@dataclass(frozen=True)
class Budget:
    """Limits of one run; ``None`` means unlimited.

    ``seconds`` bounds the total charged time (scores and trainings); it is checked before
    each training, whose simulated time is known beforehand, so a run never exceeds it.
    """

    score_evals: int | None = None
    train_evals: int | None = None
    seconds: float | None = None

    def describe(self) -> str:
        parts = []
        if self.score_evals is not None:
            parts.append(f"{self.score_evals} score evaluations")
        if self.train_evals is not None:
            parts.append(f"{self.train_evals} trainings")
        if self.seconds is not None:
            parts.append(f"{self.seconds:g} s")
        return ", ".join(parts) or "unlimited"


@dataclass
class Ledger:
    """Evaluations and seconds charged to one run."""

    budget: Budget = field(default_factory=Budget)
    score_evals: int = 0
    train_evals: int = 0
    train_seconds: float = 0.0
    score_seconds_by_name: dict[str, float] = field(default_factory=dict)

    @property
    def score_seconds(self) -> float:
        return float(sum(self.score_seconds_by_name.values()))

    @property
    def seconds(self) -> float:
        return self.score_seconds + self.train_seconds

    @property
    def evaluations(self) -> int:
        return self.score_evals + self.train_evals

    def score_room(self) -> int | None:
        """How many more score evaluations the budget allows (None: unlimited)."""
        if self.budget.score_evals is None:
            return None
        return max(self.budget.score_evals - self.score_evals, 0)

    def charge_score(self, names: Sequence[str], seconds: Sequence[float]) -> None:
        room = self.score_room()
        if room is not None and room <= 0:
            raise BudgetExhausted(f"score budget of {self.budget.score_evals} evaluations used")
        self.score_evals += 1
        for name, sec in zip(names, seconds, strict=True):
            sec = float(sec) if math.isfinite(sec) else 0.0
            self.score_seconds_by_name[name] = self.score_seconds_by_name.get(name, 0.0) + sec

    def charge_training(self, seconds: float) -> None:
        b = self.budget
        if b.train_evals is not None and self.train_evals >= b.train_evals:
            raise BudgetExhausted(f"training budget of {b.train_evals} evaluations used")
        if b.seconds is not None and self.seconds + seconds > b.seconds:
            raise BudgetExhausted(f"time budget of {b.seconds:g} s reached")
        self.train_evals += 1
        self.train_seconds += seconds


# ----------------------------------------------------------------------------- benchmark


class AccuracyOracle:
    """Benchmark accuracies of one data set, by canonical architecture string.

    ``valid_acc``/``test_acc`` are the full-schedule accuracies reported for a chosen
    architecture (NB201: 200 epochs; size space: 90); ``valid_acc_12`` is what a training-based search sees, and the 12-epoch
    schedule's learning curve (``valid_acc_12_eNN``, where the table has it) what BOHB sees
    at lower budgets.
    """

    COLUMNS = ("valid_acc", "test_acc", "valid_acc_12", "test_acc_12", "train_seconds_per_epoch")
    #: Read where the table has them (NaN otherwise).
    OPTIONAL = ("valid_seconds_per_epoch",
                *(curve_column(e) for e in range(1, TRAIN_EPOCHS + 1)))

    def __init__(self, benchmark: pd.DataFrame | None, space: SearchSpace, dataset: str):
        self.space = space
        self.dataset = dataset
        self._rows: dict[str, tuple[float, ...]] = {}
        self._fields = (*self.COLUMNS, *self.OPTIONAL)
        self._fidelities: list[int] = []
        if benchmark is not None and len(benchmark):
            missing = [c for c in ("arch", "dataset", *self.COLUMNS) if c not in benchmark]
            if missing:
                raise ValueError(f"benchmark table lacks column(s) {missing}")
            sub = benchmark[benchmark["dataset"] == dataset]
            if len(sub):
                canon = [space.canonical(a) for a in sub["arch"]]
                values = sub.reindex(columns=list(self._fields)).to_numpy(dtype=float)
                self._rows = dict(zip(canon, map(tuple, values), strict=True))
                curves = values[:, len(self.COLUMNS) + 1:]
                self._fidelities = [e for e in range(1, TRAIN_EPOCHS)
                                    if np.isfinite(curves[:, e - 1]).all()]

    @property
    def available(self) -> bool:
        """Whether this data set has benchmark accuracies at all."""
        return bool(self._rows)

    @property
    def archs(self) -> list[str]:
        return list(self._rows)

    @property
    def has_train_times(self) -> bool:
        """Whether the benchmark gives training times for this data set."""
        return any(math.isfinite(r[4]) for r in self._rows.values())

    def fidelities(self) -> list[int]:
        """Epochs of the 12-epoch schedule after which every architecture has an accuracy."""
        return [*self._fidelities, TRAIN_EPOCHS] if self._rows else []

    def _row(self, arch: str) -> tuple[float, ...] | None:
        return self._rows.get(arch)

    def final(self, arch: str) -> tuple[float, float]:
        """(full-schedule validation, test) accuracy; NaN where unknown."""
        row = self._row(arch)
        return (row[0], row[1]) if row else (math.nan, math.nan)

    def value(self, arch: str, column: str) -> float:
        row = self._row(arch)
        if row is None:
            raise KeyError(
                f"architecture {arch!r} is not in the {self.dataset} benchmark table; a "
                "training-based search needs benchmark accuracies for every architecture"
            )
        return row[self._fields.index(column)]

    def accuracy_after(self, arch: str, metric: str, epochs: int) -> float:
        """``metric`` after the full schedule, or the validation accuracy after ``epochs``
        epochs of it (BOHB's lower budgets)."""
        if epochs == TRAIN_EPOCHS:
            return self.value(arch, metric)
        if metric != TRAIN_METRIC or epochs not in self.fidelities():
            raise ValueError(
                f"the {self.space.name}/{self.dataset} benchmark has no {metric} after "
                f"{epochs} of {TRAIN_EPOCHS} epochs"
            )
        return self.value(arch, curve_column(epochs))

    def train_seconds(self, arch: str, epochs: int) -> float:
        """NATS-Bench's simulated cost of training ``epochs`` epochs and validating once;
        0 where the benchmark has no times (the training is then only counted)."""
        per_epoch = self.value(arch, "train_seconds_per_epoch")
        if not math.isfinite(per_epoch):
            return 0.0
        valid = self.value(arch, "valid_seconds_per_epoch")
        return epochs * per_epoch + (valid if math.isfinite(valid) else 0.0)

    def optimum(self) -> tuple[float, float]:
        """Best full-schedule validation and best test accuracy of the data set (separately)."""
        if not self._rows:
            return (math.nan, math.nan)
        m = np.array(list(self._rows.values()))
        return float(np.nanmax(m[:, 0])), float(np.nanmax(m[:, 1]))


class TrainingEvaluator:
    """Simulated training: the benchmark's ``metric`` (12-epoch validation accuracy, or the
    accuracy after fewer epochs for BOHB), charged NATS-Bench's simulated time where known
    and counted as a training always."""

    def __init__(
        self,
        oracle: AccuracyOracle,
        ledger: Ledger,
        metric: str = TRAIN_METRIC,
        epochs: int = TRAIN_EPOCHS,
        on_new: Callable[[str, float], None] | None = None,
    ):
        if metric not in AccuracyOracle.COLUMNS:
            raise ValueError(f"unknown training metric {metric!r}; one of {AccuracyOracle.COLUMNS}")
        if not oracle.available:
            raise ValueError(
                f"no benchmark accuracies for {oracle.space.name}/{oracle.dataset}: a "
                "training-based search cannot run"
            )
        self.oracle, self.ledger, self.metric, self.epochs = oracle, ledger, metric, epochs
        self.on_new = on_new
        self.history: list[tuple[str, float]] = []

    def train(self, arch: str, epochs: int | None = None) -> float:
        """The architecture's accuracy after ``epochs`` (default: the full 12) epochs of
        simulated training (raises BudgetExhausted when the budget cannot pay for it)."""
        epochs = self.epochs if epochs is None else epochs
        # its own schedule (12 epochs; NAS-Bench-101's tables: the full 108) is the metric
        # itself; fewer epochs are a point of the learning curve
        accuracy = (self.oracle.value(arch, self.metric) if epochs == self.epochs
                    else self.oracle.accuracy_after(arch, self.metric, epochs))
        self.ledger.charge_training(self.oracle.train_seconds(arch, epochs))
        self.history.append((arch, accuracy))
        if self.on_new is not None:
            self.on_new(arch, accuracy)
        return accuracy


# ----------------------------------------------------------------------------- scores

#: Computes scores of architectures: {arch: (values per name, seconds per name)}.
LiveScorer = Callable[[list[str]], dict[str, tuple[np.ndarray, np.ndarray]]]


class ScoreStore:
    """Training-free scores of one (space, data set), by architecture, from one scoring seed
    or averaged over several.

    Starts from a long scores table (``arch, dataset, seed, score, value, status, seconds``)
    and, when given a ``live`` scorer, computes what the table lacks and keeps it, so that
    later runs find it. Values whose status is not ``ok`` are stored as NaN (they rank last).

    ``seed`` asks for one scoring seed. Otherwise ``seeds`` (default: every seed the table
    has for the data set) are combined by ``aggregation`` (the statistics' rule,
    :data:`zeroshot_nas.stats.seeds.RULES`): ``first`` keeps the lowest seed alone, ``mean``
    and ``mean_finite`` average every architecture's values over the seeds and charge the
    seconds of all of them. An architecture lacking a row of some score or seed is unscored.
    """

    def __init__(
        self,
        names: Sequence[str],
        table: pd.DataFrame | None = None,
        *,
        space: SearchSpace,
        dataset: str,
        seed: int | None = None,
        live: LiveScorer | None = None,
        seeds: Sequence[int] | None = None,
        aggregation: str = "first",
    ):
        from zeroshot_nas.stats.seeds import check_aggregation

        if not names:
            raise ValueError("a score store needs at least one score name")
        self.names = list(names)
        self.space, self.dataset, self.live = space, dataset, live
        self.seed = seed
        self.seeds = tuple(int(s) for s in seeds) if seeds else None
        self.aggregation = check_aggregation(aggregation)
        self._data: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        if table is not None and len(table):
            self._load(table)

    @property
    def averaged(self) -> bool:
        """True when the values are averages over several scoring seeds."""
        return self.seed is None and self.seeds is not None and len(self.seeds) > 1

    def _scoring_seeds(self, available: list[int]) -> list[int]:
        """The seeds whose rows are read; sets ``seed`` when that is one seed."""
        wanted = [self.seed] if self.seed is not None else list(self.seeds or available)
        missing = [s for s in wanted if s not in available]
        if missing:
            raise ValueError(
                f"scores table has no scoring seed {missing[0]} for {self.dataset} "
                f"(seeds: {available})"
            )
        if self.seed is None and (self.aggregation == "first" or len(wanted) == 1):
            self.seed = min(wanted)
        if self.seed is not None:
            return [self.seed]
        self.seeds = tuple(sorted(wanted))
        return list(self.seeds)

    def _load(self, table: pd.DataFrame) -> None:
        needed = ["arch", "dataset", "seed", "score", "value", "status", "seconds"]
        missing = [c for c in needed if c not in table]
        if missing:
            raise ValueError(f"scores table lacks column(s) {missing}")
        sub = table[(table["dataset"] == self.dataset) & table["score"].isin(self.names)]
        if "space" in sub:
            sub = sub[sub["space"] == self.space.name]
        if len(sub) == 0:
            return
        use = self._scoring_seeds(sorted(int(s) for s in sub["seed"].unique()))
        sub = sub[sub["seed"].isin(use)]
        dup = sub.duplicated(["arch", "score", "seed"])
        if dup.any():
            first = sub[dup].iloc[0]
            raise ValueError(
                f"scores table has {int(dup.sum())} duplicate (arch, score) rows for "
                f"{self.dataset} seed {first['seed']}, e.g. {first['arch']!r} / "
                f"{first['score']!r}"
            )
        value = sub["value"].astype(float).where(sub["status"] == "ok")
        frame = sub.assign(value=value)
        # An architecture lacking a row for some score (or seed) is absent (scored live when
        # asked); a row whose status is not ok is present with a NaN value.
        counts = frame.groupby("arch").size()
        complete = counts.index[counts == len(self.names) * len(use)]
        if len(complete) < len(counts):
            log.info(
                "%d of %d architectures lack some of %s (seeds %s) for %s; they count as "
                "unscored", len(counts) - len(complete), len(counts), self.names, use,
                self.dataset,
            )
        frame = frame[frame["arch"].isin(complete)]
        if frame.empty:  # no architecture has every score: all are scored live when asked
            return
        if len(use) > 1:
            from zeroshot_nas.stats.seeds import collapse_seeds

            frame = collapse_seeds(frame, self.aggregation)
        values = frame.pivot(index="arch", columns="score", values="value")[self.names]
        seconds = frame.pivot(index="arch", columns="score", values="seconds")[self.names]
        seconds = seconds.astype(float).fillna(0.0)
        for arch, v, s in zip(values.index, values.to_numpy(), seconds.to_numpy(), strict=True):
            self._data[self.space.canonical(arch)] = (v.astype(float), s)

    def __contains__(self, arch: str) -> bool:
        return arch in self._data

    def __len__(self) -> int:
        return len(self._data)

    @property
    def archs(self) -> list[str]:
        """Architectures with every score known (sorted by arch string)."""
        return list(self._data)

    def get(self, archs: Sequence[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Values and seconds of each architecture, scoring the missing ones live."""
        missing = list(dict.fromkeys(a for a in archs if a not in self._data))
        if missing:
            if self.live is None:
                raise KeyError(
                    f"{len(missing)} architecture(s) have no {'/'.join(self.names)} scores for "
                    f"{self.dataset} in the scores table (e.g. {missing[0]!r}) and live scoring "
                    "is off; sample from the table or enable live scoring"
                )
            computed = self.live(missing)
            for arch in missing:
                if arch not in computed:
                    raise RuntimeError(f"live scoring returned nothing for {arch!r}")
                v, s = computed[arch]
                self._data[arch] = (np.asarray(v, dtype=float), np.asarray(s, dtype=float))
        return [self._data[a] for a in archs]


class ScoreEvaluator:
    """Scores architectures for one run; each new architecture costs one evaluation and its
    recorded seconds, a repeated one is free (the run remembers it)."""

    def __init__(
        self,
        store: ScoreStore,
        ledger: Ledger,
        on_new: Callable[[str, np.ndarray], None] | None = None,
    ):
        self.store, self.ledger, self.on_new = store, ledger, on_new
        self.seen: dict[str, np.ndarray] = {}

    @property
    def names(self) -> list[str]:
        return self.store.names

    def evaluate(self, archs: Sequence[str]) -> np.ndarray:
        """Score matrix (len(archs) × names). New architectures are charged in order; when
        the budget runs out the ones before are kept and BudgetExhausted is raised."""
        new = [a for a in dict.fromkeys(archs) if a not in self.seen]
        room = self.ledger.score_room()
        fits = new if room is None else new[:room]
        if fits:
            for arch, (values, seconds) in zip(fits, self.store.get(fits), strict=True):
                self.ledger.charge_score(self.names, seconds)
                self.seen[arch] = values
                if self.on_new is not None:
                    self.on_new(arch, values)
        if len(fits) < len(new):
            raise BudgetExhausted(f"score budget of {self.ledger.budget.score_evals} used")
        return np.array([self.seen[a] for a in archs]).reshape(len(archs), len(self.names))

    def matrix(self) -> tuple[list[str], np.ndarray]:
        """Every architecture this run evaluated, in order, with its scores."""
        archs = list(self.seen)
        return archs, np.array([self.seen[a] for a in archs]).reshape(len(archs), len(self.names))


# ----------------------------------------------------------------------------- live scoring


def proxy_live_scorer(
    space: str,
    dataset: str,
    seed: int,
    names: Sequence[str],
    images_npz: str | Path,
    cache_dir: str | Path,
    protocol: object | None = None,
    mode: str = "fused",
) -> LiveScorer:
    """A :data:`LiveScorer` that runs the proxy engine through ``scoring.score_archs`` with
    its per-architecture cache (shared with the scoring jobs of the same protocol)."""
    from zeroshot_nas import scoring
    from zeroshot_nas.proxies import Protocol

    proto = protocol if protocol is not None else Protocol(seed=seed)
    names = list(names)

    def score(archs: list[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        # score_archs draws the same batch for a given seed on every call, so scoring a
        # search's architectures a few at a time equals scoring them all at once.
        table = scoring.score_archs(
            space,
            dataset,
            seed,
            list(archs),
            names,
            proto,
            images_npz,
            cache_dir,
            None,
            mode=mode,
            progress=False,
        )
        result: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for arch, rows in table.groupby("arch", sort=False):
            rows = rows.set_index("score").reindex(names)
            values = rows["value"].astype(float).where(rows["status"] == "ok").to_numpy()
            result[arch] = (values, rows["seconds"].astype(float).fillna(0.0).to_numpy())
        return result

    return score


def seed_averaged_scorer(scorers: Sequence[LiveScorer], aggregation: str) -> LiveScorer:
    """A :data:`LiveScorer` that runs one scorer per scoring seed and combines each
    architecture's values by ``aggregation`` (as :class:`ScoreStore` combines a table's
    seeds); its seconds are those of all the seeds."""
    from zeroshot_nas.stats.seeds import aggregate

    def score(archs: list[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        per_seed = [scorer(archs) for scorer in scorers]
        result: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for arch in archs:
            values = np.column_stack([np.asarray(p[arch][0], dtype=float) for p in per_seed])
            seconds = np.sum([np.asarray(p[arch][1], dtype=float) for p in per_seed], axis=0)
            result[arch] = (aggregate(values, aggregation), seconds)
        return result

    return score


def trace_json(points: list[tuple[int, float, float, float]]) -> str:
    """Anytime trace as compact JSON: [[evaluations, seconds, valid_acc, test_acc], ...]."""
    return json.dumps(
        [[int(e), round(float(s), 6), _num(v), _num(t)] for e, s, v, t in points],
        separators=(",", ":"),
    )


def _num(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), 6)
