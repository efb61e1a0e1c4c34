# Validated configuration and every name derived from it, computed once (zeroshot_nas.pipeline.plan).
import os
import re
import sys
from pathlib import Path

from snakemake.settings.types import DeploymentMethod

from zeroshot_nas.config import ConfigError, check_devices, validate_config  # noqa: E402
from zeroshot_nas.pipeline.plan import Plan  # noqa: E402
from zeroshot_nas.pipeline.snakemake_fixes import quote_script_interpreter  # noqa: E402
from zeroshot_nas.plots import catalog as CATALOG  # noqa: E402 - light: names, no plotting

quote_script_interpreter()

try:
    config = validate_config(config, REPO / "workflow" / "schemas" / "config.schema.yaml")
    check_devices(config, local_run=workflow.local_exec and not workflow.remote_exec)
except ConfigError as err:
    raise WorkflowError(f"invalid configuration: {err}") from None

PLAN = Plan(config, REPO)
# A prepared file changed since its rule wrote it (truncated, edited) is set aside, so this
# run prepares it anew instead of scoring it or calling it up to date.
for original, aside in PLAN.set_aside_changed_files():
    print(f"{original} changed after it was prepared: moved to {aside.name}; it is prepared "
          "anew", file=sys.stderr)
ENV = "../../envs/zeroshot-nas.yaml"
STEP = "../scripts/step.py"
# Steps import the package from src/ (no install needed in a conda env); `python` is the
# env's one under --use-conda, otherwise the interpreter running Snakemake (the project's
# venv). Cluster jobs re-run this file, so they get the same environment.
os.environ.update(
    PYTHONPATH=os.pathsep.join(p for p in (str(REPO / "src"), os.environ.get("PYTHONPATH")) if p)
)
if DeploymentMethod.CONDA not in workflow.deployment_settings.deployment_method:
    os.environ.update(
        PATH=os.pathsep.join((str(Path(sys.executable).parent), os.environ.get("PATH", "")))
    )


def experiment(wildcards):
    return PLAN.experiments[wildcards.exp]


def job_resources(key):
    """A scoring or search job's request, from its experiment's settings."""
    return lambda wildcards: experiment(wildcards).resources[key]


onstart:
    from zeroshot_nas.data.sources import download_plan

    plan = download_plan(PLAN.needed_sources(), PLAN.downloads, PLAN.mirror, PLAN.sources)
    print(plan.summary(), file=sys.stderr)
    if config["paper"]["build_pdf"] and not PLAN.latexmk:
        print("paper: latexmk not found, the PDF is not built (the figures and tables are)",
              file=sys.stderr)
