"""score_archs and the ``score`` command: cache, resume after a kill, added proxies, Parquet."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import IMAGES

from zeroshot_nas import spaces
from zeroshot_nas.cli import main as cli_main
from zeroshot_nas.data.images import draw_batch
from zeroshot_nas.proxies import Protocol
from zeroshot_nas.score_cache import batch_digest
from zeroshot_nas.scoring import COLUMNS, cache_folder, score_archs

REPO_ROOT = Path(__file__).resolve().parents[1]
NPZ = IMAGES / "ImageNet16-120.npz"
DS = "ImageNet16-120"
PROTO = Protocol(batch_size=8)
ARCHS = [
    spaces.arch_from_id("nb201", i)
    for i in ("333031", "123412", "000000", "444444", "232323", "310213")
]


@pytest.fixture(scope="module")
def npz() -> Path:
    if not NPZ.exists():
        pytest.skip(f"real image sample not found at {NPZ}")
    return NPZ


def test_table_columns_values_and_cache_layout(npz, tmp_path):
    out = tmp_path / "s.parquet"
    table = score_archs(
        "nb201", DS, 3, ARCHS[:3], "naswot,synflow", PROTO, npz, tmp_path / "cache", out
    )
    back = pd.read_parquet(out)
    assert list(back.columns) == COLUMNS
    assert len(back) == 6 and set(back["seed"]) == {3}
    assert set(back["protocol_key"]) == {PROTO.key()}
    pd.testing.assert_frame_equal(back, table.reset_index(drop=True), check_like=False)
    folder = cache_folder(tmp_path / "cache", Protocol(batch_size=8, seed=3), "nb201", DS,
                          batch_digest(*draw_batch(npz, DS, 8, 3)))
    for arch in ARCHS[:3]:
        path = folder / f"{spaces.arch_id('nb201', arch)}.json"
        assert path.exists(), path
        json.loads(path.read_text())  # strict JSON (non-finite values stored as null)
    # The all-`none` arch has identical codes for every image: naswot is -inf, kept as such.
    row = back[(back["arch_id"] == "000000") & (back["score"] == "naswot")].iloc[0]
    assert row["status"] == "-inf" and row["value"] == -math.inf


def test_added_proxy_computes_only_it(npz, tmp_path):
    cache = tmp_path / "cache"
    first = score_archs("nb201", DS, 0, ARCHS[:2], ["naswot"], PROTO, npz, cache, None)
    second = score_archs("nb201", DS, 0, ARCHS[:2], ["naswot", "ni"], PROTO, npz, cache, None)
    assert second.attrs["computed"] == 2 and second.attrs["cached"] == 0
    a = first.set_index(["arch", "score"])
    b = second.set_index(["arch", "score"])
    for arch in ARCHS[:2]:
        # Unchanged value *and* timing prove the cached naswot entry was not recomputed.
        assert b.loc[(arch, "naswot"), "seconds"] == a.loc[(arch, "naswot"), "seconds"]
        assert b.loc[(arch, "naswot"), "value"] == a.loc[(arch, "naswot"), "value"]
    third = score_archs("nb201", DS, 0, ARCHS[:2], ["ni"], PROTO, npz, cache, None)
    assert third.attrs["computed"] == 0 and third.attrs["cached"] == 2
    # Another protocol never reads this cache.
    other = score_archs(
        "nb201", DS, 0, ARCHS[:1], ["ni"], Protocol(batch_size=8, bn_mode="eval"), npz, cache, None
    )
    assert other.attrs["computed"] == 1


def test_resume_after_kill(npz, tmp_path):
    archs = spaces.all_archs("nb201")[1000:1030]
    archs_file = tmp_path / "archs.txt"
    archs_file.write_text("\n".join(archs) + "\n")
    cache = tmp_path / "cache"
    out = tmp_path / "s.parquet"
    cmd = [
        sys.executable,
        "-m",
        "zeroshot_nas.cli",
        "score",
        "--space",
        "nb201",
        "--dataset",
        DS,
        "--archs",
        str(archs_file),
        "--proxies",
        "naswot,jacob_cov,snip",
        "--images",
        str(npz),
        "--batch-size",
        "8",
        "--ntk-batch-size",
        "8",
        "--cache-dir",
        str(cache),
        "--out",
        str(out),
        "--threads",
        "1",
    ]
    proto = Protocol(batch_size=8, ntk_batch_size=8)
    folder = cache_folder(cache, proto, "nb201", DS, batch_digest(*draw_batch(npz, DS, 8, 0)))
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while time.time() < deadline and len(list(folder.glob("*.json"))) < 2:
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    done = len(list(folder.glob("*.json")))
    assert 2 <= done < len(archs), f"kill did not land mid-run ({done} of {len(archs)} done)"
    assert not out.exists()  # the table is written only at the end, atomically
    table = score_archs("nb201", DS, 0, archs, "naswot,jacob_cov,snip", proto, npz, cache, out)
    assert table.attrs["computed"] == len(archs) - done
    assert table.attrs["cached"] == done
    assert len(pd.read_parquet(out)) == 3 * len(archs)


def test_cli_score_and_errors(npz, tmp_path, capsys):
    archs_file = tmp_path / "archs.txt"
    archs_file.write_text("# two archs\n" + ARCHS[0] + "\n\n" + ARCHS[1] + "\n")
    out = tmp_path / "o.parquet"
    base = [
        "score",
        "--space",
        "nb201",
        "--dataset",
        DS,
        "--archs",
        str(archs_file),
        "--images",
        str(npz),
        "--batch-size",
        "8",
        "--cache-dir",
        str(tmp_path / "c"),
        "--out",
        str(out),
        "--no-progress",
    ]
    # Issue 20: the command line took an NTK sub-batch larger than the batch, which the
    # configuration refuses; the same check now names the option.
    assert cli_main(base + ["--proxies", "synflow"]) == 2
    assert "--ntk-batch-size: 16 is larger than the batch (8 images)" in capsys.readouterr().err
    base += ["--ntk-batch-size", "8"]
    assert cli_main(base + ["--proxies", "synflow,params"]) == 0
    assert len(pd.read_parquet(out)) == 4
    assert cli_main(base + ["--proxies", "synflow,bogus"]) == 2
    assert "bogus" in capsys.readouterr().err
    assert cli_main(["list-proxies"]) == 0
    listing = capsys.readouterr().out
    assert "naswot" in listing and "lower" in listing
