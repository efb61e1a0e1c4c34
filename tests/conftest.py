"""Shared test fixtures: where the repository and the real shared data are."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
# ../shared/data beside the checkout; ZEROSHOT_NAS_SHARED_DATA points elsewhere (e.g. a GPU host).
SHARED_DATA = Path(os.environ.get("ZEROSHOT_NAS_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
MIRROR = SHARED_DATA / "mirror"
IMAGES = SHARED_DATA / "images"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not MIRROR.is_dir():
        pytest.skip(f"real benchmark data not found at {SHARED_DATA} (../shared/data)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def snakemake_exe() -> str:
    """The snakemake of the interpreter running the tests (the project's venv)."""
    exe = Path(sys.executable).parent / "snakemake"
    if exe.exists():
        return str(exe)
    found = shutil.which("snakemake")
    if not found:
        pytest.skip("snakemake is not installed")
    return found


@pytest.fixture()
def clean_env() -> dict[str, str]:
    """Environment for subprocess runs, without a mirror override leaking in from outside."""
    env = dict(os.environ)
    env.pop("ZEROSHOT_NAS_MIRROR", None)
    return env
