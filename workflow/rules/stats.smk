# Stage 3: standalone timings (each score alone, its own passes), then statistics.


rule timing_archs:
    input:
        "results/{exp}/archs",
    output:
        "results/{exp}/timing/archs.txt",
    params:
        n=config["timing"]["n_archs"],
    log:
        "logs/{exp}/timing_archs.log",
    conda:
        ENV
    shell:
        "head -n {params.n} {input}/archs.txt > {output} 2> {log}"


rule time_standalone:
    input:
        archs="results/{exp}/timing/archs.txt",
        images="data/images/{dataset}.npz",
    output:
        "results/{exp}/timing/{dataset}.parquet",
    params:
        protocol=lambda w: protocol_args(w.exp),
        proxies=lambda w: ",".join(timing_proxies(w.exp)),
        seed=lambda w: EXPERIMENTS[w.exp]["seeds"][0],
        # Standalone timings get their own cache: a fused result must never stand in for them.
        cache=f"{CACHE_DIR}/standalone",
    threads: 1
    resources:
        mem_mb=lambda w: EXPERIMENTS[w.exp]["mem_mb"],
        runtime=lambda w: EXPERIMENTS[w.exp]["runtime"],
        gpu=lambda w: int(EXPERIMENTS[w.exp]["device"] == "cuda"),
    log:
        "logs/{exp}/timing/{dataset}.log",
    benchmark:
        "results/{exp}/benchmarks/timing/{dataset}.tsv"
    conda:
        ENV
    shell:
        "python -m zeroshot_nas.cli score {params.protocol} --dataset {wildcards.dataset}"
        " --seed {params.seed} --archs {input.archs} --images {input.images}"
        " --proxies {params.proxies} --mode standalone --threads 1"
        " --cache-dir {params.cache} --out {output} > {log} 2>&1"


rule merge_timing:
    input:
        tables=lambda w: expand(
            "results/{exp}/timing/{dataset}.parquet",
            exp=w.exp,
            dataset=EXPERIMENTS[w.exp]["datasets"],
        ),
        benchmark="data/benchmarks/nb201.parquet",
    output:
        "results/{exp}/timing.parquet",
    log:
        "logs/{exp}/merge_timing.log",
    conda:
        ENV
    shell:
        "python -m zeroshot_nas.cli merge-scores --shards {input.tables}"
        " --benchmark {input.benchmark} --out {output} > {log} 2>&1"


rule stats:
    input:
        unpack(stats_inputs),
    output:
        directory("results/{exp}/stats"),
    params:
        args=stats_args,
    log:
        "logs/{exp}/stats.log",
    conda:
        ENV
    shell:
        "python -m zeroshot_nas.cli stats --scores {input.scores} --benchmark {input.benchmark}"
        " {params.args} --out {output} > {log} 2>&1"
