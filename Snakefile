# zeroshot-nas: training-free NAS, from benchmark download to paper.
# Thin on purpose: configuration and validation, the stage files, and the final targets.
# Every rule runs workflow/scripts/step.py, i.e. the function of its name in
# zeroshot_nas.pipeline.steps; the logic lives in src/zeroshot_nas.
from snakemake.utils import min_version, validate

min_version("9.0")


# The embedded default; a --configfile (e.g. a preset) replaces it instead of merging into it,
# so a preset never runs the default experiment too. --config values still merge on top.
if not workflow.overwrite_configfiles:

    configfile: "config.yaml"


report: "workflow/report/workflow.rst"


validate(config, "workflow/schemas/config.schema.yaml")


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
