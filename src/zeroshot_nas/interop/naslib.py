"""NAS-Bench-Suite-Zero's JSON layout (NASLib ``naslib/data/zc_nasbench201.json``).

NASLib users load zero-cost scores from one file per search space, read by NASLib's
``get_zc_benchmark_api(space, dataset)`` (``data[dataset]``) and its optimizers
(``zc_api[str(arch_hash)][proxy]["score"]``, ``zc_api[str(arch_hash)]["val_accuracy"]``)::

    {dataset: {"(i0, i1, i2, i3, i4, i5)": {proxy: {"score": s, "time": seconds}, ...,
                                            "val_accuracy": percent}}}

The early files, e.g. automl/NASLib@22280f711aa782fe9157d1b4e5ce4f83f47ab908
``naslib/data/zc_nasbench201.json``, wrap the data sets in ``{"nasbench201": ...}`` and store
bare values (``proxy: s``); :func:`read_naslib` reads both.

The key is ``str(tuple)`` of NASLib's architecture hash
(``naslib/search_spaces/nasbench201/conversions.py``): one op index per edge in NASLib's
``EDGE_LIST`` order, (1,2), (1,3), (1,4), (2,3), (2,4), (3,4) in its 1-based node numbering,
i.e. the edges 0→1, 0→2, 0→3, 1→2, 1→3, 2→3 of the NB201 cell, each an index into
``OP_NAMES_NB201`` = skip_connect, none, nor_conv_3x3, nor_conv_1x1, avg_pool_3x3. Both the edge
order and the op order differ from our arch ids (``spaces.nb201``).

Values follow NASLib's ``ZeroCost.query``, so that a NASLib user reads our scores with their
meaning: synflow is stored as its logarithm (0 kept as 0) and a NaN or infinite score as
-1e8. Our exports add our ``status`` beside ``score`` and ``time`` (NASLib ignores it), so a
file written here reads back with every non-finite value restored.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from zeroshot_nas.proxies.protocol import STATUSES, status_of
from zeroshot_nas.spaces import nb201

# NASLib's op names in the order of its op indices, and its edges as (target, source) pairs
# of our node numbering (the form of ``nb201.EDGES``), in the order of its hash.
NASLIB_OPS = ("skip_connect", "none", "nor_conv_3x3", "nor_conv_1x1", "avg_pool_3x3")
NASLIB_EDGES = ((1, 0), (2, 0), (3, 0), (2, 1), (3, 1), (3, 2))
# Our score names whose NAS-Bench-Suite-Zero name differs; every other score keeps its name
# (snip, grad_norm, grasp, fisher, synflow, plain, l2_norm, epe_nas, zen, params and flops
# are NASLib's names too; scores NASLib lacks are written under ours).
NASLIB_NAMES = {"jacob_cov": "jacov", "naswot": "nwot"}
OUR_NAMES = {v: k for k, v in NASLIB_NAMES.items()}
# What ZeroCost.query stores for a NaN or infinite score, and the scores it stores as logs.
NON_FINITE = -1e8
LOG_SCORES = ("synflow",)
SPACE_KEY = "nasbench201"
ACCURACY_KEY = "val_accuracy"
# Per-architecture entries that are not scores (identifiers some releases carry).
META_KEYS = {"id", "idx", "arch"}
IMPORT_COLUMNS = ["space", "arch", "arch_id", "dataset", "score", "naslib_name", "value",
                  "status", "seconds", ACCURACY_KEY]


def naslib_key(arch: str) -> str:
    """NASLib's key of an NB201 architecture, e.g. ``'(4, 3, 3, 3, 2, 3)'``."""
    op_of = dict(zip(nb201.EDGES, nb201.parse_ops(arch), strict=True))
    return str(tuple(NASLIB_OPS.index(op_of[edge]) for edge in NASLIB_EDGES))


def arch_of_key(key: str) -> str:
    """The canonical NB201 arch string of a NASLib key (ValueError naming a bad key)."""
    text = key.strip() if isinstance(key, str) else ""
    parts = text[1:-1].split(",") if text.startswith("(") and text.endswith(")") else []
    try:
        indices = [int(p) for p in parts]
    except ValueError:
        indices = []
    if len(indices) != len(NASLIB_EDGES) or any(not 0 <= i < len(NASLIB_OPS) for i in indices):
        raise ValueError(f"{key!r} is not a NASLib NAS-Bench-201 key: expected a tuple of "
                         f"{len(NASLIB_EDGES)} op indices in 0..{len(NASLIB_OPS) - 1}")
    op_of = {edge: NASLIB_OPS[i] for edge, i in zip(NASLIB_EDGES, indices, strict=True)}
    return nb201.ops_to_arch([op_of[edge] for edge in nb201.EDGES])


def to_naslib_score(name: str, value: float) -> float:
    """A score as NASLib's ``ZeroCost.query`` stores it (log synflow, -1e8 if not finite)."""
    if not math.isfinite(value):
        return NON_FINITE
    if name in LOG_SCORES and value != 0.0:
        return math.log(value) if value > 0 else -math.log(-value)
    return float(value)


def from_naslib_score(name: str, stored: float, status: str | None) -> tuple[float, str]:
    """(value, status) of a stored score: ``status`` as our export wrote it, or None for
    NASLib's own files, where -1e8 stands for a NaN or infinite score."""
    if status is None:
        status = "nan" if stored == NON_FINITE else status_of(stored)
    if status != "ok":
        return {"+inf": math.inf, "-inf": -math.inf}.get(status, math.nan), status
    if name in LOG_SCORES and stored != 0.0:
        return math.exp(stored), status
    return float(stored), status


# ------------------------------------------------------------------------------ export
def export_naslib(table: pd.DataFrame, seed: int | None = None,
                  scores: Iterable[str] | None = None) -> dict[str, Any]:
    """NAS-Bench-Suite-Zero's final layout of the NB201 scores of a merged scores table
    (``results/<experiment>/scores.parquet``): one seed (``seed``, or the table's only one),
    the scores ``scores`` (default: all), ``time`` our seconds, ``val_accuracy`` the
    benchmark's ``valid_acc`` (200-epoch x-valid accuracy, as NASLib's NB201 queries give)."""
    from zeroshot_nas.stats.analysis import quality_rows

    rows = _export_rows(quality_rows(table), seed, scores)
    out: dict[str, Any] = {}
    for (dataset, arch), group in rows.groupby(["dataset", "arch"], sort=True):
        entry: dict[str, Any] = {}
        for row in group.itertuples(index=False):
            entry[NASLIB_NAMES.get(row.score, row.score)] = {
                "score": to_naslib_score(row.score, float(row.value)),
                "time": float(row.seconds),
                "status": row.status,
            }
        entry[ACCURACY_KEY] = float(group["valid_acc"].iloc[0])
        out.setdefault(dataset, {})[naslib_key(arch)] = entry
    return out


def _export_rows(table: pd.DataFrame, seed: int | None,
                 scores: Iterable[str] | None) -> pd.DataFrame:
    missing = [c for c in ("space", "arch", "dataset", "seed", "score", "value", "status",
                           "seconds", "valid_acc") if c not in table.columns]
    if missing:
        raise ValueError(f"the scores table lacks column(s) {missing}: export the merged table "
                         "of a run (results/<experiment>/scores.parquet), which has valid_acc")
    spaces = sorted(set(table["space"]))
    if spaces != ["nb201"]:
        raise ValueError(f"NASLib's zc layout covers NAS-Bench-201 only; the table's space(s): "
                         f"{spaces}")
    seeds = sorted(int(s) for s in set(table["seed"]))
    if seed is None and len(seeds) > 1:
        raise ValueError(f"the table holds seeds {seeds}: choose one (--seed)")
    seed = seeds[0] if seed is None else seed
    if seed not in seeds:
        raise ValueError(f"seed {seed} is not in the table (seeds: {seeds})")
    rows = table[table["seed"] == seed]
    if scores is not None:
        wanted = list(scores)
        unknown = sorted(set(wanted) - set(rows["score"]))
        if unknown:
            raise ValueError(f"score(s) {unknown} are not in the table; it has "
                             f"{sorted(set(rows['score']))}")
        rows = rows[rows["score"].isin(wanted)]
    dup = rows.duplicated(["dataset", "arch", "score"])
    if dup.any():
        first = rows.loc[dup, ["dataset", "arch", "score"]].iloc[0].to_dict()
        raise ValueError(f"{int(dup.sum())} duplicated (dataset, arch, score) rows, e.g. {first}")
    return rows


def write_naslib(scores_path: str | Path, out: str | Path, seed: int | None = None,
                 scores: Iterable[str] | None = None) -> dict[str, int]:
    """Export a run's merged scores table to ``out``; returns architectures per data set."""
    from zeroshot_nas import io

    path = Path(scores_path)
    if not path.exists():
        raise FileNotFoundError(f"scores table not found: {path}")
    data = export_naslib(pd.read_parquet(path), seed, scores)
    io.write_json(out, data, indent=1)
    return {dataset: len(archs) for dataset, archs in data.items()}


# ------------------------------------------------------------------------------ import
def read_naslib(path: str | Path) -> pd.DataFrame:
    """A NAS-Bench-Suite-Zero NB201 file (final or early layout) as a long table: one row
    per data set, architecture and score, with our score names (``naslib_name`` keeps
    theirs), values restored as :func:`from_naslib_score` says, ``seconds`` NaN where the
    file has no time, and the file's ``val_accuracy``."""
    path = Path(path)
    data = _json_object(path)
    if set(data) == {SPACE_KEY}:
        data = data[SPACE_KEY]  # the early layout's wrapper
    rows: list[dict[str, Any]] = []
    for dataset, archs in data.items():
        if not isinstance(archs, dict):
            raise ValueError(f"{path}: data set {dataset!r} is not an object of architectures")
        for key, entry in archs.items():
            where = f"{path}: {dataset} {key}"
            try:
                arch = arch_of_key(key)
            except ValueError as err:
                raise ValueError(f"{path}: data set {dataset!r}: {err}") from None
            if not isinstance(entry, dict):
                raise ValueError(f"{where}: expected an object of scores")
            rows.extend(_entry_rows(entry, arch, dataset, where))
    return pd.DataFrame(rows, columns=IMPORT_COLUMNS)


def _json_object(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise FileNotFoundError(f"NASLib zero-cost file not found: {path}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is not valid JSON: {err}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object of data sets")
    return data


def _entry_rows(entry: dict[str, Any], arch: str, dataset: str, where: str) -> list[dict]:
    accuracy = entry.get(ACCURACY_KEY)
    if not _is_number(accuracy):
        raise ValueError(f"{where}: {ACCURACY_KEY!r} missing or not a number ({accuracy!r})")
    rows = []
    for name, item in entry.items():
        if name == ACCURACY_KEY or name in META_KEYS:
            continue
        stored, seconds, status = item, math.nan, None
        if isinstance(item, dict):
            stored, seconds, status = item.get("score"), item.get("time", math.nan), item.get("status")
        if not _is_number(stored) or not _is_number(seconds):
            raise ValueError(f"{where}: score {name!r} is not a number or a "
                             f"{{score, time}} object of numbers: {item!r}")
        if status is not None and status not in STATUSES:
            raise ValueError(f"{where}: score {name!r} has status {status!r}; known: {STATUSES}")
        ours = OUR_NAMES.get(name, name)
        value, status = from_naslib_score(ours, float(stored), status)
        rows.append({"space": "nb201", "arch": arch, "arch_id": nb201.arch_id(arch),
                     "dataset": dataset, "score": ours, "naslib_name": name, "value": value,
                     "status": status, "seconds": float(seconds), ACCURACY_KEY: float(accuracy)})
    return rows


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
