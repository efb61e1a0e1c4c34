"""BOHB (Falkner, Klein & Hutter, ICML 2018) as NATS-Bench runs it, with the BOHB authors' own
implementation, ``hpbandster``.

NATS-Bench (``D-X-Y/AutoDL-Projects`` ``exps/NATS-algos/bohb.py``) searches one categorical
hyper-parameter per position (an NB201 edge's operation, a size-space layer's width) with
``BOHB(eta=3, min_budget=1, max_budget=12, num_samples=4, random_fraction=0.0,
bandwidth_factor=3, min_bandwidth=0.3)``; a budget ``b`` is ``int(b)`` epochs of the 12-epoch
schedule (``simulate_train_eval(arch, iepoch=int(b) - 1, hp="12")``), the loss is
``100 - validation accuracy``, and the architecture returned is the best accuracy seen at any
budget. Hyperband's brackets with eta = 3 between 1 and 12 epochs ask for 1, 4 and 12 epochs.

What runs here is hpbandster's own: the KDE configuration generator
(``optimizers.config_generators.bohb.BOHB``: the good/bad kernel density models and their
sampling), the successive-halving iterations (``optimizers.iterations.SuccessiveHalving``) and
the bracket schedule of ``optimizers.bohb.BOHB.get_next_iteration``. Only hpbandster's
``Master`` is not used: it exists to send jobs to worker processes over a Pyro4 name server,
and a benchmark lookup needs no worker. This module feeds the results back in the order the
master does with one worker (``register_result``, then ``new_result``);
``tests/test_search_nats_algos.py`` runs hpbandster's master with a Pyro4 name server bound to
127.0.0.1 and checks that both evaluate the same architectures at the same budgets.

hpbandster draws from NumPy's global random state; a run seeds it from the run's generator
and restores it afterwards, so a run is reproducible on its own and leaves no trace.
"""

from __future__ import annotations

import itertools
import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass

import numpy as np

from .evaluators import TRAIN_EPOCHS, TrainingEvaluator
from .space import SearchSpace

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BOHBConfig:
    """NATS-Bench's BOHB settings (``run-all.sh``: ``--num_samples 4 --random_fraction 0.0
    --bandwidth_factor 3``; ``min_bandwidth`` 0.3 is its script's default). Budgets are
    epochs of the 12-epoch schedule."""

    eta: float = 3.0
    min_budget: float = 1.0
    max_budget: float = float(TRAIN_EPOCHS)
    num_samples: int = 4
    random_fraction: float = 0.0
    bandwidth_factor: float = 3.0
    min_bandwidth: float = 0.3
    top_n_percent: int = 15


def hyperband_budgets(min_budget: float, max_budget: float, eta: float) -> np.ndarray:
    """The budgets of hpbandster's ``BOHB`` (its constructor's formula): geometric with ratio
    ``eta`` below ``max_budget``, as many as fit above ``min_budget``."""
    rungs = -int(np.log(min_budget / max_budget) / np.log(eta)) + 1
    return max_budget * np.power(eta, -np.linspace(rungs - 1, 0, rungs))


def fidelity_epochs(config: BOHBConfig, available: list[int]) -> list[int]:
    """The epochs BOHB trains for: those of its budgets when the benchmark has accuracies
    after each of them, else only the full schedule (the NB201 sources have no learning
    curves: BOHB then keeps its KDE model and loses Hyperband's early stopping)."""
    wanted = sorted({int(b) for b in hyperband_budgets(config.min_budget, config.max_budget,
                                                       config.eta)})
    return wanted if set(wanted) <= set(available) else [int(config.max_budget)]


def _hpbandster():
    """hpbandster's pieces (imported on first use: they import Pyro4, statsmodels)."""
    from hpbandster.core.dispatcher import Job
    from hpbandster.optimizers.bohb import BOHB
    from hpbandster.optimizers.config_generators.bohb import BOHB as KDEGenerator

    return Job, BOHB, KDEGenerator


def config_space(space: SearchSpace, seed: int):
    """One categorical hyper-parameter per position (``p00``, ``p01``, ...; ConfigSpace
    orders them by name) whose choices are the space's, as NATS-Bench's ``bohb.py``."""
    import ConfigSpace

    cs = ConfigSpace.ConfigurationSpace(seed=seed)
    for position in range(space.n_positions):
        cs.add(ConfigSpace.CategoricalHyperparameter(
            f"p{position:02d}", [str(choice) for choice in space.choices]))
    return cs


def decode_config(space: SearchSpace, config: dict) -> str:
    labels = [str(choice) for choice in space.choices]
    return space.decode([labels.index(str(config[f"p{p:02d}"])) for p in range(space.n_positions)])


def plain_kde_generator_class():
    """hpbandster's BOHB configuration generator, handing out plain Python values (ConfigSpace
    1.x gives NumPy strings, which hpbandster's Pyro transport cannot serialise)."""
    _, _, kde = _hpbandster()

    class PlainKDEGenerator(kde):
        def get_config(self, budget):
            sample, info = super().get_config(budget)
            return {k: v.item() if isinstance(v, np.generic) else v
                    for k, v in sample.items()}, info

    return PlainKDEGenerator


def kde_generator(space: SearchSpace, config: BOHBConfig, seed: int):
    """The configuration generator of one run, on the space's configuration space."""
    return plain_kde_generator_class()(
        config_space(space, seed), min_points_in_model=None,
        top_n_percent=config.top_n_percent, num_samples=config.num_samples,
        random_fraction=config.random_fraction, bandwidth_factor=config.bandwidth_factor,
        min_bandwidth=config.min_bandwidth)


class Brackets:
    """hpbandster's BOHB bracket schedule without its Pyro master: ``get_next_iteration`` is
    hpbandster's own method; it reads exactly these four attributes."""

    def __init__(self, generator, eta: float, min_budget: float, max_budget: float):
        _, bohb_master, _ = _hpbandster()
        self._next = bohb_master.get_next_iteration
        self.config_generator = generator
        self.eta = eta
        self.budgets = hyperband_budgets(min_budget, max_budget, eta)
        self.max_SH_iter = len(self.budgets)

    def iteration(self, index: int):
        return self._next(self, index)


@contextmanager
def global_numpy_seed(seed: int) -> Iterator[None]:
    """Seed NumPy's global state for hpbandster; restore it (and quiet the libraries) after."""
    # hpbandster samples from the legacy global state, so that is the state to seed.
    state = np.random.get_state()  # noqa: NPY002
    hpb_log = logging.getLogger("hpbandster")
    level = hpb_log.level
    np.random.seed(seed)  # noqa: NPY002
    # hpbandster logs a warning whenever a sampled vector has zero density under a KDE and
    # then proceeds as designed; ConfigSpace and statsmodels warn about their APIs' future.
    hpb_log.setLevel(logging.ERROR)
    try:
        # statsmodels' categorical kernel divides by zero for a level no good point has:
        # the NaN density that follows is the case hpbandster handles above.
        with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", FutureWarning)
            yield
    finally:
        hpb_log.setLevel(level)
        np.random.set_state(state)  # noqa: NPY002


def run_bohb(space: SearchSpace, trainer: TrainingEvaluator, rng: np.random.Generator,
             config: BOHBConfig, epochs: list[int]) -> None:
    """Run BOHB over the fidelities ``epochs`` (:func:`fidelity_epochs`) until the trainer's
    budget raises BudgetExhausted; every evaluation is ``trainer.train(arch, epochs)``."""
    low, high = (config.min_budget, config.max_budget) if len(epochs) > 1 else (epochs[0],) * 2
    generator = kde_generator(space, config, int(rng.integers(2**31 - 1)))
    brackets = Brackets(generator, config.eta, float(low), float(high))
    drive(space, trainer, brackets, numpy_seed=int(rng.integers(2**32 - 1)))


def drive(space: SearchSpace, trainer: TrainingEvaluator, brackets: Brackets,
          numpy_seed: int, iterations: int | None = None) -> None:
    """Hyperband iterations of ``brackets`` (all, or the first ``iterations``), results fed
    back as hpbandster's master does with one worker: the iteration registers the job, then
    the KDE generator learns from it. BudgetExhausted ends it from inside a training."""
    job_type, _, _ = _hpbandster()
    generator = brackets.config_generator
    with global_numpy_seed(numpy_seed):
        indices = itertools.count() if iterations is None else range(iterations)
        for index in indices:
            iteration = brackets.iteration(index)
            while (run := iteration.get_next_run()) is not None:
                config_id, sample, budget = run
                accuracy = trainer.train(decode_config(space, sample), int(budget))
                job = job_type(config_id, config=sample, budget=budget)
                job.result = {"loss": 100.0 - accuracy, "info": None}
                iteration.register_result(job)
                generator.new_result(job)


def settings_record(config: BOHBConfig, epochs: list[int]) -> dict:
    record = asdict(config)
    record["fidelities"] = epochs
    record["implementation"] = "hpbandster (KDE generator, SuccessiveHalving, BOHB brackets)"
    if len(epochs) == 1:
        record["note"] = (f"single fidelity ({epochs[0]} epochs): the benchmark has no "
                          "accuracies after fewer epochs")
    return record

