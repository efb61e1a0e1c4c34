"""Ranks of training-free scores and their rank combination (rank-based paper, Algorithm 2).

Every score is ranked with the best architecture first (rank 1); directions come from the
proxy registry (``higher_is_better``), never from the ground truth. A value that is not a
finite number (the scoring status was ``nan``, ``+inf``, ``-inf`` or ``error``) carries no
ranking information, so it ties at the bottom of its score's ranking.

The ranks and their sum are :mod:`zeroshot_nas.stats.core`'s (re-exported here); this module
adds what only searches need: the best architecture and the directions of named scores.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

# One rank sum for searches and statistics: the rank-combination score of the tables and
# the ranking the searches select by must be the same numbers.
from zeroshot_nas.stats.core import goodness, rank_sum, ranks

__all__ = ["best_index", "directions_for", "rank_sum", "ranks", "score_directions"]


def score_directions(names: Sequence[str]) -> dict[str, bool]:
    """``higher_is_better`` of each score, from the proxy registry."""
    from zeroshot_nas.proxies import get_spec

    return {name: bool(get_spec(name).higher_is_better) for name in names}


def best_index(matrix: np.ndarray, directions: Sequence[bool]) -> int:
    """Index of the best architecture: the best value of a single score, or the smallest
    summed rank of several (first one on ties, so the result is deterministic)."""
    m = np.asarray(matrix, dtype=float)
    if m.shape[0] == 0:
        raise ValueError("cannot pick the best of zero architectures")
    if m.shape[1] == 1:
        return int(np.argmax(goodness(m[:, 0], directions[0])))
    return int(np.argmin(rank_sum(m, directions)))


def directions_for(names: Sequence[str], directions: Mapping[str, bool] | None) -> list[bool]:
    """Directions of ``names`` from an explicit mapping, or from the proxy registry."""
    if directions is None:
        directions = score_directions(names)
    missing = [n for n in names if n not in directions]
    if missing:
        raise ValueError(f"no direction (higher_is_better) given for score(s) {missing}")
    return [bool(directions[n]) for n in names]
