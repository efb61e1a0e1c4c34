"""The official NATS-Bench archives read by our restricted reader (zeroshot_nas.data.nats_archive)
and converted into the size-space benchmark table (data.benchmark.build_nats_sss_table).

The files are the official API's own test fixtures (D-X-Y/NATS-Bench at 1d4a304,
``fake_torch_dir/``): real files of the official archives (meta with every architecture, full
records of three), fetched through the registry from the shared mirror, so their sha256 is
verified before anything reads them. The reference reader is the official ``nats_bench``
package (the optional extra ``natsbench``), run on the same verified files.
"""

from __future__ import annotations

import bz2
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
from conftest import MIRROR, tiny_config

from zeroshot_nas import spaces
from zeroshot_nas.data import nats_archive
from zeroshot_nas.data.benchmark import (
    COLUMNS,
    DATASETS,
    OPTIONAL_COLUMNS,
    build_nats_sss_table,
    curve_column,
    load_table,
    write_table,
)
from zeroshot_nas.data.nats_archive import NatsArchiveError
from zeroshot_nas.data.sources import fetch, load_registry

RECORDS = [0, 11, 284]  # the fixture records, NATS index order


def _fetch_fixtures(prefix: str, dest: Path) -> Path:
    registry = load_registry()
    keys = [k for k in registry if k.startswith(prefix)]
    assert len(keys) == 4, keys
    paths = [Path(fetch(k, dest, mirror=MIRROR, registry=registry)) for k in keys]
    (folder,) = {p.parent for p in paths}
    return folder


@pytest.fixture(scope="module")
def sss_archive(shared_data, tmp_path_factory) -> Path:
    return _fetch_fixtures("nats-sss-fixture-", tmp_path_factory.mktemp("sss"))


@pytest.fixture(scope="module")
def sss_table(sss_archive):
    return build_nats_sss_table(sss_archive, indices=RECORDS)


def test_converter_reads_what_the_official_api_reads(sss_archive, sss_table) -> None:
    nats_bench = pytest.importorskip("nats_bench", reason="optional extra 'natsbench'")
    api = nats_bench.create(str(sss_archive), "sss", fast_mode=True, verbose=False)
    assert len(sss_table) == 3 * len(RECORDS)
    for row in sss_table.to_dict("records"):
        index, dataset = row["index"], row["dataset"]
        assert row["arch"] == api.arch(index)
        search = "cifar10-valid" if dataset == "cifar10" else dataset
        full = api.get_more_info(index, dataset, hp="90", is_random=False)
        short = api.get_more_info(index, dataset, hp="12", is_random=False)
        searched = api.get_more_info(index, search, hp="12", is_random=False)
        expected = {
            "test_acc": full["test-accuracy"],
            "valid_acc": api.get_more_info(index, search, hp="90", is_random=False)[
                "valid-accuracy"],
            "test_acc_12": short["test-accuracy"],
            "valid_acc_12": searched["valid-accuracy"],
            "params_m": api.get_cost_info(index, dataset, hp="90")["params"],
            "train_seconds_per_epoch": searched["train-per-time"],
            "valid_seconds_per_epoch": searched["valid-per-time"],
        }
        for epoch in range(1, 13):
            info = api.get_more_info(index, search, iepoch=epoch - 1, hp="12", is_random=False)
            expected[curve_column(epoch)] = info["valid-accuracy"]
            # NATS's simulated cost of training to this epoch: train time so far + one
            # validation pass; the table's per-epoch times give it back.
            cost = epoch * row["train_seconds_per_epoch"] + row["valid_seconds_per_epoch"]
            assert cost == pytest.approx(info["train-all-time"] + info["valid-per-time"],
                                         rel=1e-12)
        # Both readers average the seeds in the same order: the values are the same floats.
        assert {k: row[k] for k in expected} == expected, (index, dataset)
        flops = api.get_cost_info(index, dataset, hp="90")["flops"]
        assert row["flops_m"] == pytest.approx(flops, abs=1e-4)
        assert row["flops_m"] == spaces.flops_m("nats_sss", row["arch"], dataset)


def test_topology_archive_is_read_the_same_way(shared_data, tmp_path) -> None:
    """The reader is the archive format's, not the size space's: the topology fixtures give
    the API's values too (several seeds per schedule there)."""
    nats_bench = pytest.importorskip("nats_bench", reason="optional extra 'natsbench'")
    folder = _fetch_fixtures("nats-tss-fixture-", tmp_path)
    archs = nats_archive.read_meta(folder, "nb201")
    assert len(archs) == 15_625 and set(archs) == set(spaces.all_archs("nb201"))
    api = nats_bench.create(str(folder), "tss", fast_mode=True, verbose=False)
    for index in RECORDS:
        record = nats_archive.read_record(folder, index, archs[index])
        for hp, dataset, setname, key in (("200", "cifar10", "ori-test", "test-accuracy"),
                                          ("200", "cifar100", "x-valid", "valid-accuracy"),
                                          ("12", "cifar10-valid", "x-valid", "valid-accuracy")):
            info = api.get_more_info(index, dataset, hp=hp, is_random=False)
            assert record.metric(hp, dataset, setname) == info[key]
        assert record.costs("200", "cifar10") == tuple(
            api.get_cost_info(index, "cifar10", hp="200")[k] for k in ("params", "flops"))


def test_table_layout_provenance_and_round_trip(sss_table, tmp_path) -> None:
    assert list(sss_table.columns) == [*COLUMNS, *OPTIONAL_COLUMNS]
    assert list(sss_table["dataset"]) == [d for d in DATASETS for _ in RECORDS]
    assert list(sss_table["index"]) == RECORDS * 3
    assert list(sss_table["arch"][:3]) == [spaces.all_archs("nats_sss")[i] for i in RECORDS]
    assert sss_table.loc[0, "arch"] == "8:8:8:8:8"
    # Official parameter counts are those of our network (README of the shared data).
    assert sss_table.loc[0, "params_m"] == pytest.approx(0.011714, abs=5e-7)
    # hp=90 trains longer than hp=12: better accuracy on every row.
    assert (sss_table["test_acc"] > sss_table["test_acc_12"]).all()
    assert np.array_equal(sss_table[curve_column(12)], sss_table["valid_acc_12"])
    assert sss_table["train_seconds_per_epoch"].notna().all()
    out = write_table(sss_table, tmp_path / "nats_sss.parquet")
    loaded = load_table(out)
    assert list(loaded.columns) == list(sss_table.columns)
    assert np.array_equal(loaded[curve_column(4)], sss_table[curve_column(4)])
    assert loaded.attrs["provenance"]["space"] == "nats_sss"


def test_incomplete_archive_is_refused_with_download_instructions(sss_archive) -> None:
    missing = nats_archive.missing_files(sss_archive, "nats_sss")
    assert len(missing) == 32_769 - 4 and "000001.pickle.pbz2" in missing
    with pytest.raises(NatsArchiveError, match=r"32,765 of 32,769 files missing.*"
                                               r"NATS-sss-v1_0-50262-simple\.tar"):
        build_nats_sss_table(sss_archive)


def test_build_benchmark_command_converts_only_a_complete_archive(sss_archive, tmp_path,
                                                                  capsys) -> None:
    from zeroshot_nas.cli import main

    out = tmp_path / "nats_sss.parquet"
    assert main(["build-benchmark", "--space", "nats_sss", "--nats-archive", str(sss_archive),
                 "--out", str(out)]) == 2
    assert "32,765 of 32,769 files missing" in capsys.readouterr().err and not out.exists()
    assert main(["build-benchmark", "--nats-archive", str(sss_archive), "--out", str(out)]) == 2
    assert "--space nats_sss" in capsys.readouterr().err


class _Marker:
    """Unpickling this creates a folder: proof that a pickle was (or was not) run."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return (os.mkdir, (str(self.path),))


def _write_pbz2(path: Path, obj: object) -> Path:
    path.write_bytes(bz2.compress(pickle.dumps(obj, protocol=4)))
    return path


def test_reader_runs_no_code_and_refuses_other_content(tmp_path, sss_archive) -> None:
    marker = tmp_path / "ran"
    evil = _write_pbz2(tmp_path / "000000.pickle.pbz2", {"12": _Marker(marker)})
    with pytest.raises(NatsArchiveError, match=f"{evil}.*forbidden global posix.mkdir"):
        nats_archive.read_pbz2(evil)
    assert not marker.exists()
    ints = _write_pbz2(tmp_path / "ints.pbz2", np.int64(3))
    with pytest.raises(NatsArchiveError, match="not float64"):
        nats_archive.read_pbz2(ints)
    truncated = tmp_path / "cut.pbz2"
    truncated.write_bytes((sss_archive / "000011.pickle.pbz2").read_bytes()[:5000])
    with pytest.raises(NatsArchiveError, match="cut.pbz2"):
        nats_archive.read_pbz2(truncated)
    archs = nats_archive.read_meta(sss_archive, "nats_sss")
    with pytest.raises(NatsArchiveError, match="holds architecture 11"):
        nats_archive.read_record(sss_archive, 11, archs[12])
    wrong_meta = _write_pbz2(tmp_path / "meta.pickle.pbz2", {"meta_archs": archs[:-1]})
    with pytest.raises(NatsArchiveError, match=f"{wrong_meta}: 32767 architecture strings"):
        nats_archive.read_meta(tmp_path, "nats_sss")


# ----------------------------------------------------------------------------- configuration


def _tiny_config() -> dict:

    config = tiny_config()
    return config


def test_configuration_naming_a_missing_or_incomplete_archive_is_refused(tmp_path,
                                                                          sss_archive) -> None:
    from zeroshot_nas.config import ConfigError, validate_config

    config = _tiny_config()
    config["data"]["nats_sss_archive"] = str(tmp_path / "NATS-sss-v1_0-50262-simple")
    with pytest.raises(ConfigError, match=r"'data.nats_sss_archive'.* does not exist\. download "
                                          r"NATS-sss-v1_0-50262-simple\.tar.*tar xvf"):
        validate_config(config)
    config["data"]["nats_sss_archive"] = str(sss_archive)  # the fixtures: 4 of 32,769 files
    with pytest.raises(ConfigError, match=r"lacks 32,765 of the archive's 32,769 files "
                                          r"\(first 000001\.pickle\.pbz2\)"):
        validate_config(config)
    # A size-space report experiment whose searches train on the benchmark needs it.
    config = _tiny_config()
    config["experiments"]["tiny"]["space"] = "nats_sss"
    config["search"] = {"enabled": True, "algorithms": ["ga_rank", "rea", "bohb"]}
    with pytest.raises(ConfigError, match=r"'search.algorithms': rea, bohb train on the bench"):
        validate_config(config)
    config["search"]["algorithms"] = ["ga_rank", "sa_rank"]
    assert validate_config(config)["data"]["nats_sss_archive"] is None


def test_size_space_preset_is_refused_before_any_job(tmp_path, snakemake_exe, clean_env):
    import subprocess

    from conftest import REPO_ROOT

    result = subprocess.run(
        [snakemake_exe, "-s", str(REPO_ROOT / "Snakefile"), "--directory", str(tmp_path),
         "--configfile", str(REPO_ROOT / "workflow" / "presets" / "nats-sss.yaml"), "-n",
         "--cores", "1"],
        capture_output=True, text=True, env=clean_env, timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "data.nats_sss_archive" in output and "NATS-sss-v1_0-50262-simple.tar" in output
    assert not (tmp_path / "results").exists() and not (tmp_path / "data").exists()
