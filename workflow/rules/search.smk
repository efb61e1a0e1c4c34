# Stage 4: searches over the cached scores and the benchmark.


rule search:
    input:
        scores=rules.merge_scores.output[0],
        benchmark=lambda w: experiment(w).benchmark,
        images=rules.prepare_images.output[0],
    output:
        "results/{exp}/search/runs/{algorithm}/{dataset}.parquet",
    params:
        space=lambda w: experiment(w).space,
        search=config["search"],
        rank_combination=config["stats"]["rank_combination"],
        live=lambda w: PLAN.search_live(w.algorithm),
        protocol=lambda w: experiment(w).protocol,
        score_seeds=lambda w: list(experiment(w).seeds_of(w.dataset)),
        seed_aggregation=config["stats"]["seed_aggregation"],
        cache_dir=PLAN.cache_dir,
        definitions=PLAN.search_definitions(),
        made_of=lambda w: experiment(w).fingerprint,
    threads: job_resources("threads")
    resources:
        mem_mb=job_resources("mem_mb"),
        runtime=job_resources("runtime"),
        gpu=job_resources("gpu"),
    log:
        "logs/{exp}/search/{algorithm}/{dataset}.log",
    benchmark:
        "results/{exp}/benchmarks/search/{algorithm}/{dataset}.tsv"
    conda:
        ENV
    script:
        STEP


rule search_tables:
    input:
        runs=PLAN.search_runs(),
        benchmark=PLAN.experiments[PLAN.report].benchmark,
    output:
        tables=directory(f"results/{PLAN.report}/search/tables"),
        figures=report(
            directory(f"results/{PLAN.report}/search/figures"),
            patterns=["{name}.png"],
            caption="../report/search.rst",
            category=CATALOG.category("rb"),
            subcategory="Search",
        ),
    params:
        space=PLAN.experiments[PLAN.report].space,
        made_of=PLAN.experiments[PLAN.report].fingerprint,
    log:
        f"logs/{PLAN.report}/search_tables.log",
    conda:
        ENV
    script:
        STEP
