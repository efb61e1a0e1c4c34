"""Seeded architecture samples and architecture list files."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

UNIFORM = "uniform"
RANK_BASED_AUTHORS = "rank-based-authors"
SAMPLERS = (UNIFORM, RANK_BASED_AUTHORS)

# The rank-based authors' NB201 sampler (OEmiliatanO/Rank-Based-NAS, encoder/encoder.py at
# 4ccac9d, which RD_search.py used for the manuscript's Table 1): a code draws the six edges
# uniformly from the five ops, then one of the four paths from the input node to the output
# node, and gives that path's edges ops drawn from the four that are not 'none'. The paths,
# as edge positions in arch-string order (1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2):
RANK_BASED_PATHS: tuple[tuple[int, ...], ...] = ((5, 1), (3,), (0, 2, 5), (0, 4))


def rank_based_probability(arch: str) -> float:
    """The probability that one code of the rank-based authors' sampler is ``arch``."""
    from zeroshot_nas.spaces import nb201

    ops = nb201.parse_ops(arch)
    total = 0.0
    for path in RANK_BASED_PATHS:
        if all(ops[e] != "none" for e in path):
            total += 0.25 * 0.25 ** len(path) * 0.2 ** (len(ops) - len(path))
    return total


@lru_cache(maxsize=1)
def rank_based_reachable() -> int:
    """How many NB201 cells the rank-based authors' sampler can draw: its four paths are all
    the input-to-output paths of the cell, so the cells with a path (15,284)."""
    from zeroshot_nas.spaces import nb201

    return sum(nb201.has_path(a) for a in nb201.all_archs())


def _rank_based_codes(rng: np.random.Generator, size: int) -> np.ndarray:
    """``size`` codes of the rank-based authors' sampler, as op indices (size x 6)."""
    ops = rng.integers(0, 5, size=(size, 6))
    paths = rng.integers(0, len(RANK_BASED_PATHS), size=size)
    path_ops = rng.integers(1, 5, size=(size, 3))
    for p, path in enumerate(RANK_BASED_PATHS):
        rows = np.flatnonzero(paths == p)
        for k, edge in enumerate(path):
            ops[rows, edge] = path_ops[rows, k]
    return ops


def rank_based_sample(n_archs: int, seed: int) -> list[str]:
    """``n_archs`` distinct NB201 architectures drawn, in order, by the rank-based authors'
    sampler. Theirs keeps distinct codes, so an architecture can occur twice in their sample;
    ours keeps distinct architectures (every score is per architecture), i.e. draws without
    replacement from the same distribution."""
    from zeroshot_nas.spaces import nb201

    reachable = rank_based_reachable()
    if not 1 <= n_archs <= reachable:
        raise ValueError(f"n_archs must be between 1 and {reachable} for the rank-based "
                         f"authors' sampler (it never draws the other NB201 cells), got {n_archs}")
    rng = np.random.default_rng(seed)
    chosen: dict[str, None] = {}
    while len(chosen) < n_archs:
        for row in _rank_based_codes(rng, 4 * n_archs):
            chosen.setdefault(nb201.ops_to_arch([nb201.OPS[i] for i in row]))
            if len(chosen) == n_archs:
                break
    return list(chosen)


def sample_architectures(space: str, n_archs: int | str, seed: int,
                         table: str | None = None, sampler: str = UNIFORM) -> list[str]:
    """A seeded random sample of ``n_archs`` architectures of ``space`` (all when "all");
    for nb101, of the cells of its pinned ``table`` (``mlfe`` by default, or ``naslib``).
    ``sampler`` "rank-based-authors" (nb201 only) draws as the rank-based authors' Table 1
    script did (``rank_based_sample``) instead of uniformly.

    The sample depends only on (space, table, sampler, n, seed), so every data set and
    scoring seed of an experiment scores the same architectures; a different n is a
    different sample.
    """
    from zeroshot_nas.spaces import all_archs, nb101

    if table is not None and space != "nb101":
        raise ValueError(f"a table ({table!r}) is only for space nb101, not {space}")
    if sampler not in SAMPLERS:
        raise ValueError(f"unknown sampler {sampler!r}; known: {', '.join(SAMPLERS)}")
    if sampler == RANK_BASED_AUTHORS:
        if space != "nb201" or n_archs == "all":
            raise ValueError("the rank-based authors' sampler draws a sample of nb201 "
                             f"(n_archs a number), not {n_archs!r} of {space}")
        return rank_based_sample(int(n_archs), seed)
    archs = nb101.table_archs(table) if table is not None else all_archs(space)
    if n_archs == "all":
        return list(archs)
    n = int(n_archs)
    if not 1 <= n <= len(archs):
        raise ValueError(f"n_archs must be between 1 and {len(archs)} for {space}, got {n}")
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(archs), size=n, replace=False)
    return [archs[i] for i in chosen]


def sample_from_settings(sample: dict) -> list[str]:
    """The sample that ``pipeline.plan.sample_settings`` describes (table and sampler only
    where they are not the defaults)."""
    return sample_architectures(sample["space"], sample["n_archs"], sample["seed"],
                                sample.get("table"), sample.get("sampler", UNIFORM))


def read_archs(path: str | Path) -> list[str]:
    """One arch string per line; blank lines and ``#`` comments are ignored."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"architecture list {p} does not exist")
    archs = [ln.strip() for ln in p.read_text(encoding="utf-8").splitlines()]
    archs = [a for a in archs if a and not a.startswith("#")]
    if not archs:
        raise ValueError(f"architecture list {p} is empty")
    return archs
