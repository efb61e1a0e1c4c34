# Stage 2: sample architectures, score them shard by shard, merge into one tidy table.


checkpoint sample_archs:
    output:
        directory("results/{exp}/archs"),
    params:
        space=lambda w: EXPERIMENTS[w.exp]["space"],
        n=lambda w: EXPERIMENTS[w.exp]["n_archs"],
        seed=lambda w: EXPERIMENTS[w.exp]["sample_seed"],
        shard_size=lambda w: EXPERIMENTS[w.exp]["shard_size"],
    log:
        "logs/{exp}/sample_archs.log",
    conda:
        ENV
    shell:
        "python -m zeroshot_nas.cli sample-archs --space {params.space} --n {params.n}"
        " --seed {params.seed} --shard-size {params.shard_size} --out-dir {output} > {log} 2>&1"


rule score_shard:
    input:
        archs="results/{exp}/archs/shard-{shard}.txt",
        images="data/images/{dataset}.npz",
    output:
        "results/{exp}/scores/{dataset}/seed{seed}/shard-{shard}.parquet",
    params:
        protocol=lambda w: protocol_args(w.exp),
        proxies=lambda w: ",".join(experiment_proxies(EXPERIMENTS[w.exp])),
        cache=CACHE_DIR,
    threads: lambda w: EXPERIMENTS[w.exp]["threads"]
    resources:
        mem_mb=lambda w: EXPERIMENTS[w.exp]["mem_mb"],
        runtime=lambda w: EXPERIMENTS[w.exp]["runtime"],
        gpu=lambda w: int(EXPERIMENTS[w.exp]["device"] == "cuda"),
    log:
        "logs/{exp}/score/{dataset}/seed{seed}/shard-{shard}.log",
    benchmark:
        "results/{exp}/benchmarks/score/{dataset}/seed{seed}/shard-{shard}.tsv"
    conda:
        ENV
    shell:
        "python -m zeroshot_nas.cli score {params.protocol} --dataset {wildcards.dataset}"
        " --seed {wildcards.seed} --archs {input.archs} --images {input.images}"
        " --proxies {params.proxies} --mode fused --threads {threads}"
        " --cache-dir {params.cache} --out {output} > {log} 2>&1"


rule merge_scores:
    input:
        shards=shard_tables,
        benchmark="data/benchmarks/nb201.parquet",
    output:
        "results/{exp}/scores.parquet",
    log:
        "logs/{exp}/merge_scores.log",
    conda:
        ENV
    shell:
        "python -m zeroshot_nas.cli merge-scores --shards {input.shards}"
        " --benchmark {input.benchmark} --out {output} > {log} 2>&1"
