# Shared helpers: validated configuration, how rules call the package, target lists.
import os
import re
import sys
from pathlib import Path

from snakemake.settings.types import DeploymentMethod

REPO = Path(workflow.basedir)
sys.path.insert(0, str(REPO / "src"))

from zeroshot_nas.data.sources import load_registry  # noqa: E402
from zeroshot_nas.config import (  # noqa: E402
    ConfigError,
    experiment_proxies,
    image_source,
    report_experiment,
    validate_config,
)

try:
    config = validate_config(config, REPO / "workflow" / "schemas" / "config.schema.yaml")
except ConfigError as err:
    raise WorkflowError(f"invalid configuration: {err}") from None

ENV = "../../envs/zeroshot-nas.yaml"
USES_CONDA = DeploymentMethod.CONDA in workflow.deployment_settings.deployment_method
# In a conda env the env's python is first on PATH; otherwise use the interpreter that runs
# Snakemake (the project's venv), never whatever `python` happens to be on PATH.
PYTHON = "python" if USES_CONDA else sys.executable
CLI = f"PYTHONPATH={REPO / 'src'}${{PYTHONPATH:+:$PYTHONPATH}} {PYTHON} -m zeroshot_nas.cli"

DOWNLOADS = config["data"]["downloads"]
MIRROR = os.environ.get("ZEROSHOT_NAS_MIRROR") or config["data"]["mirror"]
CACHE_DIR = config["cache_dir"]
EXPERIMENTS = config["experiments"]
REPORT = report_experiment(config)

SOURCES = load_registry(REPO / config["data"]["sources"])
CIFAR_TARBALLS = {"cifar10": "cifar10-python", "cifar100": "cifar100-python"}


def source_path(key):
    """Where the verified download of a registry entry lands."""
    return f"{DOWNLOADS}/{SOURCES[key].relpath.as_posix()}"


def benchmark_sources():
    """The files the NB201 benchmark table is built from (every non-optional source)."""
    return [source_path(k) for k, s in SOURCES.items() if not s.optional]


def all_datasets():
    return sorted({d for e in EXPERIMENTS.values() for d in e["datasets"]})


def final_targets():
    targets = ["data/benchmarks/nb201.parquet"]
    targets += [f"results/{name}/stats" for name in EXPERIMENTS]
    targets += ["figures/paper", "paper/generated/run_macros.tex"]
    if config["search"]["enabled"]:
        targets.append("paper/generated/search_tables.tex")
    if config["paper"]["build_pdf"]:
        targets.append("paper/build/status.txt")
    return targets
