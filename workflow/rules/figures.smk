# Stage 5: the papers' figures for the report experiment, into figures/.


rule figures:
    input:
        scores=f"results/{REPORT}/scores.parquet",
        stats=f"results/{REPORT}/stats",
    output:
        report(
            directory("figures/paper"),
            patterns=["{name}.png"],
            caption="../report/figures.rst",
            category="Paper figures",
        ),
    log:
        "logs/figures.log",
    conda:
        ENV
    shell:
        "python -m zeroshot_nas.cli figures --scores {input.scores} --stats {input.stats}"
        " --out {output} > {log} 2>&1"
