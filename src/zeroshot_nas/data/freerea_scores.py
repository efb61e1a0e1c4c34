"""FreeREA's per-architecture scores (``cached_metrics/nats/<dataset>/<metric>.csv``).

FreeREA (NiccoloCavagnero/FreeREA, registered in ``data/sources.yaml``, group
``freerea-scores``) published naswot, synflow, logsynflow and nregions for all 15,625 NATS
topology networks of each data set, computed on one real batch of 64 images with seed 3.
They are an independent check of our own scores: :func:`read_freerea_scores` turns the
files into one long table keyed by our arch strings (the NATS index of a row is the
``index`` of the benchmark table, which is in NATS order), refusing a malformed file with
an error that names it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from .benchmark import NUM_NB201

METRICS = ("naswot", "synflow", "logsynflow", "nregions")
DATASETS = ("cifar10", "cifar100", "ImageNet16-120")
GROUP = "freerea-scores"


class FreeREAFileError(ValueError):
    """A FreeREA score file that is not what the registry describes."""


def source_key(dataset: str, metric: str) -> str:
    """The ``data/sources.yaml`` key of FreeREA's ``metric`` file for ``dataset``."""
    return f"freerea-{dataset.lower()}-{metric}"


SOURCE_KEYS = {source_key(d, m): (d, m) for d in DATASETS for m in METRICS}


def read_metric_file(path: str | Path, metric: str) -> pd.Series:
    """The values of one file by NATS index 0..15624 (float; NaN where the file has none).

    The file must have the columns ``index`` and ``metric``, one row per NATS index in
    order, and a number (``inf``/``-inf`` allowed) or nothing in every value.
    """
    path = Path(path)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError, UnicodeDecodeError) as err:
        raise FreeREAFileError(f"{path}: not a readable CSV file ({err})") from None
    if list(frame.columns[:2]) != ["index", metric]:
        raise FreeREAFileError(f"{path}: expected the columns index,{metric} first, found "
                               f"{','.join(frame.columns[:2])}")
    if len(frame) != NUM_NB201:
        raise FreeREAFileError(f"{path}: {len(frame)} rows, expected {NUM_NB201} (one per "
                               "NATS index)")
    index = pd.to_numeric(frame["index"], errors="coerce")
    order = np.arange(NUM_NB201)
    if not np.array_equal(index.to_numpy(), order):
        row = int(np.flatnonzero(index.to_numpy() != order)[0])
        raise FreeREAFileError(f"{path}: row {row + 1} has index {frame['index'].iloc[row]!r}, "
                               f"expected {row} (rows in NATS index order)")
    text = frame[metric].str.strip()
    values = pd.to_numeric(text, errors="coerce")
    bad = values.isna() & (text != "") & (text.str.lower() != "nan")
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise FreeREAFileError(f"{path}: {metric} of index {row} is {text.iloc[row]!r}, not a "
                               "number")
    return pd.Series(values.to_numpy(dtype=float), index=order, name=metric)


def read_freerea_scores(files: Mapping[str, str | Path], benchmark: pd.DataFrame) -> pd.DataFrame:
    """Long table (dataset, metric, index, arch, value) of the FreeREA files given by
    registry key (:data:`SOURCE_KEYS`; other keys are ignored). ``benchmark`` is the NB201
    benchmark table (``index`` and ``arch`` per data set) that maps NATS indices to our
    arch strings."""
    frames = []
    for key, path in files.items():
        if key not in SOURCE_KEYS:
            continue
        dataset, metric = SOURCE_KEYS[key]
        rows = benchmark[benchmark["dataset"] == dataset].set_index("index")["arch"]
        if len(rows) != NUM_NB201 or not np.array_equal(rows.index, np.arange(NUM_NB201)):
            raise ValueError(f"the benchmark table has no complete NB201 {dataset} block "
                             f"(NATS indices 0..{NUM_NB201 - 1}) to map {path} onto")
        values = read_metric_file(path, metric)
        frames.append(pd.DataFrame({"dataset": dataset, "metric": metric,
                                    "index": values.index, "arch": rows.to_numpy(),
                                    "value": values.to_numpy()}))
    if not frames:
        return pd.DataFrame(columns=["dataset", "metric", "index", "arch", "value"])
    return pd.concat(frames, ignore_index=True)
