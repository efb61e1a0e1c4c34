"""Shared test fixtures: where the repository and the real shared data are."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def _locate_shared_data() -> tuple[Path, Path]:
    """The real data the tests read: the download mirror and the image samples beside it.

    ZEROSHOT_NAS_SHARED_DATA names the folder holding both (``mirror/``, ``images/``); else
    ZEROSHOT_NAS_MIRROR, the variable a user sets for the pipeline, names the mirror and the
    samples are its sibling ``images/``; else ``../shared/data`` beside the checkout.
    """
    shared = os.environ.get("ZEROSHOT_NAS_SHARED_DATA")
    mirror = os.environ.get("ZEROSHOT_NAS_MIRROR")
    if not shared and mirror:
        return Path(mirror).resolve().parent, Path(mirror).resolve()
    root = Path(shared) if shared else REPO_ROOT.parent / "shared" / "data"
    return root, root / "mirror"


SHARED_DATA, MIRROR = _locate_shared_data()
IMAGES = SHARED_DATA / "images"
PAPERS = SHARED_DATA.parent / "papers"  # the four papers' texts, beside the data
WHERE = ("set ZEROSHOT_NAS_MIRROR to the mirror folder (image samples in its sibling images/) "
         "or ZEROSHOT_NAS_SHARED_DATA to the folder holding mirror/ and images/")


def tiny_config() -> dict:
    """tests/configs/tiny.yaml with its data paths pointing at the real data found above."""
    import yaml

    config = yaml.safe_load((REPO_ROOT / "tests" / "configs" / "tiny.yaml").read_text())
    config["data"]["mirror"] = str(MIRROR)
    config["data"]["images"]["sample_dir"] = str(IMAGES)
    return config


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not MIRROR.is_dir():
        pytest.skip(f"real benchmark data not found at {MIRROR} ({WHERE})")
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
