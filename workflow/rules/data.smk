# Stage 1: verified downloads, the benchmark table, image arrays.


rule fetch_source:
    output:
        f"{DOWNLOADS}/{{relpath}}",
    wildcard_constraints:
        relpath="|".join(re.escape(source_path(k)[len(DOWNLOADS) + 1 :]) for k in SOURCES),
    params:
        key=fetch_key,
        dest=lambda w, output: output[0][: -len(w.relpath) - 1],
        mirror=f"--mirror {MIRROR}" if MIRROR else "",
    log:
        "logs/fetch/{relpath}.log",
    retries: 2
    conda:
        ENV
    shell:
        "python -m zeroshot_nas.cli fetch --key {params.key} --dest {params.dest} {params.mirror}"
        " > {log} 2>&1"


rule build_benchmark:
    input:
        benchmark_sources(),
    output:
        "data/benchmarks/nb201.parquet",
    params:
        downloads=lambda w, input: download_root(input[0]),
    log:
        "logs/build_benchmark.log",
    conda:
        ENV
    shell:
        "python -m zeroshot_nas.cli build-benchmark --downloads {params.downloads}"
        " --out {output} > {log} 2>&1"


rule prepare_images:
    input:
        image_input,
    output:
        "data/images/{dataset}.npz",
    params:
        source=image_args,
    log:
        "logs/prepare_images/{dataset}.log",
    conda:
        ENV
    shell:
        "python -m zeroshot_nas.cli prepare-images --dataset {wildcards.dataset} {params.source}"
        " --out {output} > {log} 2>&1"
