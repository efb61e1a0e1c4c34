# Stage 5: the papers' figures for the report experiment.
# The report groups them by paper (category) under the paper's own numbers (labels); each
# caption is the figure's own text, from the report/<name>.rst the figures step writes.


rule figures:
    input:
        scores=f"results/{PLAN.report}/scores.parquet",
        stats=f"results/{PLAN.report}/stats",
    output:
        report(
            directory(f"results/{PLAN.report}/figures"),
            patterns=["{name}.png"],
            caption="../report/figures.rst",
            category=lambda w: CATALOG.figure_category(w.name),
            subcategory="Paper figures",
            labels=lambda w: CATALOG.figure_labels(w.name),
        ),
    params:
        made_of=PLAN.experiments[PLAN.report].fingerprint,
    log:
        f"logs/{PLAN.report}/figures.log",
    conda:
        ENV
    script:
        STEP
