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
        "{CLI} sample-archs --space {params.space} --n {params.n} --seed {params.seed}"
        " --shard-size {params.shard_size} --out-dir {output} > {log} 2>&1"


def protocol_args(exp):
    e = EXPERIMENTS[exp]
    return (
        f"--space {e['space']} --batch-size {e['batch_size']} --bn-mode {e['bn_mode']}"
        f" --dtype {e['dtype']} --init {e['init']} --device {e['device']}"
        f" --ntk-batch-size {e['ntk_batch_size']}"
    )


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
        "{CLI} score {params.protocol} --dataset {wildcards.dataset} --seed {wildcards.seed}"
        " --archs {input.archs} --images {input.images} --proxies {params.proxies}"
        " --mode fused --threads {threads} --cache-dir {params.cache} --out {output}"
        " > {log} 2>&1"


def shard_tables(wildcards):
    archs_dir = checkpoints.sample_archs.get(exp=wildcards.exp).output[0]
    shards = sorted(glob_wildcards(os.path.join(archs_dir, "shard-{shard}.txt")).shard)
    e = EXPERIMENTS[wildcards.exp]
    return expand(
        "results/{exp}/scores/{dataset}/seed{seed}/shard-{shard}.parquet",
        exp=wildcards.exp,
        dataset=e["datasets"],
        seed=e["seeds"],
        shard=shards,
    )


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
        "{CLI} merge-scores --shards {input.shards} --benchmark {input.benchmark}"
        " --out {output} > {log} 2>&1"
