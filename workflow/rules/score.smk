# Stage 2: sample architectures, score them shard by shard, merge into one tidy table.


rule sample_archs:
    output:
        "results/{exp}/archs.txt",
    params:
        sample=lambda w: experiment(w).sample,
    priority: PLAN.data_priority
    log:
        "logs/{exp}/sample_archs.log",
    conda:
        ENV
    script:
        STEP


rule score_shard:
    input:
        archs="results/{exp}/archs.txt",
        images="data/images/{dataset}.npz",
    output:
        "results/{exp}/scores/{dataset}/seed{seed}/shard-{shard}.parquet",
    params:
        space=lambda w: experiment(w).space,
        protocol=lambda w: experiment(w).protocol,
        proxies=lambda w: experiment(w).proxies,
        definitions=lambda w: experiment(w).definitions,
        shard_size=lambda w: experiment(w).shard_size,
        cache_dir=PLAN.cache_dir,
        cache_numerics=PLAN.cache_numerics,
    threads: job_resources("threads")
    priority: lambda w: PLAN.seed_priority(w.exp, w.seed)
    resources:
        mem_mb=job_resources("mem_mb"),
        runtime=job_resources("runtime"),
        gpu=job_resources("gpu"),
    log:
        "logs/{exp}/score/{dataset}/seed{seed}/shard-{shard}.log",
    benchmark:
        "results/{exp}/benchmarks/score/{dataset}/seed{seed}/shard-{shard}.tsv"
    conda:
        ENV
    script:
        STEP


rule merge_scores:
    input:
        shards=lambda w: PLAN.score_shards(w.exp),
        benchmark=lambda w: experiment(w).benchmark,
    output:
        "results/{exp}/scores.parquet",
    params:
        made_of=lambda w: experiment(w).fingerprint,
    log:
        "logs/{exp}/merge_scores.log",
    conda:
        ENV
    script:
        STEP
