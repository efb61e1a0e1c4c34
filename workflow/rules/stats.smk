# Stage 3: standalone timings, then statistics of the merged table.
TIMING = config["timing"]
STATS = config["stats"]


rule timing_archs:
    input:
        "results/{exp}/archs",
    output:
        "results/{exp}/timing/archs.txt",
    params:
        n=TIMING["n_archs"],
    shell:
        "head -n {params.n} {input}/archs.txt > {output}"


def timing_proxies(exp):
    if TIMING["proxies"] == "all":
        return experiment_proxies(EXPERIMENTS[exp])
    return TIMING["proxies"]


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
        "{CLI} score {params.protocol} --dataset {wildcards.dataset} --seed {params.seed}"
        " --archs {input.archs} --images {input.images} --proxies {params.proxies}"
        " --mode standalone --threads 1 --cache-dir {params.cache} --out {output} > {log} 2>&1"


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
        "{CLI} merge-scores --shards {input.tables} --benchmark {input.benchmark}"
        " --out {output} > {log} 2>&1"


def stats_inputs(wildcards):
    inputs = {
        "scores": f"results/{wildcards.exp}/scores.parquet",
        "benchmark": "data/benchmarks/nb201.parquet",
    }
    if TIMING["n_archs"] > 0:
        inputs["timings"] = f"results/{wildcards.exp}/timing.parquet"
    return inputs


rule stats:
    input:
        unpack(stats_inputs),
    output:
        directory("results/{exp}/stats"),
    params:
        timings=lambda w, input: f"--timings {input.timings}" if "timings" in input.keys() else "",
        space=lambda w: EXPERIMENTS[w.exp]["space"],
        rank=" ".join(STATS["rank_combination"]),
    log:
        "logs/{exp}/stats.log",
    conda:
        ENV
    shell:
        "{CLI} stats --scores {input.scores} --benchmark {input.benchmark} {params.timings}"
        " --space {params.space} --bootstrap {STATS[bootstrap]} --best-of-n {STATS[best_of_n]}"
        " --best-of-runs {STATS[best_of_runs]} --rank-combination {params.rank}"
        " --seed {STATS[seed]} --out {output} > {log} 2>&1"
