"""Search algorithms over the benchmark table and the cached training-free scores.

* :mod:`.space` — random architecture, mutation, crossover and SA neighbourhood (NB201
  edges, size-space widths);
* :mod:`.evaluators` — budgeted benchmark "training" and training-free score evaluators;
* :mod:`.algorithms` — random search with a score, rank-based GA and SA, random search,
  REA and AREA on the benchmark;
* :mod:`.runner` — R seeded runs of one algorithm on one data set → a table of runs;
* :mod:`.tables`, :mod:`.figures` — the search tables next to the published values, and
  the anytime figure.
"""

from .algorithms import GAConfig, REAConfig, RunResult, SAConfig
from .evaluators import AccuracyOracle, Budget, BudgetExhausted, Ledger, ScoreStore
from .runner import ALGORITHMS, SearchSettings, run_search
from .space import SearchSpace, get_space

__all__ = [
    "ALGORITHMS",
    "AccuracyOracle",
    "Budget",
    "BudgetExhausted",
    "GAConfig",
    "Ledger",
    "REAConfig",
    "RunResult",
    "SAConfig",
    "ScoreStore",
    "SearchSettings",
    "SearchSpace",
    "get_space",
    "run_search",
]
