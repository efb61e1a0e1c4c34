# Stage 4: searches over the cached scores and the benchmark, and their tables.
SEARCH = config["search"]
TRAIN_BASED = {"random_train", "rea"}


def search_args(wildcards):
    e = EXPERIMENTS[wildcards.exp]
    s = SEARCH
    args = [
        f"--algorithm {wildcards.algorithm} --space {e['space']} --dataset {wildcards.dataset}",
        f"--runs {s['runs']} --seed {s['seed']} --score-seed {e['seeds'][0]} --pool {s['pool']}",
        f"--budget {s['budget']} --sample-sizes {' '.join(map(str, s['sample_sizes']))}",
        f"--random-scores {' '.join(s['random_scores'])}",
        f"--rank-scores {' '.join(config['stats']['rank_combination'])}",
        f"--train-seconds {s['train_budget_seconds']} --train-evals {s['train_evals']}",
        f"--area-sample {s['area_sample']} --area-scores {' '.join(s['area_scores'])}",
    ]
    if s["live"] and wildcards.algorithm not in TRAIN_BASED:
        args.append(
            f"--live --images data/images/{wildcards.dataset}.npz --cache-dir {CACHE_DIR}"
            f" --batch-size {e['batch_size']} --bn-mode {e['bn_mode']} --dtype {e['dtype']}"
            f" --init {e['init']} --device {e['device']} --threads {e['threads']}"
        )
    return " ".join(args)


rule search:
    input:
        scores="results/{exp}/scores.parquet",
        benchmark="data/benchmarks/nb201.parquet",
        images="data/images/{dataset}.npz",
    output:
        "results/{exp}/search/runs/{algorithm}/{dataset}.parquet",
    params:
        args=search_args,
    threads: lambda w: EXPERIMENTS[w.exp]["threads"]
    resources:
        mem_mb=lambda w: EXPERIMENTS[w.exp]["mem_mb"],
        runtime=lambda w: EXPERIMENTS[w.exp]["runtime"],
        gpu=lambda w: int(EXPERIMENTS[w.exp]["device"] == "cuda"),
    log:
        "logs/{exp}/search/{algorithm}/{dataset}.log",
    benchmark:
        "results/{exp}/benchmarks/search/{algorithm}/{dataset}.tsv"
    conda:
        ENV
    shell:
        "{CLI} search {params.args} --scores {input.scores} --benchmark {input.benchmark}"
        " --out {output} > {log} 2>&1"
