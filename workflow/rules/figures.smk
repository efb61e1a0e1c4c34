# Stage 5: the papers' figures for the report experiment.


rule figures:
    input:
        scores=f"results/{PLAN.report}/scores.parquet",
        stats=f"results/{PLAN.report}/stats",
    output:
        report(
            directory(f"results/{PLAN.report}/figures"),
            patterns=["{name}.png"],
            caption="../report/figures.rst",
            category="Paper figures",
        ),
    log:
        f"logs/{PLAN.report}/figures.log",
    conda:
        ENV
    script:
        STEP
