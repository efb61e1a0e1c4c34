"""The real workflow, end to end, on a tiny configuration with real data.

Each test runs Snakemake in a temporary working directory against the repository's
Snakefile; nothing is mocked: real downloads from the mirror, the real benchmark table,
real images, real scores.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import IMAGES, REPO_ROOT, tiny_config

pytestmark = pytest.mark.slow


def write_config(workdir: Path, **experiment_overrides) -> Path:
    config = tiny_config()
    config["data"]["sources"] = str(REPO_ROOT / "data" / "sources.yaml")
    config["experiments"]["tiny"].update(experiment_overrides)
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def snakemake_cmd(snakemake_exe: str, workdir: Path, *extra: str) -> list[str]:
    return [
        snakemake_exe, "-s", str(REPO_ROOT / "Snakefile"), "--directory", str(workdir),
        "--configfile", str(workdir / "config.yaml"), "--profile",
        str(REPO_ROOT / "profiles" / "default"), "--cores", "2", *extra,
    ]


def run_snakemake(snakemake_exe, workdir, env, *extra, timeout=900):
    result = subprocess.run(
        snakemake_cmd(snakemake_exe, workdir, *extra),
        capture_output=True, text=True, env=env, timeout=timeout,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return result


def cache_entries(workdir: Path) -> dict[str, dict]:
    """Every cached architecture of the run: arch_id -> {score: entry}."""
    entries = {}
    for path in (workdir / "data" / "cache" / "scores").rglob("*.json"):
        entries[path.stem] = json.loads(path.read_text())
    return entries


USER_FILE = "figures/paper/my_notes.txt"


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory, shared_data, snakemake_exe):
    workdir = tmp_path_factory.mktemp("tiny")
    write_config(workdir)
    # A file of the user's in a folder earlier versions rewrote as a whole.
    (workdir / USER_FILE).parent.mkdir(parents=True)
    (workdir / USER_FILE).write_text("mine\n")
    env = dict(os.environ)
    env.pop("ZEROSHOT_NAS_MIRROR", None)
    run_snakemake(snakemake_exe, workdir, env)
    return workdir, env


def test_tiny_workflow_produces_the_merged_table(finished_run):
    workdir, _ = finished_run
    table = pd.read_parquet(workdir / "results" / "tiny" / "scores.parquet")
    assert len(table) == 8 * 2
    assert set(table["score"]) == {"naswot", "synflow"}
    assert table["arch"].nunique() == 8
    assert set(table["dataset"]) == {"cifar10"} and set(table["seed"]) == {0}
    assert table["test_acc"].between(0, 100).all()
    assert table["valid_acc"].notna().all() and table["params_m"].gt(0).all()
    assert set(table["status"]) <= {"ok", "nan", "+inf", "-inf", "error"}
    assert set(table["batch_size"]) == {16} and set(table["bn_mode"]) == {"train"}
    # The downloads were verified copies of the mirror, and the benchmark table is complete.
    bench = pd.read_parquet(workdir / "data" / "benchmarks" / "nb201.parquet")
    assert len(bench) == 3 * 15625


def test_nothing_to_do_on_a_second_run(finished_run, snakemake_exe):
    workdir, env = finished_run
    result = run_snakemake(snakemake_exe, workdir, env, "-n")
    assert "Nothing to be done" in result.stdout + result.stderr


def test_a_run_leaves_files_outside_its_own_folders_alone(finished_run):
    workdir, _ = finished_run
    assert (workdir / USER_FILE).read_text() == "mine\n"
    assert sorted(p.name for p in (workdir / "results" / "tiny" / "figures").glob("*.png"))
    # every run compares its scores (stats.highlight empty: nothing picked out)
    figure = workdir / "results" / "tiny" / "figures" / "compare_scores"
    assert figure.with_suffix(".png").stat().st_size > 0
    assert "No score is highlighted" in figure.with_suffix(".txt").read_text()


@pytest.mark.parametrize(("key", "value"), [("bootstrap", 50), ("best_of_n", 5),
                                            ("rank_combination", ["naswot"]), ("seed", 3),
                                            ("seed_aggregation", "first"),
                                            ("highlight", ["naswot"]),
                                            ("freerea_check", True),
                                            ("require_path", True)])
def test_changing_a_stats_setting_reruns_the_statistics(finished_run, snakemake_exe, key, value):
    workdir, env = finished_run
    config = yaml.safe_load((workdir / "config.yaml").read_text())
    config.setdefault("stats", {})[key] = value
    changed = workdir / f"changed-{key}.yaml"
    changed.write_text(yaml.safe_dump(config))
    cmd = snakemake_cmd(snakemake_exe, workdir, "-n", "--configfile", str(changed))
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert re.search(r"^stats\s+1$", out.stdout, re.M), out.stdout[-2000:]
    assert not re.search(r"^score_shard\s", out.stdout, re.M)


def test_html_report_holds_the_figures(finished_run, snakemake_exe):
    workdir, env = finished_run
    run_snakemake(snakemake_exe, workdir, env, "--report", str(workdir / "report.html"))
    html = (workdir / "report.html").read_text(encoding="utf-8", errors="replace")
    assert "Paper figures" in html
    drawn = sorted(p.name for p in (workdir / "results" / "tiny" / "figures").glob("*.png"))
    assert drawn and all(name in html for name in drawn)


def test_adding_a_proxy_computes_only_that_proxy(finished_run, snakemake_exe):
    workdir, env = finished_run
    before = pd.read_parquet(workdir / "results" / "tiny" / "scores.parquet")
    write_config(workdir, proxies=["naswot", "synflow", "logsynflow"])
    run_snakemake(snakemake_exe, workdir, env)
    after = pd.read_parquet(workdir / "results" / "tiny" / "scores.parquet")
    assert set(after["score"]) == {"naswot", "synflow", "logsynflow"}
    key = ["arch", "score"]
    old = before.set_index(key)[["value", "seconds"]]
    new = after.set_index(key).loc[old.index, ["value", "seconds"]]
    # Recomputing would re-measure the time; identical seconds prove the cache was used.
    pd.testing.assert_frame_equal(old.sort_index(), new.sort_index())


def test_killed_scoring_job_resumes_without_recomputing(tmp_path, shared_data, snakemake_exe):
    workdir = tmp_path
    # One shard holding all eight architectures, with slow scores so the kill lands midway.
    write_config(workdir, shard_size=8, batch_size=64,
                 proxies=["naswot", "synflow", "jacob_cov", "grasp", "snip", "ntk"])
    env = dict(os.environ)
    env.pop("ZEROSHOT_NAS_MIRROR", None)
    proc = subprocess.Popen(
        snakemake_cmd(snakemake_exe, workdir, "--cores", "1", "results/tiny/scores.parquet"),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True,
    )
    deadline = time.time() + 600
    try:
        while time.time() < deadline and len(cache_entries(workdir)) < 2:
            time.sleep(0.2)
            assert proc.poll() is None, "the run ended before it could be killed"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    done_before_kill = cache_entries(workdir)
    assert 2 <= len(done_before_kill) < 8, f"kill did not land midway: {len(done_before_kill)}"
    assert not (workdir / "results" / "tiny" / "scores.parquet").exists()

    # A SIGKILL leaves Snakemake's lock behind, as after a power loss: unlock, then re-run.
    run_snakemake(snakemake_exe, workdir, env, "--unlock")
    run_snakemake(snakemake_exe, workdir, env, "results/tiny/scores.parquet")
    table = pd.read_parquet(workdir / "results" / "tiny" / "scores.parquet")
    assert table["arch"].nunique() == 8
    after = cache_entries(workdir)
    assert len(after) == 8
    recomputed = [a for a, entry in done_before_kill.items() if after[a] != entry]
    assert recomputed == [], f"architectures recomputed after resume: {recomputed}"


def test_paths_with_spaces_work(tmp_path, shared_data, snakemake_exe):
    workdir = tmp_path / "a folder with spaces"
    images = tmp_path / "my images"
    images.mkdir(parents=True)
    shutil.copy(IMAGES / "cifar10.npz", images / "cifar10.npz")
    write_config(workdir, n_archs=4, shard_size=2)
    config = yaml.safe_load((workdir / "config.yaml").read_text())
    config["data"]["images"]["sample_dir"] = str(images)
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    env = dict(os.environ)
    env.pop("ZEROSHOT_NAS_MIRROR", None)
    run_snakemake(snakemake_exe, workdir, env, "results/tiny/scores.parquet")
    table = pd.read_parquet(workdir / "results" / "tiny" / "scores.parquet")
    assert table["arch"].nunique() == 4


def test_every_first_seed_is_scored_before_any_second(tmp_path, shared_data, snakemake_exe):
    # Long presets run across sessions: a run stopped part-way must hold whole
    # initialisations. Without priorities Snakemake interleaves the seeds' shards, and
    # without them on the data jobs too, a data set whose images are not yet prepared waits
    # behind the other's later seeds.
    write_config(tmp_path, n_archs=4, shard_size=2, seeds=[2, 0, 1], proxies=["params"],
                 datasets=["cifar10", "ImageNet16-120"])
    env = dict(os.environ)
    env.pop("ZEROSHOT_NAS_MIRROR", None)
    result = run_snakemake(snakemake_exe, tmp_path, env, "--cores", "1",
                           "results/tiny/scores.parquet")
    started = re.findall(r"wildcards: exp=tiny, dataset=[\w-]+, seed=(\d), shard=(\d+)",
                         result.stdout + result.stderr)
    assert len(started) == 12, started
    # in the order the experiment lists its seeds, each seed's four shards together
    assert [seed for seed, _ in started] == ["2"] * 4 + ["0"] * 4 + ["1"] * 4, started


def test_dataset_seeds_score_each_data_set_with_its_own_seeds(tmp_path, shared_data,
                                                              snakemake_exe):
    # rb-cpu: three initialisations of the whole space on ImageNet16-120, one on CIFAR
    write_config(tmp_path, n_archs=4, shard_size=4, seeds=[0], proxies=["naswot", "params"],
                 datasets=["cifar10", "ImageNet16-120"],
                 dataset_seeds={"ImageNet16-120": [0, 1]})
    env = dict(os.environ)
    env.pop("ZEROSHOT_NAS_MIRROR", None)
    run_snakemake(snakemake_exe, tmp_path, env, "results/tiny/stats")
    table = pd.read_parquet(tmp_path / "results" / "tiny" / "scores.parquet")
    pairs = table.groupby(["dataset", "seed"])["arch"].nunique().to_dict()
    assert pairs == {("ImageNet16-120", 0): 4, ("ImageNet16-120", 1): 4, ("cifar10", 0): 4}
    summary = json.loads((tmp_path / "results" / "tiny" / "stats" / "summary.json").read_text())
    assert summary["seed_aggregation"]["n_seeds"] == {"cifar10": 1, "ImageNet16-120": 2}
    spread = pd.read_csv(tmp_path / "results" / "tiny" / "stats" / "seed_spread.csv")
    assert set(spread.loc[spread["n_seeds"] == 2, "dataset"]) == {"ImageNet16-120"}


def test_two_concurrent_experiments_sharing_the_cache_keep_every_score(tmp_path, shared_data,
                                                                        snakemake_exe):
    cache = tmp_path / "shared cache"
    runs = []
    for name, proxies in (("one", ["naswot", "synflow"]), ("two", ["naswot", "logsynflow"])):
        workdir = tmp_path / name
        write_config(workdir, n_archs=8, shard_size=8, proxies=proxies)
        config = yaml.safe_load((workdir / "config.yaml").read_text())
        config["cache_dir"] = str(cache)
        (workdir / "config.yaml").write_text(yaml.safe_dump(config))
        runs.append(workdir)
    env = dict(os.environ)
    env.pop("ZEROSHOT_NAS_MIRROR", None)
    procs = [subprocess.Popen(snakemake_cmd(snakemake_exe, w, "--cores", "1",
                                            "results/tiny/scores.parquet"),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
             for w in runs]
    for proc in procs:
        _, err = proc.communicate(timeout=900)
        assert proc.returncode == 0, err[-3000:]
    files = list(cache.rglob("*.json"))
    assert len(files) == 8
    kept = {f.stem: set(json.loads(f.read_text())["modes"]["fused"]) for f in files}
    assert all(scores == {"naswot", "synflow", "logsynflow"} for scores in kept.values()), kept


# ---------------------------------------------------------------- issue 20: one notion of
# "up to date". These run after the tests above, on the same finished run.

def dry_run_jobs(snakemake_exe, workdir, env, *extra, snakefile=None) -> dict[str, int]:
    """Rule -> job count of a dry run (empty when there is nothing to be done)."""
    cmd = snakemake_cmd(snakemake_exe, workdir, "-n", *extra)
    if snakefile is not None:
        cmd[2] = str(snakefile)
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    table = out.stdout.split("Job stats:", 1)[-1] if "Job stats:" in out.stdout else ""
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M)
            if m[1] != "total"}


def test_unsetting_the_mirror_reruns_no_download(finished_run, snakemake_exe):
    # Issue 20: the mirror was a tracked parameter, so unsetting it re-ran all downloads
    # (and, offline, deleted verified files). Where bytes come from is not what they are.
    workdir, env = finished_run
    config = yaml.safe_load((workdir / "config.yaml").read_text())
    config["data"]["mirror"] = None
    unset = workdir / "no-mirror.yaml"
    unset.write_text(yaml.safe_dump(config))
    assert dry_run_jobs(snakemake_exe, workdir, env, "--configfile", str(unset)) == {}


def test_an_offline_rerun_of_a_download_keeps_the_verified_file(finished_run, snakemake_exe):
    # Issue 20: offline, a re-run download deleted its verified file before failing.
    workdir, env = finished_run
    download = next((workdir / "data" / "downloads").rglob("*.csv"))
    before = download.read_bytes()
    target = str(download.relative_to(workdir))
    offline = env | {"ZEROSHOT_NAS_DOWNLOAD_BASE": "http://127.0.0.1:9",
                     "ZEROSHOT_NAS_DOWNLOAD_TIMEOUT": "2"}
    config = yaml.safe_load((workdir / "config.yaml").read_text())
    config["data"]["mirror"] = None
    no_mirror = workdir / "offline.yaml"
    no_mirror.write_text(yaml.safe_dump(config))
    run_snakemake(snakemake_exe, workdir, offline, target, "--forcerun", target,
                  "--configfile", str(no_mirror))
    assert download.read_bytes() == before


def test_threads_are_tracked_whatever_cores_the_jobs_get(finished_run, snakemake_exe):
    workdir, env = finished_run
    config = yaml.safe_load((workdir / "config.yaml").read_text())
    config["experiments"]["tiny"]["threads"] = 2
    changed = workdir / "threads.yaml"
    changed.write_text(yaml.safe_dump(config))
    jobs = dry_run_jobs(snakemake_exe, workdir, env, "--configfile", str(changed), "--cores", "1")
    assert jobs.get("score_shard") == 2 and jobs.get("stats") == 1, jobs


def test_missing_or_changed_files_a_user_reads_are_made_again(finished_run, snakemake_exe):
    # Issue 20: a killed merge_scores (its table gone) and a truncated image file were
    # "Nothing to be done". The merged table is a final target now, and a prepared file that
    # no longer has the digest its rule recorded is set aside and prepared anew.
    workdir, env = finished_run
    table, npz = workdir / "results/tiny/scores.parquet", workdir / "data/images/cifar10.npz"
    saved_table, saved_npz = table.read_bytes(), npz.read_bytes()
    digest = npz.with_name(npz.name + ".sha256").read_bytes()
    stat = npz.stat()
    try:
        table.unlink()
        npz.write_bytes(saved_npz[: len(saved_npz) // 2])
        os.utime(npz, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # even with its old time
        jobs = dry_run_jobs(snakemake_exe, workdir, env)
        assert jobs.get("merge_scores") == 1 and jobs.get("prepare_images") == 1, jobs
        assert len(list(npz.parent.glob("cifar10.npz.changed-*"))) == 1
    finally:
        for aside in npz.parent.glob("cifar10.npz.changed-*"):
            aside.unlink()
        table.write_bytes(saved_table)
        npz.write_bytes(saved_npz)
        npz.with_name(npz.name + ".sha256").write_bytes(digest)


def test_a_bumped_score_definition_reruns_its_scoring(finished_run, snakemake_exe, tmp_path):
    # Issue 20: a score's version bumped in its module was "Nothing to be done". A copy of
    # the workflow whose synflow has another definition version must re-score.
    workdir, env = finished_run
    repo = tmp_path / "repo"
    repo.mkdir()
    shutil.copy(REPO_ROOT / "Snakefile", repo)
    for part in ("workflow", "src", "profiles", "envs", "paper"):
        shutil.copytree(REPO_ROOT / part, repo / part,
                        ignore=shutil.ignore_patterns("__pycache__"))
    (repo / "data").mkdir()
    shutil.copy(REPO_ROOT / "data" / "sources.yaml", repo / "data")
    module = repo / "src" / "zeroshot_nas" / "proxies" / "synflow.py"
    text = module.read_text()
    bumped = text.replace('@register(\n    "synflow",\n', '@register(\n    "synflow",\n    version=99,\n')
    assert bumped != text
    module.write_text(bumped)
    jobs = dry_run_jobs(snakemake_exe, workdir, env, snakefile=repo / "Snakefile")
    assert jobs.get("score_shard") == 2 and jobs.get("merge_scores") == 1, jobs


def test_a_fixed_failure_reruns_what_failed(finished_run, snakemake_exe):
    # Issue 20: a scoring job failed (cache unwritable), the cause was fixed, and the same
    # command said "Nothing to be done" (Snakemake records a failed job's parameters, then
    # deletes its outputs). Last in this module: it leaves the run needing that rerun.
    workdir, env = finished_run
    write_config(workdir, proxies=["naswot", "synflow", "logsynflow", "params"])
    locks = [folder / ".lock" for folder in (workdir / "data/cache/scores").rglob("batch-*")]
    for lock in locks:
        lock.unlink(missing_ok=True)
        lock.mkdir()  # a real OSError on the cache's lock, as on a read-only disk
    failed = subprocess.run(snakemake_cmd(snakemake_exe, workdir, "results/tiny/scores.parquet"),
                            capture_output=True, text=True, env=env, timeout=900)
    assert failed.returncode != 0
    assert "cannot write to the score cache folder" in failed.stdout + failed.stderr
    for lock in locks:
        lock.rmdir()
    jobs = dry_run_jobs(snakemake_exe, workdir, env)
    assert jobs.get("score_shard") == 2 and jobs.get("merge_scores") == 1, jobs
