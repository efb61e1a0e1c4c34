"""`zeroshot-nas progress`: what a long run has scored, per data set and seed, and the whole
run's time left, from a real score cache whose files' times are set by hand."""

from __future__ import annotations

import os
import re
import shutil

import pytest
import torch
import yaml
from conftest import IMAGES, tiny_config

from zeroshot_nas import cli
from zeroshot_nas.config import validate_config
from zeroshot_nas.pipeline.commands import RATE_WINDOW_S, experiment_progress, run_time_left
from zeroshot_nas.pipeline.plan import sample_settings
from zeroshot_nas.proxies import Protocol, numerics
from zeroshot_nas.scoring import run_batch, score_archs
from zeroshot_nas.spaces import arch_id
from zeroshot_nas.spaces.sampling import sample_from_settings

NOW = 2_000_000_000.0


@pytest.fixture()
def project(tmp_path, monkeypatch, shared_data):
    """A project folder whose cache holds 3 of the 4 architectures of seed 0 on CIFAR-10:
    two done two hours ago, one ten minutes ago; seed 1 untouched, CIFAR-100 without images."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data" / "images").mkdir(parents=True)
    shutil.copy(IMAGES / "cifar10.npz", tmp_path / "data" / "images" / "cifar10.npz")
    config = tiny_config()
    config["cache_dir"] = str(tmp_path / "cache")
    config["experiments"]["tiny"].update(n_archs=4, seeds=[0, 1], proxies=["params", "flops"],
                                         datasets=["cifar10", "cifar100"])
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    config = validate_config(config)
    e = config["experiments"]["tiny"]
    archs = sample_from_settings(sample_settings(e))
    protocol = Protocol.from_experiment(e, seed=0, device="cpu")
    npz = tmp_path / "data" / "images" / "cifar10.npz"
    score_archs("nb201", "cifar10", 0, archs[:3], ["params", "flops"], protocol, npz,
                config["cache_dir"], None, progress=False)
    _, cache = run_batch(npz, "nb201", "cifar10", protocol, config["cache_dir"])
    for a, age in zip(archs[:3], (7200.0, 7000.0, 600.0), strict=True):
        os.utime(cache.path(arch_id("nb201", a)), (NOW - age, NOW - age))
    return config, cache, archs


def test_rows_count_what_is_cached_and_the_rate_of_the_last_hour(project):
    config, cache, archs = project
    rows = {(r["dataset"], r["seed"]): r for r in experiment_progress(config, "tiny", NOW)}
    seed0 = rows["cifar10", 0]
    assert (seed0["done"], seed0["total"], seed0["recent"]) == (3, 4, [NOW - 600.0])
    assert len(seed0["arch_seconds"]) == 3 and min(seed0["arch_seconds"]) > 0
    # one architecture in the last hour gives no rate yet
    assert seed0["per_hour"] == 0.0 and seed0["eta_hours"] is None
    assert [rows[k]["done"] for k in sorted(rows)] == [3, 0, 0, 0]  # cifar10 0, 1; cifar100
    # a second one 30 minutes ago: 2 in the last 1,800 s
    os.utime(cache.path(arch_id("nb201", archs[1])), (NOW - 1800.0, NOW - 1800.0))
    seed0 = next(r for r in experiment_progress(config, "tiny", NOW)
                 if (r["dataset"], r["seed"]) == ("cifar10", 0))
    assert seed0["per_hour"] == pytest.approx(2 / 1800 * 3600)
    assert seed0["eta_hours"] == pytest.approx(1 / seed0["per_hour"])
    assert NOW - RATE_WINDOW_S < seed0["recent"][0]


def test_the_whole_runs_time_left_weights_each_row_by_its_cost(project):
    config, _, _ = project
    rows = experiment_progress(config, "tiny", NOW)
    total = run_time_left(rows, NOW)
    cost = sorted(next(r for r in rows if r["seed"] == 0 and r["done"])["arch_seconds"])[1]
    # left on CIFAR-10: 1 of seed 0 and 4 of seed 1 at the median cost; done in the last
    # hour: one architecture in 600 s, so the 5 left take 5 x 600 s at that pace
    assert total["scoring_hours_left"] == pytest.approx(5 * cost / 3600)
    # the whole run at that cost: CIFAR-10's 4 architectures x 2 seeds (CIFAR-100 unknown)
    assert total["run_hours"] == pytest.approx(8 * cost / 3600)
    assert total["eta_hours"] == pytest.approx(5 * 600 / 3600)
    # CIFAR-100 has nothing done, so its cost is unknown: counted apart, not guessed
    assert (total["done"], total["total"], total["unknown"]) == (3, 16, 8)
    # what was scored, whatever the machine: the done architectures' own seconds, a score
    # that two experiments share (the same cache file) counted once
    done = sum(sum(r["arch_seconds"]) for r in rows)
    assert done > 0 and total["scored_hours"] == pytest.approx(done / 3600)
    assert run_time_left(rows + rows, NOW)["scored_hours"] == total["scored_hours"]


def test_the_command_prints_every_row_and_the_whole_run(project, capsys):
    assert cli.main(["progress", "--configfile", "config.yaml"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 5 and lines[0].startswith("tiny cifar10         seed 0:      3 / 4")
    assert re.match(r"all: 3 / 16 scored \(\d+\.\d job-hours, the cached scores' own "
                    r"seconds\); ", lines[-1]), lines[-1]
    assert "8 architecture(s) of a data set not yet started are not counted" in lines[-1]
    assert re.search(r"; the whole run at the median costs: \d+\.\d job-hours$", lines[-1])


def test_scores_of_another_instruction_set_count_where_the_run_would_serve_them(project,
                                                                                 monkeypatch):
    # Issue 21: rb-cpu resumed on an AVX2 machine from AVX512 archives read 1,787 of 15,625
    # done on a data set whose every score the run served from the cache (any-cpu).
    config, _, _ = project
    here = numerics.numerics_environment(torch.device("cpu"))
    elsewhere = here.rsplit(" ", 1)[0] + (" AVX2" if here.endswith("AVX512") else " AVX512")
    monkeypatch.setattr(numerics, "numerics_environment", lambda _device: elsewhere)
    assert config["cache_numerics"] == "exact"
    assert next(r for r in experiment_progress(config, "tiny", NOW)
                if (r["dataset"], r["seed"]) == ("cifar10", 0))["done"] == 0
    config["cache_numerics"] = "any-cpu"
    assert next(r for r in experiment_progress(config, "tiny", NOW)
                if (r["dataset"], r["seed"]) == ("cifar10", 0))["done"] == 3
