# Stage 6: generated LaTeX tables and the paper PDF (when latexmk is installed).
SEARCH_TABLES = f"results/{REPORT}/search/tables" if config["search"]["enabled"] else None


rule search_tables:
    input:
        runs=lambda w: expand(
            "results/{exp}/search/runs/{algorithm}/{dataset}.parquet",
            exp=REPORT,
            algorithm=config["search"]["algorithms"],
            dataset=EXPERIMENTS[REPORT]["datasets"],
        ),
        benchmark="data/benchmarks/nb201.parquet",
    output:
        tables=directory(f"results/{REPORT}/search/tables"),
        figures=directory("figures/search"),
        include="paper/generated/search_tables.tex",
    log:
        "logs/search_tables.log",
    conda:
        ENV
    shell:
        "{CLI} search-tables {input.runs} --benchmark nb201={input.benchmark}"
        " --out {output.tables} --figures {output.figures} --paper-dir paper/generated"
        " > {log} 2>&1"


rule paper_tables:
    input:
        stats=f"results/{REPORT}/stats",
        figures="figures/paper",
        search=["paper/generated/search_tables.tex"] if SEARCH_TABLES else [],
    output:
        "paper/generated/run_macros.tex",
    log:
        "logs/paper_tables.log",
    conda:
        ENV
    shell:
        "{CLI} paper-tables --stats {input.stats} --figures {input.figures}"
        " --out paper/generated > {log} 2>&1"


rule paper_pdf:
    input:
        "paper/generated/run_macros.tex",
        "paper/main.tex",
    output:
        "paper/build/status.txt",
    log:
        "logs/paper_pdf.log",
    conda:
        ENV
    shell:
        "{CLI} build-paper --paper-dir paper --out-dir paper/build > {log} 2>&1"
        " && (test -f paper/build/main.pdf && echo 'built paper/build/main.pdf'"
        " || echo 'skipped: latexmk not found') > {output}"
