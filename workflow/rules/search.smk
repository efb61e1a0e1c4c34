# Stage 4: searches over the cached scores and the benchmark.


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
        "python -m zeroshot_nas.cli search {params.args} --scores {input.scores}"
        " --benchmark {input.benchmark} --out {output} > {log} 2>&1"
