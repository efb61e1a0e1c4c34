"""The NB201 benchmark table built from the real public files, and its cross-checks."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import pickle
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import MIRROR, WHERE

from zeroshot_nas import spaces
from zeroshot_nas.data import benchmark
from zeroshot_nas.data.benchmark import BenchmarkError, build_nb201_table, load_table
from zeroshot_nas.data.sources import DownloadError, Source, load_registry

DATASETS = ("cifar10", "cifar100", "ImageNet16-120")


@pytest.fixture(scope="module")
def registry() -> dict[str, Source]:
    return load_registry()


@pytest.fixture(scope="module")
def paths(registry: dict[str, Source]) -> dict[str, Path]:
    if not MIRROR.is_dir():
        pytest.skip(f"real benchmark data not found at {MIRROR} ({WHERE})")
    # The mirror has the download layout, so its files can be read in place.
    return {key: MIRROR / registry[key].relpath for key in benchmark.REQUIRED_KEYS}


@pytest.fixture(scope="module")
def built(paths: dict[str, Path]) -> tuple[pd.DataFrame, float]:
    start = time.perf_counter()
    table = build_nb201_table(paths)
    return table, time.perf_counter() - start


@pytest.fixture(scope="module")
def table(built: tuple[pd.DataFrame, float]) -> pd.DataFrame:
    return built[0]


def test_build_takes_seconds(built: tuple[pd.DataFrame, float]) -> None:
    assert built[1] < 30.0


def test_shape_and_archs(table: pd.DataFrame) -> None:
    assert list(table.columns) == [*benchmark.COLUMNS, "valid_seconds_per_epoch"]
    assert len(table) == 46_875
    nb201 = set(spaces.all_archs("nb201"))
    for dataset in DATASETS:
        part = table[table["dataset"] == dataset]
        assert len(part) == 15_625
        assert part["arch"].nunique() == 15_625
        assert set(part["arch"]) == nb201
        assert np.array_equal(part["index"].to_numpy(), np.arange(15_625))
    example = ("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|"
               "+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|")
    assert example in nb201
    ids = table["arch"].map(lambda a: spaces.arch_id("nb201", a))
    assert (ids == table["arch_id"]).all()


def best(table: pd.DataFrame, dataset: str, column: str) -> tuple[float, int]:
    part = table[table["dataset"] == dataset]
    row = part.loc[part[column].idxmax()]
    return round(float(row[column]), 4), int(row["index"])


def test_known_optima(table: pd.DataFrame) -> None:
    assert best(table, "cifar10", "test_acc") == (94.3733, 6111)
    assert best(table, "cifar100", "test_acc") == (73.5133, 9930)
    assert best(table, "ImageNet16-120", "test_acc") == (47.3111, 857)
    assert best(table, "cifar10", "valid_acc")[0] == 91.6067
    assert best(table, "cifar100", "valid_acc")[0] == 73.4933
    assert best(table, "ImageNet16-120", "valid_acc")[0] == 46.7333


def test_values_equal_the_source_files(table: pd.DataFrame, paths: dict[str, Path]) -> None:
    vtao = pd.read_csv(paths["nats-tss-test-acc"])
    columns = ("CIFAR10TestAccuracy200Epochs", "CIFAR100TestAccuracy200Epochs",
               "ImageNetTestAccuracy200Epochs")
    for dataset, column in zip(DATASETS, columns, strict=True):
        part = table[table["dataset"] == dataset]
        assert np.array_equal(part["test_acc"].to_numpy(), vtao[column].to_numpy())
        assert np.array_equal(part["arch"].to_numpy(), vtao["ArchitectureString"].to_numpy())
        valid = np.load(paths[benchmark.VALID_KEYS[dataset]])
        assert np.array_equal(part["valid_acc"].to_numpy(), valid)
    mini = pd.read_pickle(paths["mini-nb201-12epoch"])
    c10 = table[table["dataset"] == "cifar10"]
    assert np.array_equal(c10["test_acc_12"].to_numpy(), mini["cifar10-test"].to_numpy())
    assert np.array_equal(c10["valid_acc_12"].to_numpy(), mini["cifar10-val"].to_numpy())
    i16 = table[table["dataset"] == "ImageNet16-120"]
    assert np.array_equal(i16["valid_acc_12"].to_numpy(), mini["imagenet-val"].to_numpy())


def test_params_equal_official(table: pd.DataFrame, paths: dict[str, Path]) -> None:
    for dataset in DATASETS:
        official = pd.read_csv(paths[benchmark.FREEREA_PARAMS_KEYS[dataset]])["params"]
        official = official.to_numpy(float) / (1e6 if dataset == "ImageNet16-120" else 1.0)
        part = table[table["dataset"] == dataset]
        np.testing.assert_allclose(part["params_m"].to_numpy(), official, rtol=0, atol=1e-12)
    c10 = table[(table["dataset"] == "cifar10") & (table["index"] == 0)]
    assert float(c10["params_m"].iloc[0]) == 0.129306


def test_flops_ranges_equal_official(table: pd.DataFrame) -> None:
    official = {
        "cifar10": (7.78305, 220.11969),
        "cifar100": (7.78890, 220.12554),
        "ImageNet16-120": (1.95340, 55.03756),
    }
    for dataset, (low, high) in official.items():
        flops = table.loc[table["dataset"] == dataset, "flops_m"]
        assert flops.min() == pytest.approx(low, abs=5e-6)
        assert flops.max() == pytest.approx(high, abs=5e-6)


def test_finite_values_and_train_time(table: pd.DataFrame) -> None:
    for column in ("test_acc", "valid_acc", "test_acc_12", "valid_acc_12", "params_m",
                   "flops_m"):
        values = table[column].to_numpy()
        assert np.isfinite(values).all(), column
        assert (values > 0).all(), column
    accuracies = table[["test_acc", "valid_acc", "test_acc_12", "valid_acc_12"]].to_numpy()
    assert (accuracies <= 100).all()
    c10 = table["dataset"] == "cifar10"
    for column in ("train_seconds_per_epoch", "valid_seconds_per_epoch"):
        assert table.loc[~c10, column].isna().all()
        seconds = table.loc[c10, column]
        assert seconds.notna().all() and (seconds > 0).all()
    # One validation pass (25k images, forward only) is far cheaper than a training epoch.
    ratio = table.loc[c10, "valid_seconds_per_epoch"] / table.loc[c10, "train_seconds_per_epoch"]
    assert 0.05 < ratio.min() and ratio.max() < 1.0


def test_reseeded_validation_archs_are_recorded(
    table: pd.DataFrame, paths: dict[str, Path]
) -> None:
    landscapes = pd.read_csv(paths["nas-landscapes-cifar10-valid"])["valid-accuracy"]
    v1_0 = np.load(paths["nb201-v1_0-valid-cifar10-valid"])
    differ = np.flatnonzero(np.abs(landscapes.to_numpy() - v1_0) > 1e-6).tolist()
    assert 2_000 < len(differ) <= 2_500  # README: "about 2,450" archs with other seeds
    assert table.attrs["provenance"]["cifar10_reseeded_indices"] == differ


def test_parquet_round_trip_keeps_provenance(table: pd.DataFrame, tmp_path: Path) -> None:
    out = benchmark.write_table(table, tmp_path / "benchmarks" / "nb201.parquet")
    assert sorted(p.name for p in out.parent.iterdir()) == ["nb201.parquet"]
    loaded = load_table(out)
    pd.testing.assert_frame_equal(loaded, table, check_dtype=False)
    provenance = loaded.attrs["provenance"]
    assert set(provenance["columns"]) == {*benchmark.COLUMNS, "valid_seconds_per_epoch"}
    assert "25k" in provenance["columns"]["valid_acc"]
    assert "v1_0" in provenance["columns"]["valid_acc"]
    assert set(provenance["sources"]) == set(benchmark.REQUIRED_KEYS)
    schema = pq.read_schema(out)
    for column in (*benchmark.COLUMNS, "valid_seconds_per_epoch"):
        assert schema.field(column).metadata[b"description"].decode() == \
            benchmark.COLUMN_DOCS[column]


def test_load_table_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="build-benchmark"):
        load_table(tmp_path / "absent.parquet")
    pd.DataFrame({"x": [1]}).to_parquet(tmp_path / "other.parquet")
    with pytest.raises(ValueError, match="not a benchmark table"):
        load_table(tmp_path / "other.parquet")


# --- cross-checks: each test alters one real file and re-registers its hash --------------


def altered(
    tmp_path: Path,
    paths: dict[str, Path],
    registry: dict[str, Source],
    key: str,
    change: Callable[[Path], None],
) -> tuple[dict[str, Path], dict[str, Source]]:
    """A copy of the sources where ``key`` is changed by ``change`` and its hash updated,
    so the conversion's cross-checks (not the checksum) must catch the change."""
    target = tmp_path / "altered" / paths[key].name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(paths[key], target)
    change(target)
    new_hash = hashlib.sha256(target.read_bytes()).hexdigest()
    return {**paths, key: target}, {**registry, key: dataclasses.replace(registry[key],
                                                                         sha256=new_hash)}


def edit_csv(edit: Callable[[pd.DataFrame], None]) -> Callable[[Path], None]:
    def change(path: Path) -> None:
        frame = pd.read_csv(path)
        edit(frame)
        frame.to_csv(path, index=False)

    return change


def test_disagreeing_test_accuracies_fail(tmp_path, paths, registry) -> None:
    def edit(frame: pd.DataFrame) -> None:
        frame.loc[4321, "accuracy"] += 0.01

    new_paths, new_registry = altered(tmp_path, paths, registry,
                                      "freerea-cifar100-accuracies", edit_csv(edit))
    with pytest.raises(BenchmarkError, match=r"test accuracy cifar100.*first at index 4321"):
        build_nb201_table(new_paths, registry=new_registry)


def test_mini_bench_arch_order_mismatch_fails(tmp_path, paths, registry) -> None:
    def change(path: Path) -> None:
        frame = pd.read_pickle(path)
        frame.loc[[10, 11], "cellstr"] = frame.loc[[11, 10], "cellstr"].to_numpy()
        frame.to_pickle(path)

    new_paths, new_registry = altered(tmp_path, paths, registry, "mini-nb201-12epoch", change)
    with pytest.raises(BenchmarkError, match=r"mini-nb201-12epoch cellstr.*first at index 10"):
        build_nb201_table(new_paths, registry=new_registry)


def test_landscapes_arch_mismatch_fails(tmp_path, paths, registry) -> None:
    def edit(frame: pd.DataFrame) -> None:
        frame.loc[[7, 8], "arch_str"] = frame.loc[[8, 7], "arch_str"].to_numpy()

    new_paths, new_registry = altered(tmp_path, paths, registry,
                                      "nas-landscapes-cifar10-valid", edit_csv(edit))
    with pytest.raises(BenchmarkError, match=r"arch_str vs nats_bench.csv.*first at index 7"):
        build_nb201_table(new_paths, registry=new_registry)


def test_validation_sources_that_are_not_the_same_data_fail(tmp_path, paths, registry) -> None:
    def change(path: Path) -> None:
        values = np.load(path)
        np.save(path, values[::-1].copy())

    new_paths, new_registry = altered(tmp_path, paths, registry,
                                      "nb201-v1_0-valid-cifar10-valid", change)
    with pytest.raises(BenchmarkError, match="re-seeded"):
        build_nb201_table(new_paths, registry=new_registry)


def test_official_params_inconsistent_across_datasets_fail(tmp_path, paths, registry) -> None:
    def edit(frame: pd.DataFrame) -> None:
        frame.loc[99, "params"] += 1  # raw count: one parameter more on ImageNet16-120

    new_paths, new_registry = altered(tmp_path, paths, registry,
                                      "freerea-imagenet16-120-params", edit_csv(edit))
    with pytest.raises(BenchmarkError, match=r"ImageNet16-120 minus cifar10.*index 99"):
        build_nb201_table(new_paths, registry=new_registry)


class _Marker:
    """Unpickling this creates a folder: proof that a pickle was (or was not) loaded."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return (os.mkdir, (str(self.path),))


def test_pickle_hash_is_verified_before_unpickling(tmp_path, paths, registry) -> None:
    marker = tmp_path / "unpickled"
    bad = tmp_path / "mini-bench-arch-cell-accs.pd"
    bad.write_bytes(pickle.dumps(_Marker(marker)))
    with pytest.raises(DownloadError, match="mini-nb201-12epoch"):
        build_nb201_table({**paths, "mini-nb201-12epoch": bad}, registry=registry)
    assert not marker.exists()


def test_missing_source_is_named(paths, registry) -> None:
    incomplete = {k: v for k, v in paths.items() if k != "nas-landscapes-cifar10-valid"}
    with pytest.raises(ValueError, match="nas-landscapes-cifar10-valid"):
        build_nb201_table(incomplete, registry=registry)
