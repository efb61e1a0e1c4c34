"""Search algorithms: training-free (random search with a score, rank-based GA and SA) and
training-based on the benchmark (random search, REA, AREA, REINFORCE, BOHB).

Every algorithm takes a ``numpy.random.Generator`` (the only source of randomness, so a seed
fixes the run), proposes architectures only through :mod:`.space` moves (so every proposal is
valid), and evaluates them through an evaluator bound to a budgeted :class:`Ledger`; when the
budget is used up the evaluator raises :class:`BudgetExhausted` and the algorithm returns
the best architecture it has evaluated. Each result carries an anytime trace: the incumbent
(the architecture the algorithm would return if stopped) after every change, with the
evaluations and seconds charged so far.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from .bohb import BOHBConfig, fidelity_epochs, run_bohb
from .bohb import settings_record as bohb_settings
from .evaluators import BudgetExhausted, Ledger, ScoreEvaluator, TrainingEvaluator
from .ranking import best_index, rank_sum
from .space import SearchSpace


@dataclass
class RunResult:
    """Outcome of one run: the chosen architecture, what it cost, and the anytime trace of
    (evaluations, seconds, incumbent architecture)."""

    method: str
    arch: str
    score_evals: int
    train_evals: int
    score_seconds: float
    train_seconds: float
    trace: list[tuple[int, float, str]] = field(default_factory=list)
    info: dict = field(default_factory=dict)

    @property
    def evaluations(self) -> int:
        return self.score_evals + self.train_evals

    @property
    def seconds(self) -> float:
        return self.score_seconds + self.train_seconds


def _result(method: str, arch: str, ledger: Ledger, trace, info=None) -> RunResult:
    return RunResult(
        method,
        arch,
        ledger.score_evals,
        ledger.train_evals,
        ledger.score_seconds,
        ledger.train_seconds,
        list(trace),
        dict(info or {}),
    )


class _Trace:
    """Records (evaluations, seconds, incumbent) whenever the incumbent changes."""

    def __init__(self, ledger: Ledger):
        self.ledger = ledger
        self.points: list[tuple[int, float, str]] = []
        self.incumbent: str | None = None

    def update(self, incumbent: str) -> None:
        if incumbent != self.incumbent:
            self.incumbent = incumbent
            self.points.append((self.ledger.evaluations, self.ledger.seconds, incumbent))


class _ScoreIncumbent(_Trace):
    """Incumbent of a training-free search: the best architecture evaluated so far by one
    score, or by the summed rank among every architecture the run has evaluated."""

    def __init__(self, ledger: Ledger, directions: Sequence[bool]):
        super().__init__(ledger)
        self.directions = list(directions)
        self.archs: list[str] = []
        self._rows = np.empty((64, len(self.directions)))

    def __call__(self, arch: str, values: np.ndarray) -> None:
        n = len(self.archs)
        if n == len(self._rows):
            self._rows = np.concatenate([self._rows, np.empty_like(self._rows)])
        self._rows[n] = values
        self.archs.append(arch)
        self.update(self.archs[best_index(self._rows[: n + 1], self.directions)])


class _TrainIncumbent(_Trace):
    """Incumbent of a training-based search: highest simulated-training accuracy so far."""

    def __init__(self, ledger: Ledger):
        super().__init__(ledger)
        self.best = -math.inf

    def __call__(self, arch: str, accuracy: float) -> None:
        if accuracy > self.best or self.incumbent is None:
            self.best = accuracy
            self.update(arch)


# ----------------------------------------------------------------------------- training-free


def random_score_search(
    space: SearchSpace,
    evaluator: ScoreEvaluator,
    directions: Sequence[bool],
    rng: np.random.Generator,
    n: int,
    selectors: dict[str, Sequence[str]],
    pool: Sequence[str] | None = None,
) -> list[RunResult]:
    """Random search with a score (NASWOT paper): draw ``n`` distinct architectures (from the
    space, or from ``pool`` such as the scored table) and pick the best by each selector.

    ``selectors`` maps a method label to the score names it uses: one name picks the best
    value, several pick the smallest summed rank. All selectors judge the same sample, as
    the rank-based paper does for fairness; each is charged only its own scores' seconds.
    """
    if pool is not None:
        if n > len(pool):
            raise ValueError(f"cannot draw N={n} architectures from a pool of {len(pool)}")
        archs = [pool[int(i)] for i in rng.choice(len(pool), size=n, replace=False)]
    else:
        archs = space.sample(rng, n)
    matrix = evaluator.evaluate(archs)
    seconds = np.array([s for _, s in evaluator.store.get(archs)])
    names = evaluator.names
    dirs = dict(zip(names, directions, strict=True))
    results = []
    for label, chosen in selectors.items():
        cols = [names.index(c) for c in chosen]
        sub, sub_dirs = matrix[:, cols], [dirs[c] for c in chosen]
        cum_seconds = np.cumsum(seconds[:, cols].sum(axis=1))
        trace, incumbent = [], None
        for k in range(1, n + 1):
            best = archs[best_index(sub[:k], sub_dirs)]
            if best != incumbent:
                incumbent = best
                trace.append((k, float(cum_seconds[k - 1]), best))
        results.append(
            RunResult(
                label,
                incumbent,
                n,
                0,
                float(cum_seconds[-1]),
                0.0,
                trace,
                {"n": n, "scores": list(chosen)},
            )
        )
    return results


@dataclass(frozen=True)
class GAConfig:
    """Rank-based GA settings; defaults are the authors' published ones
    (OEmiliatanO/Rank-Based-NAS, ``Parser/parser.py``)."""

    population: int = 25
    iterations: int = 30
    p_mutation: float = 0.07
    p_crossover: float = 0.8
    tournament: int = 3


def ga_rank(
    space: SearchSpace,
    evaluator: ScoreEvaluator,
    directions: Sequence[bool],
    rng: np.random.Generator,
    config: GAConfig = GAConfig(),
    label: str = "GA-rk",
) -> RunResult:
    """Genetic algorithm with rank-based selection, following the authors' loop.

    Each generation fills a new population: two parents are the best two (by summed rank
    within the tournament) of ``tournament`` random members; with probability
    ``p_crossover`` they give two children by uniform crossover, otherwise they pass on
    unchanged ("elders"); with probability ``p_mutation`` both children have one position
    mutated. Children are scored, and the run returns the architecture with the smallest
    summed rank among all it evaluated.
    """
    if config.population < config.tournament:
        raise ValueError(
            f"GA population ({config.population}) must be at least the tournament size "
            f"({config.tournament})"
        )
    tracker = _ScoreIncumbent(evaluator.ledger, directions)
    evaluator.on_new = tracker
    try:
        population = [space.random(rng) for _ in range(config.population)]
        evaluator.evaluate(population)
        for _ in range(config.iterations):
            offspring: list[str] = []
            elders: list[str] = []
            while len(offspring) + len(elders) < config.population:
                idx = rng.choice(len(population), size=config.tournament, replace=False)
                cands = [population[int(i)] for i in idx]
                ranked = np.argsort(rank_sum(evaluator.evaluate(cands), directions), kind="stable")
                p0, p1 = cands[int(ranked[0])], cands[int(ranked[1])]
                children: list[str] = []
                if rng.random() < config.p_crossover:
                    children = list(space.crossover(p0, p1, rng))
                else:
                    elders += [p0, p1]
                if rng.random() < config.p_mutation:
                    children = [space.mutate(c, rng) for c in children]
                offspring += children
            evaluator.evaluate(offspring)
            population = elders + offspring
    except BudgetExhausted:
        pass
    return _result(
        label, tracker.incumbent, evaluator.ledger, tracker.points, {"config": asdict(config)}
    )


@dataclass(frozen=True)
class SAConfig:
    """Rank-based SA settings; defaults are the published ones (rank-based paper, Sec. 4.1):
    initial temperature Ψ₀, ending temperature τ, cooling rate r_Ψ, iterations per
    temperature I, acceptance constant α, neighbours N, history-size constant β."""

    t_initial: float = 1.0
    t_end: float = 8e-4
    cooling: float = 0.745
    iterations: int = 4
    alpha: float = 0.25
    neighbours: int = 10
    beta: float = 1.0

    def max_candidates(self) -> int:
        """Neighbours generated over the whole schedule (1,000 with the defaults)."""
        steps = math.ceil(math.log(self.t_end / self.t_initial) / math.log(self.cooling))
        return steps * self.iterations * self.neighbours

    def history_size(self) -> float:
        """Bound on the historical-best set H: β·I·N·ln(τ/Ψ₀)/ln(r_Ψ)."""
        return self.beta * (
            self.iterations
            * self.neighbours
            * math.log(self.t_end / self.t_initial)
            / math.log(self.cooling)
        )


def sa_rank(
    space: SearchSpace,
    evaluator: ScoreEvaluator,
    directions: Sequence[bool],
    rng: np.random.Generator,
    config: SAConfig = SAConfig(),
    label: str = "SA-rk",
) -> RunResult:
    """Simulated annealing with ranking (rank-based paper, Algorithm 1; authors' code).

    At each of I iterations per temperature: N distinct neighbours U of the current s are
    generated; s ∪ U ∪ H (H = historical best set) is ranked by summed rank; the best joins
    H (H is trimmed of its worst members beyond its size bound); s' is the best excluding
    s, ΔE = rank(s') − rank(s), and s ← s' if ΔE < 0 or ln u ≤ −αΔE/T. The temperature is
    multiplied by r_Ψ until it reaches τ. The run returns the architecture with the smallest
    summed rank among all it evaluated.
    """
    if not (0 < config.cooling < 1 and 0 < config.t_end < config.t_initial):
        raise ValueError(f"SA needs 0 < cooling < 1 and 0 < t_end < t_initial, got {config}")
    tracker = _ScoreIncumbent(evaluator.ledger, directions)
    evaluator.on_new = tracker
    h_max = config.history_size()
    try:
        current = space.random(rng)
        evaluator.evaluate([current])
        history: list[str] = []
        temperature = config.t_initial
        while temperature > config.t_end:
            for _ in range(config.iterations):
                neighbours: list[str] = []
                while len(neighbours) < config.neighbours:
                    nb = space.neighbour(current, rng)
                    if nb not in neighbours:
                        neighbours.append(nb)
                pool = list(dict.fromkeys([current, *neighbours, *history]))
                ranks = rank_sum(evaluator.evaluate(pool), directions)
                order = np.argsort(ranks, kind="stable")
                best = pool[int(order[0])]
                if best not in history:
                    history.append(best)
                while len(history) > h_max:
                    h_ranks = rank_sum(evaluator.evaluate(history), directions)
                    del history[int(np.argmax(h_ranks))]
                s_idx = pool.index(current)
                prime = next(int(i) for i in order if int(i) != s_idx)
                delta = float(ranks[prime] - ranks[s_idx])
                # The authors accept when ln u <= -alpha*dE/T, i.e. u <= exp(-alpha*dE/T).
                accept = delta < 0 or rng.random() <= math.exp(-config.alpha * delta / temperature)
                if accept:
                    current = pool[prime]
            temperature *= config.cooling
    except BudgetExhausted:
        pass
    return _result(
        label, tracker.incumbent, evaluator.ledger, tracker.points, {"config": asdict(config)}
    )


# ----------------------------------------------------------------------------- training-based


def _best_trained(trainer: TrainingEvaluator) -> str:
    if not trainer.history:
        raise RuntimeError("the budget did not allow a single training")
    best = max(range(len(trainer.history)), key=lambda i: (trainer.history[i][1], -i))
    return trainer.history[best][0]


def random_train_search(
    space: SearchSpace, trainer: TrainingEvaluator, rng: np.random.Generator, label: str = "RS"
) -> RunResult:
    """Random search with simulated training: train distinct random architectures until the
    budget runs out; return the one with the best 12-epoch validation accuracy."""

    def search() -> None:
        for index in rng.permutation(space.size):
            trainer.train(space.arch_at(int(index)))

    return _training_run(label, trainer, search)


@dataclass(frozen=True)
class REAConfig:
    """Regularised evolution as NATS-Bench runs it: population 10, tournament sample 3."""

    population: int = 10
    sample: int = 3


def _evolve(
    space: SearchSpace,
    trainer: TrainingEvaluator,
    rng: np.random.Generator,
    config: REAConfig,
    initial: list[str],
) -> None:
    """Aging evolution (Real et al.): train the initial population, then repeatedly mutate
    the best of ``sample`` random members, train the child, add it, drop the oldest."""
    population: list[tuple[str, float]] = []
    for arch in initial:
        population.append((arch, trainer.train(arch)))
    while True:
        idx = rng.choice(len(population), size=min(config.sample, len(population)), replace=False)
        parent = max((population[int(i)] for i in idx), key=lambda p: p[1])[0]
        child = space.mutate(parent, rng)
        population.append((child, trainer.train(child)))
        population.pop(0)


def rea(
    space: SearchSpace,
    trainer: TrainingEvaluator,
    rng: np.random.Generator,
    config: REAConfig = REAConfig(),
    label: str = "REA",
) -> RunResult:
    """REA with a random initial population; returns the best-trained architecture."""
    return _training_run(
        label, trainer,
        lambda: _evolve(space, trainer, rng, config,
                        [space.random(rng) for _ in range(config.population)]),
        {"config": asdict(config)},
    )


def area(
    space: SearchSpace,
    scorer: ScoreEvaluator,
    directions: Sequence[bool],
    trainer: TrainingEvaluator,
    rng: np.random.Generator,
    n_sample: int,
    config: REAConfig = REAConfig(),
    label: str = "AREA",
    pool: Sequence[str] | None = None,
) -> RunResult:
    """Assisted REA (NASWOT paper): score ``n_sample`` random architectures without training
    (drawn from the space, or from ``pool``), start REA from the ``population`` best-scored
    ones. Scoring seconds count towards the run's time. Until the first training the
    incumbent is the best-scored architecture."""
    _require_bounded(trainer)
    if n_sample < config.population:
        raise ValueError(
            f"AREA sample ({n_sample}) must be at least the population ({config.population})"
        )
    if scorer.ledger is not trainer.ledger:
        raise ValueError("AREA's scorer and trainer must charge the same ledger")
    trace = _ScoreIncumbent(trainer.ledger, directions)
    scorer.on_new = trace
    if pool is not None:
        if n_sample > len(pool):
            raise ValueError(
                f"cannot draw AREA's {n_sample} architectures from a pool of {len(pool)}"
            )
        sample = [pool[int(i)] for i in rng.choice(len(pool), size=n_sample, replace=False)]
    else:
        sample = space.sample(rng, n_sample)
    try:
        matrix = scorer.evaluate(sample)
    except BudgetExhausted:
        matrix = scorer.matrix()[1]
        sample = sample[: len(matrix)]
    if len(directions) == 1:
        goodness = matrix[:, 0] if directions[0] else -matrix[:, 0]
        order = np.argsort(-np.where(np.isfinite(goodness), goodness, -np.inf), kind="stable")
    else:
        order = np.argsort(rank_sum(matrix, directions), kind="stable")
    initial = [sample[int(i)] for i in order[: config.population]]
    train_tracker = _TrainIncumbent(trainer.ledger)
    train_tracker.points = trace.points
    train_tracker.incumbent = trace.incumbent
    trainer.on_new = train_tracker
    train_tracker.incumbent = None  # the first training always becomes the incumbent
    try:
        _evolve(space, trainer, rng, config, initial)
    except BudgetExhausted:
        pass
    return _result(
        label,
        _best_trained(trainer),
        trainer.ledger,
        train_tracker.points,
        {"config": asdict(config), "n_sample": n_sample, "scores": scorer.names},
    )


@dataclass(frozen=True)
class ReinforceConfig:
    """REINFORCE as NATS-Bench runs it (``D-X-Y/AutoDL-Projects`` ``exps/NATS-algos/
    reinforce.py``, ``--learning_rate 0.01``): one categorical distribution per position with
    logits drawn as 1e-3·N(0, 1), Adam with PyTorch's defaults (β = 0.9, 0.999, ε = 1e-8), and
    an exponential moving average of the rewards (momentum 0.9, bias-corrected) as baseline."""

    learning_rate: float = 0.01
    ema_momentum: float = 0.9
    init_scale: float = 1e-3
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8


class _Adam:
    """Adam (Kingma & Ba) exactly as ``torch.optim.Adam`` updates a parameter tensor."""

    def __init__(self, shape: tuple[int, ...], config: ReinforceConfig):
        self.config = config
        self.m, self.v, self.steps = np.zeros(shape), np.zeros(shape), 0

    def step(self, param: np.ndarray, grad: np.ndarray) -> np.ndarray:
        c = self.config
        self.steps += 1
        self.m = c.beta1 * self.m + (1 - c.beta1) * grad
        self.v = c.beta2 * self.v + (1 - c.beta2) * grad * grad
        m_hat = self.m / (1 - c.beta1**self.steps)
        v_hat = self.v / (1 - c.beta2**self.steps)
        return param - c.learning_rate * m_hat / (np.sqrt(v_hat) + c.eps)


def reinforce(
    space: SearchSpace,
    trainer: TrainingEvaluator,
    rng: np.random.Generator,
    config: ReinforceConfig = ReinforceConfig(),
    label: str = "REINFORCE",
) -> RunResult:
    """REINFORCE (Williams 1992) with NATS-Bench's policy, optimiser and baseline.

    Each step samples one choice per position from softmax(logits), trains the architecture
    (reward: its 12-epoch validation accuracy in percent), updates the baseline with the
    reward and then takes an Adam step on −log π(a)·(reward − baseline). The run returns the
    best-trained architecture, as NATS-Bench does (not the policy's argmax).
    """
    return _training_run(label, trainer, lambda: _reinforce_steps(space, trainer, rng, config),
                         {"config": asdict(config)})


def _reinforce_steps(space: SearchSpace, trainer: TrainingEvaluator, rng: np.random.Generator,
                     config: ReinforceConfig) -> None:
    """REINFORCE's steps until the budget raises BudgetExhausted."""
    k = len(space.choices)
    logits = config.init_scale * rng.standard_normal((space.n_positions, k))
    adam = _Adam(logits.shape, config)
    numerator = denominator = 0.0
    while True:
        shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
        probs = shifted / shifted.sum(axis=1, keepdims=True)
        # Inverse-CDF draw of one choice per position.
        actions = (probs.cumsum(axis=1) < rng.random((space.n_positions, 1))).sum(axis=1)
        actions = np.minimum(actions, k - 1)
        reward = trainer.train(space.decode(actions))
        numerator = config.ema_momentum * numerator + (1 - config.ema_momentum) * reward
        denominator = config.ema_momentum * denominator + (1 - config.ema_momentum)
        advantage = reward - numerator / denominator
        # Gradient of −log π(a)·advantage with respect to the logits of each position.
        logits = adam.step(logits, -advantage * (np.eye(k)[actions] - probs))


def bohb(
    space: SearchSpace,
    trainer: TrainingEvaluator,
    rng: np.random.Generator,
    config: BOHBConfig | None = None,
    label: str = "BOHB",
) -> RunResult:
    """BOHB with hpbandster's KDE model and Hyperband brackets (:mod:`.bohb`; NATS-Bench's
    settings by default); returns the architecture with the best accuracy seen at any
    budget, as NATS-Bench does."""
    config = config or BOHBConfig()
    epochs = fidelity_epochs(config, trainer.oracle.fidelities())
    return _training_run(label, trainer, lambda: run_bohb(space, trainer, rng, config, epochs),
                         {"config": bohb_settings(config, epochs)})


def _training_run(label: str, trainer: TrainingEvaluator, search: Callable[[], object],
                  info: dict | None = None) -> RunResult:
    """What every training-based search shares: a bounded budget, the incumbent's trace, the
    search until the budget runs out, and the best-trained architecture as the result."""
    _require_bounded(trainer)
    tracker = _TrainIncumbent(trainer.ledger)
    trainer.on_new = tracker
    try:
        search()
    except BudgetExhausted:
        pass
    return _result(label, _best_trained(trainer), trainer.ledger, tracker.points, info)


def _require_bounded(trainer: TrainingEvaluator) -> None:
    b = trainer.ledger.budget
    timed = b.seconds is not None and trainer.oracle.has_train_times
    if b.train_evals is None and not timed:
        raise ValueError(
            f"a training-based search on {trainer.oracle.dataset} needs a training budget: "
            "an evaluation count, or seconds where the benchmark gives training times"
        )
