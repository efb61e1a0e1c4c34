"""NAS-Bench-Suite-Zero / NASLib JSON: the key encoding, a real NASLib file, a round trip of a
small real run through ``zeroshot-nas export`` and ``import-naslib``."""

from __future__ import annotations

import hashlib
import json
import math

import numpy as np
import pandas as pd
import pytest
from conftest import IMAGES, MIRROR
from scipy.stats import spearmanr

from zeroshot_nas import spaces
from zeroshot_nas.cli import main as cli_main
from zeroshot_nas.data import benchmark
from zeroshot_nas.data.sources import load_registry
from zeroshot_nas.interop.naslib import (
    NON_FINITE,
    arch_of_key,
    export_naslib,
    naslib_key,
    read_naslib,
)
from zeroshot_nas.proxies import Protocol
from zeroshot_nas.scoring import merge_scores, score_archs

# The early NAS-Bench-Suite-Zero file NASLib shipped (bare values, "nasbench201" wrapper).
NASLIB_FILE = MIRROR / load_registry()["naslib-zc-nasbench201"].relpath
NASLIB_SHA256 = "310e1d66fc59d668fe1e0460760eaf0e1f98ad7ac8d73b4fee9d6345551d0b09"
DATASETS = ("cifar10", "cifar100", "ImageNet16-120")


def mirror_file(key: str):
    return MIRROR / load_registry()[key].relpath


@pytest.fixture(scope="module")
def official(shared_data) -> dict[str, pd.DataFrame]:
    """Per data set, by arch string: official parameters (M) and 200-epoch x-valid accuracy."""
    archs = pd.read_csv(mirror_file(benchmark.TEST_ACC_KEY))["ArchitectureString"]
    out = {}
    for ds in DATASETS:
        params = pd.read_csv(mirror_file(benchmark.FREEREA_PARAMS_KEYS[ds]))["params"].to_numpy()
        if ds == "ImageNet16-120":
            params = params / 1e6  # FreeREA's raw count for ImageNet16-120
        valid = np.load(mirror_file(benchmark.VALID_KEYS[ds]))
        out[ds] = pd.DataFrame({"params_m": params, "valid_acc": valid}, index=archs)
    return out


@pytest.fixture(scope="module")
def naslib_table(shared_data) -> pd.DataFrame:
    assert hashlib.sha256(NASLIB_FILE.read_bytes()).hexdigest() == NASLIB_SHA256
    return read_naslib(NASLIB_FILE)


def test_key_encoding_by_hand():
    # NASLib's hash lists the edges 0→1, 0→2, 0→3, 1→2, 1→3, 2→3 with op indices skip 0,
    # none 1, conv3x3 2, conv1x1 3, pool 4; our strings list 0→1 | 0→2, 1→2 | 0→3, 1→3, 2→3.
    arch = "|skip_connect~0|+|none~0|nor_conv_1x1~1|+|nor_conv_3x3~0|avg_pool_3x3~1|skip_connect~2|"
    assert naslib_key(arch) == "(0, 1, 2, 3, 4, 0)"
    assert arch_of_key("(0, 1, 2, 3, 4, 0)") == arch
    assert arch_of_key(" (0,1,2,3,4,0) ") == arch


def test_every_architecture_has_its_own_key():
    archs = spaces.all_archs("nb201")
    keys = [naslib_key(a) for a in archs]
    assert len(set(keys)) == len(archs) == 15_625
    assert all(arch_of_key(k) == a for k, a in zip(keys[::97], archs[::97], strict=True))


@pytest.mark.parametrize("key", ["(1, 2)", "(5, 0, 0, 0, 0, 0)", "0, 1, 2, 3, 4, 0", "(a,b,c,d,e,f)"])
def test_a_bad_key_is_named(key):
    with pytest.raises(ValueError, match=r"is not a NASLib NAS-Bench-201 key"):
        arch_of_key(key)


def test_reads_the_real_naslib_file(naslib_table, official):
    t = naslib_table
    assert set(t["dataset"]) == set(DATASETS)
    assert t.groupby("dataset")["arch"].nunique().to_dict() == {d: 491 for d in DATASETS}
    assert set(t["score"]) == {"flops", "params", "snip", "jacob_cov", "grad_norm", "plain",
                               "epe_nas", "fisher", "grasp", "l2_norm", "synflow"}
    assert set(t.loc[t["score"] == "jacob_cov", "naslib_name"]) == {"jacov"}
    assert all(spaces.parse_arch("nb201", a) == a for a in set(t["arch"]))
    assert t["seconds"].isna().all()  # the early layout has bare values, no times
    # NASLib's -1e8 stands for NaN/inf: read back as NaN, status nan (52 in this file).
    assert (t["status"] == "nan").sum() == 52 and t.loc[t["status"] == "nan", "value"].isna().all()
    for ds in DATASETS:
        rows = t[(t["dataset"] == ds) & (t["score"] == "params")].set_index("arch")
        ref = official[ds].loc[rows.index]
        # Every architecture's parameter count is the official one: the keys decode right.
        np.testing.assert_allclose(rows["value"], ref["params_m"], rtol=0, atol=5e-7)
        # Their validation accuracy (NASLib's NB201 data) agrees with the v1_0 x-valid means
        # up to training seeds; the edge-order check parameters alone cannot make.
        diff = (rows["val_accuracy"] - ref["valid_acc"]).abs()
        assert diff.median() < 1.0, (ds, diff.median())
        assert spearmanr(rows["val_accuracy"], ref["valid_acc"])[0] > 0.95


def test_spot_checks_of_known_entries(naslib_table):
    arch = "|avg_pool_3x3~0|+|nor_conv_1x1~0|nor_conv_1x1~1|+|nor_conv_1x1~0|nor_conv_3x3~1|nor_conv_1x1~2|"
    row = naslib_table[(naslib_table["arch"] == arch) & (naslib_table["dataset"] == "cifar10")]
    by = row.set_index("score")
    assert by.loc["snip", "value"] == 110.23413848876953
    assert by.loc["params", "value"] == 0.428346
    assert by.loc["snip", "val_accuracy"] == 88.24
    # synflow is stored as its log (NASLib's ZeroCost.query): read back as the score itself.
    assert by.loc["synflow", "value"] == pytest.approx(math.exp(65.90939474779665), rel=1e-12)


@pytest.fixture(scope="module")
def merged_run(shared_data, official, tmp_path_factory) -> pd.DataFrame:
    """A small real run: 3 archs (one with a -inf naswot), 5 scores, merged with benchmark
    columns, as results/<experiment>/scores.parquet holds them."""
    tmp = tmp_path_factory.mktemp("run")
    ds = "ImageNet16-120"
    archs = [spaces.arch_from_id("nb201", i) for i in ("333031", "000000", "123412")]
    score_archs("nb201", ds, 0, archs, "naswot,synflow,jacob_cov,snip,swap", Protocol(batch_size=8),
                IMAGES / f"{ds}.npz", tmp / "cache", tmp / "shard.parquet",
                progress=False)
    bench = official[ds].loc[archs].reset_index(names="arch").assign(dataset=ds, test_acc=50.0)
    bench.to_parquet(tmp / "bench.parquet")
    return merge_scores([tmp / "shard.parquet"], tmp / "bench.parquet", tmp / "scores.parquet")


def test_round_trip_of_a_real_run(merged_run, tmp_path):
    scores = tmp_path / "scores.parquet"
    merged_run.to_parquet(scores)
    out = tmp_path / "zc_nasbench201.json"
    assert cli_main(["export", "--scores", str(scores), "--out", str(out)]) == 0
    data = json.loads(out.read_text())  # strict JSON: no NaN or Infinity
    assert list(data) == ["ImageNet16-120"]
    entry = data["ImageNet16-120"][naslib_key(spaces.arch_from_id("nb201", "000000"))]
    assert set(entry) == {"nwot", "synflow", "jacov", "snip", "swap", "val_accuracy"}
    assert entry["nwot"]["score"] == NON_FINITE and entry["nwot"]["status"] == "-inf"
    assert set(entry["snip"]) == {"score", "time", "status"}
    good = data["ImageNet16-120"][naslib_key(spaces.arch_from_id("nb201", "333031"))]
    synflow = merged_run[(merged_run["arch_id"] == "333031") & (merged_run["score"] == "synflow")]
    assert good["synflow"]["score"] == pytest.approx(math.log(synflow["value"].iloc[0]))

    assert cli_main(["import-naslib", str(out), "--out", str(tmp_path / "back.parquet")]) == 0
    back = pd.read_parquet(tmp_path / "back.parquet")
    key = ["dataset", "arch", "score"]
    both = merged_run.merge(back, on=key, suffixes=("", "_back"), validate="one_to_one")
    assert len(both) == len(merged_run) == 15
    assert (both["status"] == both["status_back"]).all()
    ok = both["status"] == "ok"
    np.testing.assert_allclose(both.loc[ok, "value_back"], both.loc[ok, "value"], rtol=1e-12)
    assert both.loc[both["status"] == "-inf", "value_back"].eq(-math.inf).all()
    assert (both["seconds_back"] == both["seconds"]).all()
    assert (both["val_accuracy"] == both["valid_acc"]).all()


def test_export_names_what_it_cannot_do(merged_run, tmp_path):
    two_seeds = pd.concat([merged_run, merged_run.assign(seed=1)])
    with pytest.raises(ValueError, match=r"seeds \[0, 1\]: choose one"):
        export_naslib(two_seeds)
    assert set(export_naslib(two_seeds, seed=1)) == {"ImageNet16-120"}
    with pytest.raises(ValueError, match="lacks column"):
        export_naslib(merged_run.drop(columns="valid_acc"))
    with pytest.raises(ValueError, match="NAS-Bench-201 only"):
        export_naslib(merged_run.assign(space="nats_sss"))
    with pytest.raises(ValueError, match="not in the table"):
        export_naslib(merged_run, scores=["zico"])
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"cifar10": {"(0, 0, 0, 0, 0, 0)": {"snip": 1.0}}}))
    with pytest.raises(ValueError, match="val_accuracy"):
        read_naslib(bad)
    bad.write_text(json.dumps({"cifar10": {"(0, 0, 0, 0, 0, 0)": {"snip": "x", "val_accuracy": 1}}}))
    with pytest.raises(ValueError, match="'snip' is not a number"):
        read_naslib(bad)
