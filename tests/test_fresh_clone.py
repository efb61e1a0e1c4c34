"""A new user's machine: a fresh clone with no ``shared`` folder beside it and internet only.

The repository is cloned into a temporary folder (with this checkout's uncommitted changes
applied, so the test checks the code under test), the mirror is reachable only through a
real HTTP server on 127.0.0.1 standing in for the public hosts, and the embedded default
configuration runs its data stage and scores a few architectures on all three data sets.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import MIRROR, REPO_ROOT
from http_mirror import serve

from zeroshot_nas.data.sources import load_registry

pytestmark = pytest.mark.slow


def fresh_clone(dest: Path) -> Path:
    """``git clone`` of this repository, plus its uncommitted and untracked files."""
    subprocess.run(["git", "clone", "-q", str(REPO_ROOT), str(dest)], check=True)
    diff = subprocess.run(["git", "diff", "HEAD", "--binary"], cwd=REPO_ROOT, check=True,
                          capture_output=True).stdout
    if diff:
        subprocess.run(["git", "apply", "--whitespace=nowarn"], cwd=dest, input=diff, check=True)
    untracked = subprocess.run(["git", "ls-files", "--others", "--exclude-standard", "-z"],
                               cwd=REPO_ROOT, check=True, capture_output=True).stdout
    for rel in filter(None, untracked.decode().split("\0")):
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / rel, dest / rel)
    return dest


def test_default_runs_from_a_fresh_clone_over_http_only(tmp_path, shared_data, snakemake_exe):
    clone = fresh_clone(tmp_path / "zeroshot-nas")
    assert not (clone.parent / "shared").exists()
    assert "../shared" not in (clone / "config.yaml").read_text()
    env = {k: v for k, v in os.environ.items()
           if k not in ("ZEROSHOT_NAS_MIRROR", "ZEROSHOT_NAS_SHARED_DATA", "PYTHONPATH")}
    with serve(MIRROR) as server:
        env["ZEROSHOT_NAS_DOWNLOAD_BASE"] = server.url
        overrides = tmp_path / "few-archs.yaml"  # merged over config.yaml, key by key
        overrides.write_text(yaml.safe_dump({
            "experiments": {"default": {"n_archs": 3, "shard_size": 3}},
            "stats": {"best_of_n": 3}}), encoding="utf-8")
        out = subprocess.run(
            [snakemake_exe, "results/default/scores.parquet", "--profile", "profiles/default",
             "--cores", "2", "--configfile", "config.yaml", str(overrides)],
            cwd=clone, env=env, capture_output=True, text=True, timeout=1500)
        assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
        asked = set(server.requests)
    registry = load_registry(clone / "data" / "sources.yaml")
    registered = {s.relpath.as_posix() for s in registry.values()}
    assert asked <= registered, asked - registered
    needed = {s.relpath.as_posix() for s in registry.values() if not s.optional}
    assert asked == needed  # the benchmark files and the three data sets' image batches
    assert "data: 72 of 72 files to fetch" in out.stderr
    table = pd.read_parquet(clone / "results" / "default" / "scores.parquet")
    assert table.groupby("dataset")["arch"].nunique().to_dict() == {
        "cifar10": 3, "cifar100": 3, "ImageNet16-120": 3}
    assert set(table["status"]) <= {"ok", "nan", "+inf", "-inf"}



def test_a_checkout_under_a_folder_with_a_space_runs_its_rules(tmp_path, shared_data,
                                                               snakemake_exe):
    # Issue 20: with the checkout (and its .venv) under `sp ace/`, every rule failed with
    # `bash: …/sp: No such file or directory`: Snakemake puts the interpreter's path into
    # the shell command of a `script:` rule unquoted.
    from test_workflow import write_config

    clone = fresh_clone(tmp_path / "sp ace" / "zeroshot-nas")
    (clone / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)
    python = clone / ".venv" / "bin" / "python"  # a venv under the spaced path, as `make` makes
    write_config(tmp_path / "run config")
    env = {k: v for k, v in os.environ.items()
           if k not in ("ZEROSHOT_NAS_MIRROR", "PYTHONPATH")}
    source = next(s for s in load_registry(clone / "data" / "sources.yaml").values()
                  if s.group == "benchmark")
    download = f"data/downloads/{source.relpath.as_posix()}"
    out = subprocess.run(
        [str(python), "-m", "snakemake", download, "results/tiny/archs.txt", "--profile",
         "profiles/default", "--cores", "1", "--configfile",
         str(tmp_path / "run config" / "config.yaml")],
        cwd=clone, env=env, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert (clone / download).is_file()
    assert len((clone / "results" / "tiny" / "archs.txt").read_text().split()) == 8
