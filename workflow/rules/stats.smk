# Stage 3: standalone timings (each score alone, its own passes), then statistics.


rule time_standalone:
    input:
        archs=rules.sample_archs.output[0],
        images=rules.prepare_images.output[0],
    output:
        "results/{exp}/timing/{dataset}.parquet",
    params:
        space=lambda w: experiment(w).space,
        protocol=lambda w: experiment(w).protocol,
        proxies=lambda w: PLAN.timing_proxies(w.exp),
        definitions=lambda w: PLAN.scoring_definitions(PLAN.timing_proxies(w.exp)),
        n_archs=config["timing"]["n_archs"],
        seed=lambda w: experiment(w).seeds_of(w.dataset)[0],
        cache_dir=PLAN.cache_dir,
    threads: job_resources("threads")
    resources:
        mem_mb=job_resources("mem_mb"),
        runtime=job_resources("runtime"),
        gpu=job_resources("gpu"),
    log:
        "logs/{exp}/timing/{dataset}.log",
    benchmark:
        "results/{exp}/benchmarks/timing/{dataset}.tsv"
    conda:
        ENV
    script:
        STEP


rule merge_timing:
    input:
        shards=lambda w: PLAN.timing_tables(w.exp),
        benchmark=lambda w: experiment(w).benchmark,
    output:
        "results/{exp}/timing.parquet",
    params:
        made_of=lambda w: experiment(w).fingerprint,
    log:
        "logs/{exp}/merge_timing.log",
    conda:
        ENV
    script:
        STEP


rule stats:
    input:
        unpack(lambda w: PLAN.stats_inputs(w.exp)),
    output:
        directory("results/{exp}/stats"),
    params:
        stats=config["stats"],
        made_of=lambda w: experiment(w).fingerprint,
    log:
        "logs/{exp}/stats.log",
    conda:
        ENV
    script:
        STEP
