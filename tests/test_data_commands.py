"""The data commands (`fetch`, `build-benchmark`, `prepare-images`) on real data."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import IMAGES, MIRROR, WHERE

from zeroshot_nas import cli
from zeroshot_nas.data import sources
from zeroshot_nas.data.benchmark import load_table


@pytest.fixture(scope="module")
def mirror() -> Path:
    if not MIRROR.is_dir() or not IMAGES.is_dir():
        pytest.skip(f"real benchmark data not found at {MIRROR} or {IMAGES} ({WHERE})")
    return MIRROR


@pytest.fixture(autouse=True)
def no_mirror_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(sources.MIRROR_ENV, raising=False)


def test_fetch_build_prepare(mirror: Path, tmp_path: Path) -> None:
    downloads = tmp_path / "data" / "downloads"
    assert cli.main(["fetch", "--all", "--dest", str(downloads), "--mirror", str(mirror)]) == 0
    # 12 benchmark files and the 60 FreeREA image batches of the default run.
    assert len([p for p in downloads.rglob("*") if p.is_file()]) == 72
    out = tmp_path / "data" / "benchmarks" / "nb201.parquet"
    assert cli.main(["build-benchmark", "--downloads", str(downloads), "--out", str(out)]) == 0
    table = load_table(out)
    assert len(table) == 46_875
    assert table.groupby("dataset")["arch"].nunique().to_dict() == {
        "cifar10": 15_625, "cifar100": 15_625, "ImageNet16-120": 15_625}
    for dataset in ("cifar10", "cifar100", "ImageNet16-120"):
        npz = tmp_path / "data" / "images" / f"{dataset}.npz"
        assert cli.main(["prepare-images", "--dataset", dataset, "--sample-dir", str(IMAGES),
                         "--out", str(npz)]) == 0
        with np.load(npz) as got, np.load(IMAGES / f"{dataset}.npz") as sample:
            assert np.array_equal(got["x"], sample["x"])
            assert np.array_equal(got["y"], sample["y"])


def test_fetch_refuses_corrupted_mirror(mirror: Path, tmp_path: Path, capsys) -> None:
    source = sources.load_registry()["freerea-cifar10-accuracies"]
    bad = tmp_path / "mirror" / source.relpath
    bad.parent.mkdir(parents=True)
    data = bytearray((mirror / source.relpath).read_bytes())
    data[100] ^= 0x20
    bad.write_bytes(bytes(data))
    dest = tmp_path / "data"
    rc = cli.main(["fetch", "--key", "freerea-cifar10-accuracies", "--dest", str(dest),
                   "--mirror", str(tmp_path / "mirror")])
    assert rc == 2
    err = capsys.readouterr().err
    assert "freerea-cifar10-accuracies" in err and str(bad) in err and source.sha256 in err
    assert not dest.exists() or list(dest.rglob("*")) == []


def test_environment_mirror_overrides_the_flag(
    mirror: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(sources.MIRROR_ENV, str(mirror))
    rc = cli.main(["fetch", "--key", "nats-tss-test-acc", "--dest", str(tmp_path / "dl"),
                   "--mirror", str(tmp_path / "no-such-mirror")])
    assert rc == 0


def test_user_errors_are_reported(tmp_path: Path, capsys) -> None:
    assert cli.main(["fetch", "--key", "nope", "--dest", str(tmp_path)]) == 2
    assert "unknown source key" in capsys.readouterr().err
    assert cli.main(["build-benchmark", "--downloads", str(tmp_path / "empty"),
                     "--out", str(tmp_path / "t.parquet")]) == 2
    assert "run zeroshot-nas fetch" in capsys.readouterr().err
    assert cli.main(["prepare-images", "--dataset", "cifar10", "--cifar-tarball",
                     str(tmp_path / "missing.tar.gz"), "--out", str(tmp_path / "x.npz")]) == 2
    assert "missing.tar.gz" in capsys.readouterr().err


def test_console_script_runs(mirror: Path, tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "zeroshot-nas"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "zeroshot_nas.cli"]
    env = {k: v for k, v in os.environ.items() if k != sources.MIRROR_ENV}
    done = subprocess.run(
        [*cmd, "fetch", "--key", "mini-nb201-12epoch", "--dest", str(tmp_path),
         "--mirror", str(mirror)],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("mini-nb201-12epoch\t")
