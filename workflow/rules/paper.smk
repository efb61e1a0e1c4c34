# Stage 6: the paper's generated tables and figure snippets, and its PDF (when latexmk exists).


rule paper_tables:
    input:
        stats=f"results/{PLAN.report}/stats",
        figures=rules.figures.output[0],
        search=rules.search_tables.output.tables if config["search"]["enabled"] else [],
    output:
        directory(f"results/{PLAN.report}/paper/generated"),
    log:
        f"logs/{PLAN.report}/paper_tables.log",
    conda:
        ENV
    script:
        STEP


rule paper_pdf:
    input:
        main="paper/main.tex",
        generated=rules.paper_tables.output[0],
    output:
        pdf=f"results/{PLAN.report}/paper/main.pdf",
    log:
        f"logs/{PLAN.report}/paper_pdf.log",
    conda:
        ENV
    script:
        STEP
