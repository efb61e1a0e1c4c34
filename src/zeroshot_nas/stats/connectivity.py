"""Architectures whose output ignores their input (``stats.require_path``).

A NAS-Bench-201 cell whose every path from input to output runs through a ``none`` edge
computes the same output for every image: the benchmark records chance accuracy for all 341
such cells (10%, 1% and 0.83%, tied), and many scores are constant or non-finite on them. The rank-based authors' search space leaves
these 341 cells out (their encoder's ``has_backbone`` keeps 15,284 of the 15,625); with
``stats.require_path`` the statistics do the same. Every architecture of the other spaces
has a path (:func:`zeroshot_nas.spaces.has_path`).
"""

from __future__ import annotations

import pandas as pd

from zeroshot_nas import spaces

RULE = ("architectures without a path from input to output (every NAS-Bench-201 cell whose "
        "paths all pass through a 'none' edge; the other spaces have none) are dropped before "
        "every statistic, as the rank-based authors' search space leaves them out")
KEPT = ("every scored architecture is kept, with or without a path from input to output; "
        "those without one are ranked by their scores like the others")
DEFAULT_SPACE = "nb201"  # a scores table without a space column is NB201's (as the stats step)


def path_mask(df: pd.DataFrame) -> pd.Series:
    """Per row of the long scores table: whether its architecture has a path from input to
    output, in the space of its ``space`` column (NB201 where there is none). A string that
    is not an architecture of its space is an error naming it."""
    space = df["space"].astype(str) if "space" in df.columns else \
        pd.Series(DEFAULT_SPACE, index=df.index)
    pairs = pd.DataFrame({"space": space, "arch": df["arch"]}).drop_duplicates()
    known = {}
    for s, arch in zip(pairs["space"], pairs["arch"], strict=True):
        try:
            known[(s, arch)] = spaces.has_path(s, arch)
        except ValueError as err:
            raise ValueError(f"stats.require_path: architecture {arch!r} of the scores table "
                             f"is not one of the {s} space: {err}") from None
    return pd.Series([known[key] for key in zip(space, df["arch"], strict=True)],
                     index=df.index, dtype=bool)


def drop_without_path(df: pd.DataFrame, required: bool) -> tuple[pd.DataFrame, dict]:
    """``df`` without the rows of architectures that have no path from input to output when
    ``required`` (unchanged otherwise), and what ``summary.json`` records: the rule, and per
    data set how many architectures have no path and how many were dropped. Without a
    ``space`` column and not ``required`` the architectures are not checked (counts None):
    only a table the workflow merged says which space its strings belong to."""
    datasets = list(dict.fromkeys(df["dataset"]))
    if not required and "space" not in df.columns:
        return df, {"required": False, "rule": KEPT, "without_path": None, "dropped": None}
    has = path_mask(df)
    if required and not has.any():
        raise ValueError(f"stats.require_path: none of the {df['arch'].nunique()} scored "
                         "architectures has a path from input to output; nothing is left to "
                         "rank (set stats.require_path: false to rank them anyway)")
    missing = df.loc[~has].groupby("dataset")["arch"].nunique()
    counts = {d: int(missing.get(d, 0)) for d in datasets}
    record = {"required": required, "rule": RULE if required else KEPT,
              "without_path": counts,
              "dropped": counts if required else {d: 0 for d in datasets}}
    return (df[has] if required else df), record
