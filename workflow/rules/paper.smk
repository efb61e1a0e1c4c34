# Stage 6: search tables, generated LaTeX tables and the paper PDF (when latexmk exists).


rule search_tables:
    input:
        runs=search_runs,
        benchmark="data/benchmarks/nb201.parquet",
    output:
        tables=directory(f"results/{REPORT}/search/tables"),
        figures=report(
            directory("figures/search"),
            patterns=["{name}.png"],
            caption="../report/search.rst",
            category="Search",
        ),
        include="paper/generated/search_tables.tex",
    log:
        "logs/search_tables.log",
    conda:
        ENV
    shell:
        "python -m zeroshot_nas.cli search-tables {input.runs} --benchmark nb201={input.benchmark}"
        " --out {output.tables} --figures {output.figures} --paper-dir paper/generated"
        " > {log} 2>&1"


rule paper_tables:
    input:
        stats=f"results/{REPORT}/stats",
        figures="figures/paper",
        search=["paper/generated/search_tables.tex"] if config["search"]["enabled"] else [],
    output:
        "paper/generated/run_macros.tex",
    log:
        "logs/paper_tables.log",
    conda:
        ENV
    shell:
        "python -m zeroshot_nas.cli paper-tables --stats {input.stats} --figures {input.figures}"
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
        "python -m zeroshot_nas.cli build-paper --paper-dir paper --out-dir paper/build > {log} 2>&1"
        " && (test -f paper/build/main.pdf && echo 'built paper/build/main.pdf'"
        " || echo 'skipped: latexmk not found') > {output}"
