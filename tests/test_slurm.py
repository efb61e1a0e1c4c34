"""The workflow on a real one-node Slurm started on this machine (marker `slurm`).

Needs root and Debian's `slurm-wlm` + `munge` (`.ci/slurm-setup.sh`); skips with the reason
otherwise, unless ZEROSHOT_NAS_REQUIRE_SLURM=1 (CI) turns that skip into a failure.
Every Snakemake run here goes through `--profile profiles/slurm`, unmodified.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import MIRROR, tiny_config
from slurm_cluster import PARTITION, ClusterUnavailable, LocalSlurm, missing_requirements

REPO_ROOT = Path(__file__).resolve().parents[1]
SLURM_PROFILE = REPO_ROOT / "profiles" / "slurm"
LOCAL_PROFILE = REPO_ROOT / "profiles" / "default"
SNAKEMAKE = str(Path(sys.executable).parent / "snakemake")
ACCOUNT = "zsnas-test"

pytestmark = pytest.mark.slurm

# The plugin waits 40 s before its first status check; a shorter wait keeps the test quick
# and stays below MinJobAge / 3 of the test cluster, so squeue still sees finished jobs.
FAST_POLL = ("--slurm-init-seconds-before-status-checks", "2")


def _unavailable(reason: str) -> None:
    if os.environ.get("ZEROSHOT_NAS_REQUIRE_SLURM") == "1":
        pytest.fail(f"local Slurm required (ZEROSHOT_NAS_REQUIRE_SLURM=1) but: {reason}")
    pytest.skip(f"local Slurm unavailable: {reason}")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    reason = missing_requirements()
    if reason:
        _unavailable(reason)
    slurm = LocalSlurm(tmp_path_factory.mktemp("slurm"))
    try:
        slurm.start()
    except ClusterUnavailable as err:
        slurm.stop()
        _unavailable(str(err))
    try:
        yield slurm
    finally:
        slurm.stop()


def slurm_env(cluster: LocalSlurm, **extra: str) -> dict[str, str]:
    env = cluster.env
    env.pop("ZEROSHOT_NAS_MIRROR", None)
    for var in ("SLURM_ACCOUNT", "PARTITION", "GPU_PARTITION"):
        env.pop(f"ZEROSHOT_NAS_SLURM_{var}", None)
    # Jobs inherit the environment (sbatch --export=ALL); the venv's tools come first.
    env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"
    env.update(extra)
    return env


def run_bounded(cmd: list[str], cwd: Path, env: dict[str, str], limit: float):
    """Run `cmd`; on hitting `limit` seconds kill its whole process group and fail.

    Snakemake ignores SIGTERM while it waits for cluster jobs, hence SIGKILL.
    """
    start = time.monotonic()
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        out, _ = proc.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        pytest.fail(f"{' '.join(cmd)} still running after {limit:.0f} s:\n{out[-4000:]}")
    return proc.returncode, out, time.monotonic() - start


def our_jobs(cluster: LocalSlurm) -> list[dict[str, str]]:
    """Jobs the controller still remembers (MinJobAge): id, partition, account, state."""
    out = subprocess.run(
        ["squeue", "--states=all", "--noheader", "--format=%i|%P|%a|%T"],
        capture_output=True,
        text=True,
        check=True,
        env=cluster.env,
    ).stdout
    keys = ("id", "partition", "account", "state")
    return [dict(zip(keys, line.split("|"), strict=True)) for line in out.splitlines()]


def test_local_slurm_runs_a_batch_job_with_an_inner_srun(cluster, tmp_path):
    out = tmp_path / "job.out"
    subprocess.run(
        ["sbatch", "--wait", "--output", str(out), "--wrap", "srun -n1 echo inner-$SLURM_JOB_ID"],
        check=True,
        env=cluster.env,
        timeout=120,
        capture_output=True,
    )
    assert re.fullmatch(r"inner-\d+\n", out.read_text())


def write_tiny_config(workdir: Path) -> None:
    config = tiny_config()
    config["data"]["sources"] = str(REPO_ROOT / "data" / "sources.yaml")
    (workdir / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")


def workflow_cmd(workdir: Path, profile: Path, *extra: str) -> list[str]:
    """Snakemake up to the merged scores table (the stages after it add nothing Slurm-wise)."""
    return [
        SNAKEMAKE,
        "-s",
        str(REPO_ROOT / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(workdir / "config.yaml"),
        "--profile",
        str(profile),
        *extra,
        "results/tiny/scores.parquet",
    ]


@pytest.mark.slow
def test_tiny_config_on_slurm_equals_a_local_run(cluster, tmp_path):
    if not MIRROR.is_dir():
        pytest.skip(f"real benchmark data not found at {MIRROR}")
    local, remote = tmp_path / "local", tmp_path / "slurm"
    for workdir in (local, remote):
        workdir.mkdir()
        write_tiny_config(workdir)

    env = slurm_env(cluster)
    rc, out, _ = run_bounded(
        workflow_cmd(local, LOCAL_PROFILE, "--cores", "2"), REPO_ROOT, env, 900
    )
    assert rc == 0, out[-4000:]

    env = slurm_env(
        cluster, ZEROSHOT_NAS_SLURM_ACCOUNT=ACCOUNT, ZEROSHOT_NAS_SLURM_PARTITION=PARTITION
    )
    rc, out, seconds = run_bounded(
        workflow_cmd(remote, SLURM_PROFILE, *FAST_POLL, "--slurm-keep-successful-logs"),
        REPO_ROOT,
        env,
        1200,
    )
    assert rc == 0, out[-6000:]
    print(f"tiny config on Slurm: {seconds:.1f} s")

    # Every job went through Slurm, to the partition and account the profile was given.
    submitted = set(re.findall(r"SLURM jobid (\d+)", out))
    arrays = set(re.findall(r"Submitted array job .*?SLURM job ID (\d+)", out))
    assert submitted and arrays, out[-4000:]
    jobs = [j for j in our_jobs(cluster) if j["id"].split("_")[0] in submitted | arrays]
    assert jobs and all(j["state"] == "COMPLETED" for j in jobs), jobs
    assert {j["partition"] for j in jobs} == {PARTITION}
    assert {j["account"] for j in jobs} == {ACCOUNT}
    # The two scoring shards ran as tasks 1 and 2 of one job array.
    array_logs = sorted(
        p.name for p in (remote / ".snakemake" / "slurm_logs" / "rule_score_shard").rglob("*.log")
    )
    assert len(arrays) == 1 and len(array_logs) == 2, (arrays, array_logs)
    assert {name.split("_")[1] for name in array_logs} == {"1.log", "2.log"}

    # Same architectures, same scores: only the measured seconds may differ.
    key = ["arch", "dataset", "seed", "score"]
    a = pd.read_parquet(local / "results" / "tiny" / "scores.parquet")
    b = pd.read_parquet(remote / "results" / "tiny" / "scores.parquet")
    assert len(a) == 8 * 2 and len(b) == len(a)
    a = a.drop(columns="seconds").sort_values(key).reset_index(drop=True)
    b = b.drop(columns="seconds").sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b, check_exact=True)


FAILING_SNAKEFILE = """
rule all:
    input: "out/ok.txt", "out/fail.txt"

rule ok:
    output: "out/ok.txt"
    shell: "echo ok > {output}"

rule fail:
    output: "out/fail.txt"
    shell: "echo 'deliberate failure' >&2; exit 3"
"""


@pytest.mark.slow
def test_failing_job_is_reported_failed_not_waited_on(cluster, tmp_path):
    (tmp_path / "Snakefile").write_text(FAILING_SNAKEFILE)
    rc, out, seconds = run_bounded(
        [SNAKEMAKE, "--profile", str(SLURM_PROFILE), *FAST_POLL],
        tmp_path,
        slurm_env(cluster),
        300,
    )
    print(f"failing workflow on Slurm ended after {seconds:.1f} s")
    assert rc != 0, out[-4000:]
    assert re.search(r"SLURM-job '\d+' failed, SLURM status is: 'FAILED'", out), out[-4000:]
    assert (tmp_path / "out" / "ok.txt").read_text() == "ok\n"
    assert not (tmp_path / "out" / "fail.txt").exists()
    # The profile's `retries: 1` submitted it twice; Slurm kept both failed jobs' logs.
    fail_logs = list((tmp_path / ".snakemake" / "slurm_logs" / "rule_fail").rglob("*.log"))
    assert len(fail_logs) == 2, fail_logs
    assert all("deliberate failure" in p.read_text() for p in fail_logs)


GPU_SNAKEFILE = """
rule score_shard:
    output: "job.txt"
    resources: gpu=1
    shell: "scontrol show job $SLURM_JOB_ID > {output}"
"""


@pytest.mark.slow
def test_gpu_resource_of_scoring_rule_becomes_a_slurm_gpu_request(cluster, tmp_path):
    # A rule named like the workflow's scoring rule, with the resource it declares on cuda.
    (tmp_path / "Snakefile").write_text(GPU_SNAKEFILE)
    env = slurm_env(cluster, ZEROSHOT_NAS_SLURM_GPU_PARTITION=PARTITION)
    rc, out, _ = run_bounded(
        [SNAKEMAKE, "--profile", str(SLURM_PROFILE), *FAST_POLL], tmp_path, env, 300
    )
    assert rc == 0, out[-4000:]
    job = (tmp_path / "job.txt").read_text()
    assert re.search(r"TresPerJob=gres:gpu:1\b", job), job
    assert f"Partition={PARTITION}" in job
