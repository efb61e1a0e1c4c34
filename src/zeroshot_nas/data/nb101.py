"""NAS-Bench-101 benchmark tables from the two pinned public sources.

**MLFE's 2,000 architectures** (``NingW3028/MLFE``, ``ProxyEval-NAS101/data/``):
``keep_matrix_list_all.npy`` (int32 2000x7x7, unpruned adjacency), ``keep_arc_all.npy``
(vertex labels) and ``keep_indi_all.npy`` (float64 2000x5). The columns of
``keep_indi_all`` are the fields of ``nasbench.api.NASBench.query(spec)`` after the
matrix and ops, in that function's order: ``trainable_parameters``, ``training_time``
(seconds), ``train_accuracy``, ``validation_accuracy``, ``test_accuracy`` of the 108-epoch
schedule. The code that wrote the file is not in the repository (its ``--mode api`` loader
writes zeros in columns 0-3); the reading rests on three facts checked by
:func:`read_mlfe`: column 0 equals this project's parameter count of the benchmark's
network for every row, column 2 is a training accuracy (0.83-1.0) and rows of one cell carry
at most three distinct (1, 2, 3, 4) records. ``query`` returns one of the three training
runs at random, so the 2,000 rows are 1,835 distinct raw specs, 878 distinct pruned specs
and 846 cells up to isomorphism (NAS-Bench-101 graph hash), whose repeated rows hold one to
three of that cell's runs.

**NASLib's 500** (``automl/NASLib``, ``naslib/data/zc_nasbench101.json``): per cell, NASLib's
precomputed zero-cost scores and ``val_accuracy`` (%), also one random run of ``query``.
The 500 keys are 292 cells up to isomorphism.

Duplicates: one row per cell (isomorphism class), as the benchmark itself stores one model
per hash. Its accuracies and training time are the mean over the *distinct* runs its rows
hold (``n_runs``, 1-3; identical records are the same run drawn twice), which is the
benchmark's own mean over its three runs where all three were drawn. NASLib's scores of a
cell are the mean over its keys (``naslib_keys``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import spaces
from ..spaces import nb101
from .benchmark import COLUMNS, BenchmarkError, _check_equal, require_sources
from .sources import Source, load_registry

MLFE_KEYS = {"matrix": "mlfe-nb101-matrices", "ops": "mlfe-nb101-ops",
             "indi": "mlfe-nb101-indicators"}
NASLIB_KEY = "naslib-zc-nasbench101"
GROUPS = {"mlfe": "benchmark-nb101", "naslib": "benchmark-nb101-naslib"}
TABLE_FILES = {"mlfe": "nb101", "naslib": "nb101-naslib"}  # data/benchmarks/<name>.parquet
EPOCHS = 108
NUM_ROWS = 2_000
INDI_COLUMNS = ("trainable_parameters", "training_time", "train_accuracy",
                "validation_accuracy", "test_accuracy")
# NASLib's op codes (naslib/search_spaces/nasbench101/conversions.py all_ops)
NASLIB_CODES = ("input", "output", "maxpool3x3", "conv1x1-bn-relu", "conv3x3-bn-relu")
# NASLib's score names -> ours
NASLIB_SCORES = {"flops": "flops", "params": "params", "snip": "snip", "jacov": "jacob_cov",
                 "grad_norm": "grad_norm", "plain": "plain", "epe_nas": "epe_nas",
                 "fisher": "fisher", "grasp": "grasp", "l2_norm": "l2_norm",
                 "synflow": "synflow"}

COLUMN_DOCS: dict[str, str] = {
    "index": "Position of the cell in spaces.all_archs('nb101') order (first appearance in "
             "MLFE's file); for the NASLib table, first appearance in zc_nasbench101.json.",
    "arch": "Canonical NB101 arch string: the vertex order NAS-Bench-101 trained "
            "(zeroshot_nas.spaces.nb101).",
    "arch_id": "Filesystem-safe id (spaces.arch_id).",
    "dataset": "cifar10 (NAS-Bench-101 trained on CIFAR-10 only).",
    "test_acc": "108-epoch test accuracy (%) on the 10k CIFAR-10 test set, mean over the "
                "distinct training runs the source's rows hold (n_runs); NaN in the NASLib "
                "table (not in that source).",
    "valid_acc": "108-epoch validation accuracy (%) on NAS-Bench-101's 10k validation split of "
                 "the CIFAR-10 training set, mean over the distinct runs held (n_runs).",
    "test_acc_12": "NaN: the sources hold the 108-epoch schedule only.",
    "valid_acc_12": "NaN: the sources hold the 108-epoch schedule only.",
    "params_m": "Parameters (millions). MLFE table: the benchmark's trainable_parameters, "
                "checked equal to this project's network for every row; NASLib table: this "
                "project's count (spaces.params_m).",
    "flops_m": "FLOPs per image (millions, NATS convention) of this project's network.",
    "train_seconds_per_epoch": "Training time of the 108-epoch run (TPU seconds, mean over "
                               "the distinct runs held) divided by 108; NaN in the NASLib table.",
    "graph_hash": "NAS-Bench-101 graph hash (nasbench graph_util.hash_module): the key the "
                  "benchmark is queried with.",
    "n_rows": "Rows (MLFE) or keys (NASLib) of the source that are this cell.",
    "n_runs": "Distinct training runs among those rows (NAS-Bench-101 trained each cell three "
              "times; its query returns one at random).",
    "row_test_acc": "JSON list: the test accuracy (%) of each MLFE row that is this cell (the "
                    "statistics over the 2,000 rows, as MLFE evaluates, read it).",
}


def read_mlfe(paths: Mapping[str, str | Path],
              registry: dict[str, Source] | None = None) -> pd.DataFrame:
    """MLFE's 2,000 rows, one per row of its files: the canonical arch and hash of the cell,
    and the five ``query`` fields (``INDI_COLUMNS``). ``attrs`` count the distinct raw and
    pruned specs."""
    registry = registry if registry is not None else load_registry()
    files = require_sources(paths, registry, tuple(MLFE_KEYS.values()), "NB101 MLFE table")
    matrices = np.load(files[MLFE_KEYS["matrix"]], allow_pickle=False)
    ops = np.load(files[MLFE_KEYS["ops"]], allow_pickle=False)
    indi = np.load(files[MLFE_KEYS["indi"]], allow_pickle=False)
    for what, array, shape in (("matrices", matrices, (NUM_ROWS, 7, 7)), ("ops", ops, (NUM_ROWS, 7)),
                               ("indicators", indi, (NUM_ROWS, len(INDI_COLUMNS)))):
        if array.shape != shape:
            raise BenchmarkError(f"MLFE {what}: shape {array.shape}, expected {shape}")
    cells = [nb101.cell_from_spec(matrices[i].tolist(), ops[i].tolist(), f"MLFE row {i}")
             for i in range(NUM_ROWS)]
    frame = pd.DataFrame(indi, columns=list(INDI_COLUMNS))
    frame.insert(0, "row", np.arange(NUM_ROWS))
    frame.insert(1, "arch", [nb101.cell_to_arch(nb101.canonical_cell(c)) for c in cells])
    frame.insert(2, "graph_hash", [nb101.graph_hash(c) for c in cells])
    frame.attrs["distinct_raw_specs"] = len({(m.tobytes(), o.tobytes())
                                             for m, o in zip(matrices, ops, strict=True)})
    frame.attrs["distinct_pruned_specs"] = len({nb101.cell_to_arch(c) for c in cells})
    _check_mlfe(frame)
    return frame


def _check_mlfe(frame: pd.DataFrame) -> None:
    """What the reading of ``keep_indi_all`` rests on (see the module docstring)."""
    ours = np.array([spaces.params_m("nb101", a, "cifar10") for a in frame["arch"]])
    _check_equal("MLFE column 0 (trainable_parameters) vs this project's network, in millions",
                 np.round(frame["trainable_parameters"].to_numpy() / 1e6, 6), np.round(ours, 6))
    for col in ("train_accuracy", "validation_accuracy", "test_accuracy"):
        values = frame[col].to_numpy()
        if not ((values > 0.5) & (values <= 1.0)).all():
            raise BenchmarkError(f"MLFE {col}: values outside (0.5, 1] (not an accuracy fraction)")
    runs = frame.groupby("arch")[list(INDI_COLUMNS[1:])].apply(lambda g: len(g.drop_duplicates()))
    if runs.max() > 3:
        raise BenchmarkError(f"MLFE: cell {runs.idxmax()} holds {runs.max()} distinct runs; "
                             "NAS-Bench-101 trained each cell three times")
    if frame.groupby("arch")["graph_hash"].nunique().max() != 1 or \
            frame.groupby("graph_hash")["arch"].nunique().max() != 1:
        raise BenchmarkError("MLFE: canonical arch strings and graph hashes disagree")


def _check_list(order: list[str], table: str) -> None:
    """The cells of a source must be the list the space ships (sampling reads that list)."""
    shipped = nb101.table_archs(table)
    if order != shipped:
        raise BenchmarkError(f"the {table} source's cells (in order of first appearance, "
                             f"{len(order)}) differ from spaces/{nb101.ARCH_LISTS[table]} "
                             f"({len(shipped)})")


def _distinct_run_means(group: pd.DataFrame, columns: list[str]) -> pd.Series:
    runs = group[columns].drop_duplicates()
    return pd.concat([runs.mean(), pd.Series({"n_rows": len(group), "n_runs": len(runs)})])


def build_mlfe_table(paths: Mapping[str, str | Path],
                     registry: dict[str, Source] | None = None) -> pd.DataFrame:
    """The NB101 benchmark table of MLFE's 2,000 rows: one row per cell (846), the columns
    of the NB201 table (``benchmark.COLUMNS``) plus ``graph_hash``, ``n_rows``, ``n_runs``."""
    registry = registry if registry is not None else load_registry()
    rows = read_mlfe(paths, registry)
    order = list(dict.fromkeys(rows["arch"]))
    _check_list(order, "mlfe")
    runs = rows.groupby("arch", sort=False).apply(
        _distinct_run_means, list(INDI_COLUMNS[1:]), include_groups=False)
    runs = runs.loc[order]
    table = _base_table(order, rows.groupby("arch", sort=False)["graph_hash"].first().loc[order])
    table["test_acc"] = 100 * runs["test_accuracy"].to_numpy()
    table["valid_acc"] = 100 * runs["validation_accuracy"].to_numpy()
    table["params_m"] = rows.groupby("arch", sort=False)["trainable_parameters"].first() \
        .loc[order].to_numpy() / 1e6
    table["train_seconds_per_epoch"] = runs["training_time"].to_numpy() / EPOCHS
    table["n_rows"] = runs["n_rows"].to_numpy(np.int64)
    table["n_runs"] = runs["n_runs"].to_numpy(np.int64)
    table["row_test_acc"] = rows.groupby("arch", sort=False)["test_accuracy"].apply(
        lambda v: json.dumps([100 * a for a in v])).loc[order].to_numpy()
    table.attrs["provenance"] = _provenance("mlfe", registry, list(MLFE_KEYS.values()), {
        "rows": NUM_ROWS, "distinct_raw_specs": rows.attrs["distinct_raw_specs"],
        "distinct_pruned_specs": rows.attrs["distinct_pruned_specs"], "cells": len(order),
        "keep_indi_all_columns": list(INDI_COLUMNS)})
    check_nb101_table(table)
    return table


def _base_table(archs: list[str], hashes: pd.Series) -> pd.DataFrame:
    table = pd.DataFrame({
        "index": np.arange(len(archs), dtype=np.int64),
        "arch": archs,
        "arch_id": [nb101.arch_id(a) for a in archs],
        "dataset": "cifar10",
    })
    for col in ("test_acc", "valid_acc", "test_acc_12", "valid_acc_12", "params_m",
                "train_seconds_per_epoch"):
        table[col] = np.nan
    table["flops_m"] = [spaces.flops_m("nb101", a, "cifar10") for a in archs]
    table["graph_hash"] = hashes.to_numpy()
    return table


def read_naslib(path: str | Path, registry: dict[str, Source] | None = None) -> pd.DataFrame:
    """NASLib's 500 keys in file order: canonical arch, hash, ``val_accuracy`` and every
    precomputed score under our names (``NASLIB_SCORES``)."""
    registry = registry if registry is not None else load_registry()
    path = require_sources({NASLIB_KEY: path}, registry, (NASLIB_KEY,), "NB101 NASLib table")[
        NASLIB_KEY]
    data = json.loads(path.read_text(encoding="utf-8"))
    try:
        entries = data["nasbench101"]["cifar10"]
    except (KeyError, TypeError):
        raise BenchmarkError(f"{NASLIB_KEY}: expected {{'nasbench101': {{'cifar10': ...}}}}") \
            from None
    rows = []
    for key, values in entries.items():
        codes = [int(v) for v in key.strip("()").split(",")]
        if len(codes) != 56 or any(c not in range(len(NASLIB_CODES)) for c in codes[49:]):
            raise BenchmarkError(f"{NASLIB_KEY}: key {key[:40]}... is not a 7x7 matrix + 7 codes")
        cell = nb101.cell_from_spec(np.reshape(codes[:49], (7, 7)).tolist(),
                                    [NASLIB_CODES[c] for c in codes[49:]], f"NASLib key {key}")
        missing = [k for k in (*NASLIB_SCORES, "val_accuracy") if k not in values]
        if missing:
            raise BenchmarkError(f"{NASLIB_KEY}: key {key[:40]}... lacks {missing}")
        rows.append({"arch": nb101.cell_to_arch(nb101.canonical_cell(cell)),
                     "graph_hash": nb101.graph_hash(cell),
                     "val_accuracy": float(values["val_accuracy"]),
                     **{ours: float(values[theirs]) for theirs, ours in NASLIB_SCORES.items()}})
    return pd.DataFrame(rows)


def build_naslib_table(path: str | Path,
                       registry: dict[str, Source] | None = None) -> pd.DataFrame:
    """The NB101 table of NASLib's 500 keys: one row per cell (292) with validation accuracy
    (test accuracy NaN: not in the source) and NASLib's mean score per cell as
    ``naslib_<score>`` columns."""
    registry = registry if registry is not None else load_registry()
    rows = read_naslib(path, registry)
    order = list(dict.fromkeys(rows["arch"]))
    _check_list(order, "naslib")
    grouped = rows.groupby("arch", sort=False)
    runs = grouped.apply(_distinct_run_means, ["val_accuracy"], include_groups=False).loc[order]
    table = _base_table(order, grouped["graph_hash"].first().loc[order])
    table["valid_acc"] = runs["val_accuracy"].to_numpy()
    table["params_m"] = [spaces.params_m("nb101", a, "cifar10") for a in order]
    table["n_rows"] = runs["n_rows"].to_numpy(np.int64)
    table["n_runs"] = runs["n_runs"].to_numpy(np.int64)
    means = grouped[list(NASLIB_SCORES.values())].mean().loc[order]
    for score in NASLIB_SCORES.values():
        table[f"naslib_{score}"] = means[score].to_numpy()
    table.attrs["provenance"] = _provenance("naslib", registry, [NASLIB_KEY], {
        "keys": len(rows), "cells": len(order),
        "naslib_scores": {f"naslib_{ours}": theirs for theirs, ours in NASLIB_SCORES.items()},
        "naslib_params_note": "NASLib's params column counts the network of NASLib's own vertex "
                              "order; for cells whose key is not in the trained order it differs "
                              "from params_m (the trained network's)."})
    check_nb101_table(table, require_test=False)
    return table


def _provenance(source: str, registry: dict[str, Source], keys: list[str],
                extra: dict[str, Any]) -> dict[str, Any]:
    docs = dict(COLUMN_DOCS)
    if source == "naslib":
        docs.update({f"naslib_{s}": f"NASLib's precomputed {theirs!r} score, mean over the "
                     "keys of the cell" for theirs, s in NASLIB_SCORES.items()})
    return {
        "space": "nb101",
        "table": source,
        "builder": f"zeroshot_nas.data.nb101.build_{source}_table",
        "columns": docs,
        "sources": {k: {"url": registry[k].url, registry[k].algorithm: registry[k].digest}
                    for k in keys},
        "duplicates": "one row per cell (NAS-Bench-101 graph hash); accuracies and training "
                      "time are means over the distinct training runs its rows hold",
        **extra,
    }


def check_nb101_table(table: pd.DataFrame, require_test: bool = True) -> None:
    """Invariants of an NB101 table: the common columns, one row per cell, CIFAR-10 only,
    accuracies in percent, costs finite."""
    absent = [c for c in COLUMNS if c not in table.columns]
    if absent:
        raise BenchmarkError(f"NB101 table lacks column(s) {absent}")
    if set(table["dataset"]) != {"cifar10"}:
        raise BenchmarkError(f"NB101 table data sets {sorted(set(table['dataset']))} != ['cifar10']")
    if table["arch"].duplicated().any() or table["graph_hash"].duplicated().any():
        raise BenchmarkError("NB101 table has two rows for one cell")
    targets = ["valid_acc", "test_acc"] if require_test else ["valid_acc"]
    for col in targets:
        values = table[col].to_numpy(np.float64)
        if not (np.isfinite(values) & (values > 0) & (values <= 100)).all():
            raise BenchmarkError(f"NB101 table column {col} is not a finite percentage everywhere")
    for col in ("params_m", "flops_m"):
        if not np.isfinite(table[col].to_numpy(np.float64)).all():
            raise BenchmarkError(f"NB101 table column {col} has non-finite values")


def build_nb101_table(source: str, paths: Mapping[str, str | Path],
                      registry: dict[str, Source] | None = None) -> pd.DataFrame:
    """The table of ``source`` (``mlfe`` or ``naslib``) from its downloads (key -> path)."""
    if source == "mlfe":
        return build_mlfe_table(paths, registry)
    if source == "naslib":
        return build_naslib_table(paths[NASLIB_KEY], registry)
    raise ValueError(f"unknown NB101 table {source!r}; expected one of {list(TABLE_FILES)}")
