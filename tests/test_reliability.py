"""What an adversarial user found (issue "Reliability"): each attack now fails early with a
message naming the key or file, or is harmless."""

from __future__ import annotations

import errno
import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import IMAGES, REPO_ROOT, tiny_config

from zeroshot_nas import io
from zeroshot_nas.config import ConfigError, check_devices, validate_config
from zeroshot_nas.data.images import draw_batch
from zeroshot_nas.errors import UserError
from zeroshot_nas.scoring import merge_scores

SCHEMA = REPO_ROOT / "workflow" / "schemas" / "config.schema.yaml"


@pytest.mark.parametrize("name", ["inj;date>INJECTED;x", "../escaped", "with space", "a/b",
                                  "$(touch x)", ""])
def test_hostile_experiment_names_are_rejected(name):
    config = tiny_config()
    config["experiments"] = {name: config["experiments"]["tiny"]}
    with pytest.raises(ConfigError, match="config key 'experiments'"):
        validate_config(config, SCHEMA)


@pytest.mark.parametrize(
    ("change", "key", "fragment"),
    [
        ({"n_archs": 20000}, "experiments.tiny.n_archs", "15,625"),
        ({"seeds": [0.0]}, "experiments.tiny.seeds", "integers"),
        ({"ntk_batch_size": 32, "batch_size": 16}, "experiments.tiny.ntk_batch_size", "larger"),
    ],
)
def test_late_errors_now_come_at_validation(change, key, fragment):
    config = tiny_config()
    config["experiments"]["tiny"].update(change)
    with pytest.raises(ConfigError) as info:
        validate_config(config, SCHEMA)
    assert f"'{key}'" in str(info.value) and fragment in str(info.value)


def test_best_of_n_larger_than_the_pool_is_an_error():
    config = tiny_config()
    config["stats"] = {"best_of_n": 9}
    with pytest.raises(ConfigError, match="'stats.best_of_n': 9 .* only 8"):
        validate_config(config, SCHEMA)


def test_a_batch_larger_than_the_bundled_labelled_images_is_an_error():
    config = tiny_config()
    del config["data"]["images"]
    config["experiments"]["tiny"].update(datasets=["ImageNet16-120"], batch_size=128)
    with pytest.raises(ConfigError, match="batch_size': 128 .* 106 labelled"):
        validate_config(config, SCHEMA)


def test_cuda_without_cuda_is_an_error_locally_and_a_warning_for_a_cluster(caplog):
    config = validate_config(tiny_config(), SCHEMA)
    config["experiments"]["tiny"]["device"] = "cuda"
    import torch

    if torch.cuda.is_available():
        check_devices(config, local_run=True)
        return
    with pytest.raises(ConfigError, match="'experiments.tiny.device'.*no CUDA"):
        check_devices(config, local_run=True)
    with caplog.at_level(logging.WARNING):
        check_devices(config, local_run=False)
    assert "GPU nodes" in caplog.text


def test_a_yaml_syntax_error_names_the_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("experiments:\n  tiny:\n    datasets: [cifar10\n    n_archs: 4\n")
    out = subprocess.run([sys.executable, "-m", "zeroshot_nas.cli", "validate-config", str(bad)],
                         capture_output=True, text=True)
    assert out.returncode == 2
    assert str(bad) in out.stderr and "line" in out.stderr


def test_a_bad_value_names_the_file_and_the_key(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("cache_numerics: close-enough\nexperiments:\n  tiny:\n"
                   "    datasets: [cifar10]\n    n_archs: 4\n")
    out = subprocess.run([sys.executable, "-m", "zeroshot_nas.cli", "validate-config", str(bad)],
                         capture_output=True, text=True)
    assert out.returncode == 2
    assert f"{bad}: config key 'cache_numerics': 'close-enough' is not one of" in out.stderr


def test_a_missing_preset_is_one_line_naming_it(tmp_path):
    # Issue 20: a missing preset was a 27-line traceback. `make run CONFIG=...` validates with
    # this command before Snakemake reads the file (Snakemake's own --configfile reading,
    # before any workflow code, still prints its traceback: README, Configuration).
    missing = tmp_path / "presets" / "nope.yaml"
    out = subprocess.run([sys.executable, "-m", "zeroshot_nas.cli", "validate-config",
                          str(missing)], capture_output=True, text=True)
    assert out.returncode == 2
    assert out.stderr.strip().count("\n") == 0 and f"{missing} does not exist" in out.stderr


def test_a_truncated_image_file_names_the_file(tmp_path):
    good = (IMAGES / "ImageNet16-120.npz").read_bytes()
    cut = tmp_path / "ImageNet16-120.npz"
    cut.write_bytes(good[: len(good) // 3])
    with pytest.raises((ValueError, UserError), match=str(cut)):
        draw_batch(cut, "ImageNet16-120", 8, 0)


def _disk_full(*_args, **_kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_full_disk_leaves_nothing_partial_and_names_the_file(tmp_path, monkeypatch):
    table = pd.DataFrame({"a": [1, 2]})
    monkeypatch.setattr(pd.DataFrame, "to_parquet", _disk_full)
    with pytest.raises(UserError, match=f"cannot write {tmp_path / 'out.parquet'}.*No space"):
        io.write_parquet(tmp_path / "out.parquet", table)
    assert list(tmp_path.iterdir()) == []


def test_merge_scores_on_a_full_disk_leaves_no_tmp(tmp_path, monkeypatch):
    shard = tmp_path / "shard.parquet"
    pd.DataFrame({"space": ["nb201"], "arch": ["a"], "dataset": ["cifar10"], "seed": [0],
                  "score": ["naswot"], "status": ["ok"], "value": [1.0]}).to_parquet(shard)
    monkeypatch.setattr(pd.DataFrame, "to_parquet", _disk_full)
    out = tmp_path / "merged" / "scores.parquet"
    with pytest.raises(UserError, match=str(out)):
        merge_scores([shard], None, out)
    assert not out.exists() and not list(out.parent.glob("*tmp*"))


def test_no_rule_runs_a_shell_command(tmp_path):
    from test_envs import load_rules

    rules = [r for r in load_rules(tmp_path) if Path(r.basedir) == REPO_ROOT / "workflow" / "rules"]
    shells = [r.name for r in rules if r.shellcmd]
    assert not shells, f"rules with a shell command: {shells}"
    assert all(r.script for r in rules if r.name != "all")


def test_draw_batch_of_a_good_file_is_unchanged():
    x, y = draw_batch(IMAGES / "ImageNet16-120.npz", "ImageNet16-120", 8, 0)
    assert x.shape == (8, 3, 16, 16) and np.all(y >= 0)


# ------------------------------------------------------------------------------ issue 20

@pytest.mark.parametrize(("section", "key", "value", "fragment"), [
    ("stats", "bootstrap", 10**9, "greater than the maximum of 100000"),
    ("stats", "seed", 2**64, "greater than the maximum of 4294967295"),
    ("search", "seed", -1, "less than the minimum of 0"),
])
def test_settings_out_of_range_are_refused_naming_the_key(section, key, value, fragment):
    # Issue 20: bootstrap 1e9 passed and died allocating 44.7 GiB; seed 2**64 passed and
    # failed after the scoring.
    config = tiny_config()
    config.setdefault(section, {})[key] = value
    with pytest.raises(ConfigError, match=f"config key '{section}.{key}': .*{fragment}"):
        validate_config(config, SCHEMA)


def test_scoring_seeds_out_of_range_are_refused_everywhere():
    config = tiny_config()
    config["experiments"]["tiny"]["seeds"] = [0, 2**64]
    with pytest.raises(ConfigError, match="'experiments.tiny.seeds.1'"):
        validate_config(config, SCHEMA)
    from zeroshot_nas.proxies import Protocol

    with pytest.raises(ValueError, match="seed must be an integer from 0 to 4294967295"):
        Protocol(seed=2**64)
    out = subprocess.run([sys.executable, "-m", "zeroshot_nas.cli", "sample-archs", "--n", "2",
                          "--seed", str(2**64), "--out", "x.txt"], capture_output=True, text=True)
    assert out.returncode == 2 and "outside 0..4294967295" in out.stderr


def test_a_yaml_error_in_the_embedded_configuration_names_the_line(tmp_path, snakemake_exe):
    # Issue 20: Snakemake's own message for the embedded config.yaml has no line number.
    (tmp_path / "config.yaml").write_text("experiments:\n  default:\n    datasets: [cifar10\n"
                                          "    n_archs: 4\n")
    out = subprocess.run([snakemake_exe, "-s", str(REPO_ROOT / "Snakefile"), "--directory",
                          str(tmp_path), "-n", "--cores", "1"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode != 0
    assert "config.yaml is not valid YAML at line 4, column 12" in out.stdout + out.stderr


def test_an_imagenet16_folder_rewritten_in_place_changes_the_tracked_identity(tmp_path):
    # Issue 20: files of an imagenet16_dir rewritten in place were "Nothing to be done".
    import pickle

    from zeroshot_nas.pipeline.plan import Plan

    with np.load(IMAGES / "ImageNet16-120.npz") as npz:
        x, y = npz["x"][:20], npz["y"][:20]
    folder = tmp_path / "imagenet16"
    folder.mkdir()

    def write_batch(labels):
        planes = x.transpose(0, 3, 1, 2).reshape(len(x), -1)  # the official layout
        batch = {"data": planes, "labels": list(labels)}
        (folder / "val_data").write_bytes(pickle.dumps(batch))

    write_batch(np.where(y >= 0, y + 1, 121))
    config = tiny_config()
    config["data"] = {"images": {"ImageNet16-120": {"imagenet16_dir": str(folder)}},
                      "sources": str(REPO_ROOT / "data" / "sources.yaml")}
    config["experiments"]["tiny"]["datasets"] = ["ImageNet16-120"]
    config = validate_config(config, SCHEMA)
    before = Plan(config, REPO_ROOT)
    assert before.image_inputs("ImageNet16-120") == [str(folder / "val_data")]
    write_batch(np.where(y >= 0, (y + 1) % 120 + 1, 121))  # labels shifted, same size
    after = Plan(config, REPO_ROOT)
    assert after.image_identity("ImageNet16-120") != before.image_identity("ImageNet16-120")
    assert after.experiments["tiny"].fingerprint != before.experiments["tiny"].fingerprint
