# Every rule runs this script: the step of the same name in zeroshot_nas.pipeline.steps,
# with the rule's declared input, output, params, threads and log (the `snakemake` object).
from zeroshot_nas.pipeline.steps import run

run(snakemake)  # noqa: F821 - injected by Snakemake
