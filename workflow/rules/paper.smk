# Stage 6: the paper's generated tables, sections and figure snippets, and its PDF (when
# latexmk exists). The report carries the tables (CSV, grouped by paper), the statistics
# the tables were made from, and the PDF.


rule paper_tables:
    input:
        stats=report(
            f"results/{PLAN.report}/stats",
            patterns=["{name}.csv"],
            caption="../report/stats.rst",
            category=CATALOG.category(CATALOG.RUN),
            subcategory="Statistics (CSV)",
            labels=lambda w: {"item": f"Statistics: {w.name}"},
        ),
        figures=rules.figures.output[0],
        search=rules.search_tables.output.tables if config["search"]["enabled"] else [],
        images=expand("data/images/{dataset}.npz",
                      dataset=PLAN.experiments[PLAN.report].datasets),
        # the NAS-Bench-101 section's statistics (its experiments', not only the report's)
        space_stats=list(PLAN.space_stats().values()),
        # the report space's other experiments (RB Table 1 rows the report does not score)
        sample_stats=list(PLAN.sample_stats().values()),
    output:
        report(
            directory(f"results/{PLAN.report}/paper/generated"),
            patterns=["{name}.csv"],
            caption="../report/tables.rst",
            category=lambda w: CATALOG.table_category(w.name),
            subcategory="Tables (CSV)",
            labels=lambda w: CATALOG.table_labels(w.name),
        ),
    params:
        # the report experiment's settings the protocol section states (tracked: a changed
        # setting rewrites the document)
        run=PLAN.paper_run_settings(),
        made_of=PLAN.experiments[PLAN.report].fingerprint,
        space_stats=PLAN.space_stats(),
        space_made_of=PLAN.space_stats_made_of(),
        sample_stats=PLAN.sample_stats(),
        sample_made_of=PLAN.sample_stats_made_of(),
    log:
        f"logs/{PLAN.report}/paper_tables.log",
    conda:
        ENV
    script:
        STEP


rule paper_pdf:
    input:
        # the repository's, wherever the run's working directory is
        main=str(REPO / "paper" / "main.tex"),
        generated=rules.paper_tables.output[0],
    output:
        pdf=report(
            f"results/{PLAN.report}/paper/main.pdf",
            caption="../report/paper.rst",
            category=CATALOG.category(CATALOG.RUN),
            subcategory="Paper document (PDF)",
            labels={"item": "The paper document"},
        ),
    log:
        f"logs/{PLAN.report}/paper_pdf.log",
    conda:
        ENV
    script:
        STEP
