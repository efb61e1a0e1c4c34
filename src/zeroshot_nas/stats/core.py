"""Statistics of score quality: monotonicity, regression slopes, best accuracy retrieved,
and the rank combination of several scores (rank correlations with bootstrap intervals are
in :mod:`zeroshot_nas.stats.bootstrap`).

Every function works on plain arrays so it can be tested against hand-computed cases and
scipy; the table-level driver is :mod:`zeroshot_nas.stats.analysis`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as sps

NONFINITE_POLICIES = ("kept_worst", "dropped")


# ---------------------------------------------------------------------------------------------
# Monotonicity
# ---------------------------------------------------------------------------------------------
def _count_inversions(values: np.ndarray) -> int:
    """Number of pairs i < j with values[i] > values[j] (strict), for non-negative integers.

    Pairs are split by the most significant bit where the two values differ: at bit b, a pair
    with the same higher bits is an inversion exactly when the earlier element has bit b set
    and the later one has it clear. Each level is a stable group-by plus cumulative sums, so
    the whole count is O(N log N · log max) in vectorised numpy, without a Python loop over N.
    """
    vals = np.asarray(values, dtype=np.int64)
    if vals.size < 2:
        return 0
    total = 0
    n_bits = int(vals.max()).bit_length()
    for bit in range(n_bits - 1, -1, -1):
        prefix = vals >> (bit + 1)
        is_set = ((vals >> bit) & 1).astype(np.int64)
        order = np.argsort(prefix, kind="stable")  # keeps original order inside each group
        p_sorted = prefix[order]
        s_sorted = is_set[order]
        ones_before = np.cumsum(s_sorted) - s_sorted  # set bits strictly before, global
        group_start = np.r_[0, np.flatnonzero(np.diff(p_sorted)) + 1]
        group_id = np.cumsum(np.r_[0, np.diff(p_sorted) != 0])
        ones_before = ones_before - ones_before[group_start][group_id]
        total += int(ones_before[s_sorted == 0].sum())
    return total


def concordance_sum(x: np.ndarray, y: np.ndarray) -> int:
    """Σ_{i<j} sign((x_i − x_j)(y_i − y_j)) = concordant − discordant pairs, ties count 0.

    O(N log N) (Knight's method): sort by (x, y); discordant pairs are then the strict
    inversions of y; concordant pairs follow from the tie counts.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"x and y must be 1-D arrays of equal length, got {x.shape}, {y.shape}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("concordance_sum needs finite values; apply a non-finite policy first")
    n = x.size
    if n < 2:
        return 0
    order = np.lexsort((y, x))
    xs, ys = x[order], y[order]
    y_rank = np.unique(ys, return_inverse=True)[1]

    def tied_pairs(*keys: np.ndarray) -> int:
        _, counts = np.unique(np.stack(keys, axis=1), axis=0, return_counts=True)
        return int((counts * (counts - 1) // 2).sum())

    n0 = n * (n - 1) // 2
    n_x = tied_pairs(xs)
    n_y = tied_pairs(ys)
    n_xy = tied_pairs(xs, ys)
    discordant = _count_inversions(y_rank)
    # Pairs tied in x or y (inclusion–exclusion) are neither concordant nor discordant.
    concordant = n0 - n_x - n_y + n_xy - discordant
    return concordant - discordant


def monotonicity(x: np.ndarray, y: np.ndarray) -> float:
    """Monotonicity of parameters-scoring §3.3: |Σ_{i<j} sign((x_i−x_j)(y_i−y_j))| / ((N²−N)/2).

    Ties count 0; equals |Kendall τ_a|. O(N log N); needs at least two finite points.
    """
    x = np.asarray(x, dtype=float)
    n = x.size
    if n < 2:
        raise ValueError(f"monotonicity needs at least 2 points, got {n}")
    return abs(concordance_sum(x, y)) / (n * (n - 1) / 2)


# ---------------------------------------------------------------------------------------------
# Non-finite values
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PolicyResult:
    """Values after a non-finite policy, the kept positions, and the non-finite count."""

    values: np.ndarray
    keep: np.ndarray
    n_nonfinite: int


def apply_nonfinite_policy(values: np.ndarray, higher_is_better: bool, policy: str) -> PolicyResult:
    """Handle NaN/±inf score values explicitly.

    ``kept_worst``: every non-finite value becomes one common value just past the worst finite
    value in the score's direction (below the minimum when higher is better, above the maximum
    otherwise), so such architectures rank last and tie among themselves. A +inf of a
    higher-is-better score is treated as worst too: it is an overflow, not a measurement.
    ``dropped``: non-finite values are removed.
    """
    if policy not in NONFINITE_POLICIES:
        raise ValueError(f"unknown non-finite policy {policy!r}; use one of {NONFINITE_POLICIES}")
    vals = np.asarray(values, dtype=float)
    finite = np.isfinite(vals)
    n_bad = int((~finite).sum())
    if policy == "dropped":
        return PolicyResult(vals[finite], finite, n_bad)
    out = vals.copy()
    if n_bad:
        if finite.any():
            lo, hi = vals[finite].min(), vals[finite].max()
            span = max(hi - lo, abs(hi), abs(lo), 1.0)
            worst = lo - span if higher_is_better else hi + span
        else:
            worst = 0.0
        out[~finite] = worst
    return PolicyResult(out, np.ones(vals.size, dtype=bool), n_bad)


def better_half_mask(values: np.ndarray, higher_is_better: bool) -> np.ndarray:
    """Architectures strictly better than the median score (above it when higher is better)."""
    vals = np.asarray(values, dtype=float)
    med = np.median(vals)
    return vals > med if higher_is_better else vals < med


# ---------------------------------------------------------------------------------------------
# Slopes
# ---------------------------------------------------------------------------------------------
def slope_transform(values: np.ndarray, bounded01: bool) -> tuple[np.ndarray, str]:
    """The regressor of the slope analysis: log(1 − score) for scores in [0, 1] (as in
    parameters-scoring, Fig. 2 and 5), else the score standardised over the given values.

    Values for which the transform is not finite (score ≥ 1, NaN) come back as NaN.
    """
    vals = np.asarray(values, dtype=float)
    if bounded01:
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.log1p(-vals)
        out[~np.isfinite(out)] = np.nan
        return out, "log(1-score)"
    finite = np.isfinite(vals)
    out = np.full(vals.shape, np.nan)
    if finite.sum() >= 2:
        sd = vals[finite].std()
        if sd > 0:
            out[finite] = (vals[finite] - vals[finite].mean()) / sd
    return out, "standardised score"


def linear_slope(x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Least-squares line of y on x (scipy.stats.linregress); NaN when x is constant or n < 3."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    nan = float("nan")
    if x.size < 3 or np.all(x == x[0]):
        return {"slope": nan, "intercept": nan, "r": nan, "stderr": nan, "n": int(x.size)}
    res = sps.linregress(x, y)
    return {
        "slope": float(res.slope),
        "intercept": float(res.intercept),
        "r": float(res.rvalue),
        "stderr": float(res.stderr),
        "n": int(x.size),
    }


# ---------------------------------------------------------------------------------------------
# Best accuracy retrieved
# ---------------------------------------------------------------------------------------------
def best_retrieved_runs(
    score: np.ndarray,
    test_acc: np.ndarray,
    valid_acc: np.ndarray,
    higher_is_better: bool,
    runs: int,
    sample_size: int,
    seed: int,
) -> pd.DataFrame:
    """R runs: sample N architectures without replacement, take the top-scored one.

    Per run: the test and validation accuracy of the top-scored architecture, and the
    percentile, in the sample's score ranking, of the sample's best architecture by test
    accuracy (100·rank/N, rank 1 = top score, ties averaged) — the Discussion's claim of
    parameters-scoring. Non-finite scores rank last. The same seed gives the same samples to
    every score of a pool of equal size, so scores are compared on identical draws.
    """
    s = np.asarray(score, dtype=float)
    t = np.asarray(test_acc, dtype=float)
    v = np.asarray(valid_acc, dtype=float)
    if not (s.size == t.size == v.size):
        raise ValueError("score, test_acc and valid_acc must have the same length")
    if runs < 1:
        raise ValueError(f"runs must be >= 1, got {runs}")
    if s.size < 1:
        raise ValueError("best_retrieved_runs needs at least one architecture")
    n = min(int(sample_size), s.size)
    oriented = apply_nonfinite_policy(s if higher_is_better else -s, True, "kept_worst").values
    rng = np.random.default_rng(seed)
    rows = []
    for run in range(runs):
        idx = rng.choice(s.size, size=n, replace=False)
        o = oriented[idx]
        top = idx[int(np.argmax(o))]  # first maximum in the random order: a random tie-break
        best_arch = int(np.argmax(t[idx]))
        rank = sps.rankdata(-o, method="average")[best_arch]
        rows.append(
            {
                "run": run,
                "sample_size": n,
                "top_position": int(top),
                "test_acc": float(t[top]),
                "valid_acc": float(v[top]),
                "sample_best_test_acc": float(t[idx].max()),
                "percentile_of_best": float(100.0 * rank / n),
            }
        )
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------
# Rank combination
# ---------------------------------------------------------------------------------------------
def goodness(values: np.ndarray, higher_is_better: bool) -> np.ndarray:
    """Values turned so that larger is better, with non-finite values at -inf (worst)."""
    v = np.asarray(values, dtype=float)
    good = v if higher_is_better else -v
    return np.where(np.isfinite(good), good, -np.inf)


def ranks(values: np.ndarray, higher_is_better: bool) -> np.ndarray:
    """Rank 1 = best; ties share their average rank; non-finite values tie last
    (the ``average`` method of ``scipy.stats.rankdata``)."""
    key = -goodness(values, higher_is_better)
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


def log_rank_sum(matrix: np.ndarray, directions: Sequence[bool]) -> np.ndarray:
    """AZ-NAS's aggregation: Σ over the columns of log(r / m), r the ascending rank of the
    architecture in that column (best = m, worst = 1; ties averaged, non-finite values tie at
    the bottom) among the m architectures (rows); larger is better."""
    m = np.asarray(matrix, dtype=float)
    if m.ndim != 2 or m.shape[1] != len(directions):
        raise ValueError(
            f"score matrix of shape {m.shape} does not match {len(directions)} score directions"
        )
    n = m.shape[0]
    if n == 0:
        return np.zeros(0)
    # ranks() puts the best first; the ascending rank of the same ordering is n + 1 - rank.
    return sum(np.log((n + 1 - ranks(m[:, j], d)) / n) for j, d in enumerate(directions))


def rank_combination(scores: pd.DataFrame, higher_is_better: dict[str, bool]) -> pd.Series:
    """Sum of per-score ranks (rank-based paper): each column ranked so that its best value
    gets rank 1 (ties averaged, non-finite values last), ranks summed; smaller is better.

    Directions come from the registry (``higher_is_better``), never from accuracies.
    """
    if scores.shape[1] == 0:
        raise ValueError("rank_combination needs at least one score column")
    missing = [c for c in scores.columns if c not in higher_is_better]
    if missing:
        raise ValueError(f"no direction given for score(s) {missing}")
    columns = [scores[col].to_numpy(dtype=float) for col in scores.columns]
    total = rank_sum(np.column_stack(columns), [higher_is_better[c] for c in scores.columns])
    return pd.Series(total, index=scores.index, name="rank_sum")
