# Stage 1: verified downloads, the benchmark table, image arrays.


rule fetch_source:
    output:
        f"{PLAN.downloads}/{{relpath}}",
    wildcard_constraints:
        relpath="|".join(re.escape(s.relpath.as_posix()) for s in PLAN.sources.values()),
    params:
        key=lambda w: PLAN.key_of_download(w.relpath),
        downloads=lambda w, output: output[0][: -len(w.relpath) - 1],
        mirror=str(PLAN.mirror) if PLAN.mirror else None,
        registry=str(REPO / config["data"]["sources"]),
    log:
        "logs/fetch/{relpath}.log",
    retries: 2
    conda:
        ENV
    script:
        STEP


rule build_benchmark:
    input:
        **PLAN.group("benchmark"),
    output:
        "data/benchmarks/nb201.parquet",
    params:
        registry=str(REPO / config["data"]["sources"]),
    log:
        "logs/build_benchmark.log",
    conda:
        ENV
    script:
        STEP


# The size space's accuracies, from the user's copy of the official NATS-Bench archive
# (data.nats_sss_archive; validated complete before any job).
rule build_nats_sss_benchmark:
    input:
        PLAN.nats_sss_archive_meta(),
    output:
        "data/benchmarks/nats_sss.parquet",
    params:
        archive=config["data"]["nats_sss_archive"],
    log:
        "logs/build_nats_sss_benchmark.log",
    conda:
        ENV
    script:
        STEP


rule prepare_images:
    input:
        lambda w: PLAN.image_inputs(w.dataset),
    output:
        "data/images/{dataset}.npz",
    params:
        source=lambda w: PLAN.image_source(w.dataset),
    log:
        "logs/prepare_images/{dataset}.log",
    conda:
        ENV
    script:
        STEP
