"""Ranks of training-free scores and their rank combination (rank-based paper, Algorithm 2).

Every score is ranked with the best architecture first (rank 1); directions come from the
proxy registry (``higher_is_better``), never from the ground truth. A value that is not a
finite number (the scoring status was ``nan``, ``+inf``, ``-inf`` or ``error``) carries no
ranking information, so it ties at the bottom of its score's ranking.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


def score_directions(names: Sequence[str]) -> dict[str, bool]:
    """``higher_is_better`` of each score, from the proxy registry."""
    from zeroshot_nas.proxies import get_spec

    return {name: bool(get_spec(name).higher_is_better) for name in names}


def _goodness(values: np.ndarray, higher_is_better: bool) -> np.ndarray:
    """Values turned so that larger is better, with non-finite values at -inf (worst)."""
    v = np.asarray(values, dtype=float)
    good = v if higher_is_better else -v
    return np.where(np.isfinite(good), good, -np.inf)


def ranks(values: np.ndarray, higher_is_better: bool) -> np.ndarray:
    """Rank 1 = best; ties share their average rank; non-finite values tie last
    (the ``average`` method of ``scipy.stats.rankdata``)."""
    key = -_goodness(values, higher_is_better)
    # Same result as scipy.stats.rankdata(key, method="average") (the tests check it), at a
    # fraction of its per-call overhead: searches rank after every evaluation.
    _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    upper = np.cumsum(counts)
    return (upper - (counts - 1) / 2.0)[inverse]


def rank_sum(matrix: np.ndarray, directions: Sequence[bool]) -> np.ndarray:
    """Summed rank over the columns of ``matrix`` (architectures × scores); smaller is better."""
    m = np.asarray(matrix, dtype=float)
    if m.ndim != 2 or m.shape[1] != len(directions):
        raise ValueError(
            f"score matrix of shape {m.shape} does not match {len(directions)} score directions"
        )
    if m.shape[0] == 0:
        return np.zeros(0)
    return sum(ranks(m[:, j], d) for j, d in enumerate(directions))


def best_index(matrix: np.ndarray, directions: Sequence[bool]) -> int:
    """Index of the best architecture: the best value of a single score, or the smallest
    summed rank of several (first one on ties, so the result is deterministic)."""
    m = np.asarray(matrix, dtype=float)
    if m.shape[0] == 0:
        raise ValueError("cannot pick the best of zero architectures")
    if m.shape[1] == 1:
        return int(np.argmax(_goodness(m[:, 0], directions[0])))
    return int(np.argmin(rank_sum(m, directions)))


def directions_for(names: Sequence[str], directions: Mapping[str, bool] | None) -> list[bool]:
    """Directions of ``names`` from an explicit mapping, or from the proxy registry."""
    if directions is None:
        directions = score_directions(names)
    missing = [n for n in names if n not in directions]
    if missing:
        raise ValueError(f"no direction (higher_is_better) given for score(s) {missing}")
    return [bool(directions[n]) for n in names]
