# Stage 1: verified downloads, the benchmark table, image arrays.


rule fetch_source:
    output:
        f"{DOWNLOADS}/{{relpath}}",
    wildcard_constraints:
        relpath="|".join(
            re.escape(source_path(k)[len(DOWNLOADS) + 1 :]) for k in SOURCES
        ),
    params:
        key=lambda w: next(k for k in SOURCES if source_path(k) == f"{DOWNLOADS}/{w.relpath}"),
        mirror=f"--mirror {MIRROR}" if MIRROR else "",
    log:
        "logs/fetch/{relpath}.log",
    retries: 2
    conda:
        ENV
    shell:
        "{CLI} fetch --key {params.key} --dest {DOWNLOADS} {params.mirror} > {log} 2>&1"


rule build_benchmark:
    input:
        benchmark_sources(),
    output:
        "data/benchmarks/nb201.parquet",
    log:
        "logs/build_benchmark.log",
    conda:
        ENV
    shell:
        "{CLI} build-benchmark --downloads {DOWNLOADS} --out {output} > {log} 2>&1"


def image_input(wildcards):
    source = image_source(config, wildcards.dataset)
    if "sample_dir" in source:
        return f"{source['sample_dir']}/{wildcards.dataset}.npz"
    if source.get("cifar_tarball") == "official":
        return source_path(CIFAR_TARBALLS[wildcards.dataset])
    return []


def image_args(wildcards):
    source = image_source(config, wildcards.dataset)
    kind, value = next(iter(source.items()))
    if kind == "cifar_tarball" and value == "official":
        value = source_path(CIFAR_TARBALLS[wildcards.dataset])
    return f"--{kind.replace('_', '-')} {value}"


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
        "{CLI} prepare-images --dataset {wildcards.dataset} {params.source} --out {output} > {log} 2>&1"
