"""Seeded architecture samples and architecture list files."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def sample_architectures(space: str, n_archs: int | str, seed: int,
                         table: str | None = None) -> list[str]:
    """A seeded random sample of ``n_archs`` architectures of ``space`` (all when "all");
    for nb101, of the cells of its pinned ``table`` (``mlfe`` by default, or ``naslib``).

    The sample depends only on (space, table, n, seed), so every data set and scoring seed
    of an experiment scores the same architectures; a different n is a different sample.
    """
    from zeroshot_nas.spaces import all_archs, nb101

    if table is not None and space != "nb101":
        raise ValueError(f"a table ({table!r}) is only for space nb101, not {space}")
    archs = nb101.table_archs(table) if table is not None else all_archs(space)
    if n_archs == "all":
        return list(archs)
    n = int(n_archs)
    if not 1 <= n <= len(archs):
        raise ValueError(f"n_archs must be between 1 and {len(archs)} for {space}, got {n}")
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(archs), size=n, replace=False)
    return [archs[i] for i in chosen]


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
