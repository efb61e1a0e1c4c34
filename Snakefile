# zeroshot-nas: training-free NAS, from benchmark download to paper.
# Thin on purpose: configuration and validation, the stage files, and the final targets.
# Every rule runs workflow/scripts/step.py, i.e. the function of its name in
# zeroshot_nas.pipeline.steps; the logic lives in src/zeroshot_nas.
import sys
from pathlib import Path

from snakemake.utils import min_version

min_version("9.0")

REPO = Path(workflow.basedir)
sys.path.insert(0, str(REPO / "src"))

from zeroshot_nas.config import ConfigError, read_yaml  # noqa: E402


# The embedded default; a --configfile (e.g. a preset) replaces it instead of merging into it,
# so a preset never runs the default experiment too. --config values still merge on top.
# Read by our loader first, whose error names the line; Snakemake's own message has none.
# (A --configfile is read by Snakemake's command line before any workflow code runs: for it,
# `zeroshot-nas validate-config FILE`, which `make` runs first, gives the line.)
if not workflow.overwrite_configfiles:
    try:
        read_yaml("config.yaml")
    except ConfigError as err:
        raise WorkflowError(str(err)) from None

    configfile: "config.yaml"


report: "workflow/report/workflow.rst"


# common.smk validates the configuration against workflow/schemas/config.schema.yaml (and
# what a schema cannot say), one line naming the key for any error.
include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/score.smk"
include: "workflow/rules/stats.smk"
include: "workflow/rules/search.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/paper.smk"


# Light jobs that need the network (downloads) or take a second: never sent to a cluster
# node, which may have no internet.
localrules:
    all,
    fetch_source,
    sample_archs,


rule all:
    input:
        PLAN.final_targets(),
    default_target: True
