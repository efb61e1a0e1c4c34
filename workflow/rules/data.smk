# Stage 1: verified downloads, the benchmark table, image arrays.


# The mirror (data.mirror, $ZEROSHOT_NAS_MIRROR) is where the bytes come from, not what they
# are: the step reads it from the configuration, untracked, so setting or unsetting it
# re-runs nothing. update(): a rerun (a changed registry entry) never deletes the verified
# file before the new one is in, so an offline rerun loses nothing.
rule fetch_source:
    output:
        update(f"{PLAN.downloads}/{{relpath}}"),
    wildcard_constraints:
        relpath="|".join(re.escape(s.relpath.as_posix()) for s in PLAN.sources.values()),
    params:
        key=lambda w: PLAN.key_of_download(w.relpath),
        digest=lambda w: PLAN.sources[PLAN.key_of_download(w.relpath)].known_hash,
        downloads=lambda w, output: output[0][: -len(w.relpath) - 1],
        registry=str(REPO / config["data"]["sources"]),
    priority: PLAN.data_priority
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


# NAS-Bench-101's tables (docs/nb101.md), built only when an experiment uses them.
rule build_benchmark_nb101:
    input:
        unpack(lambda w: PLAN.table_inputs(w.table)),
    output:
        "data/benchmarks/{table}.parquet",
    wildcard_constraints:
        table="nb101|nb101-naslib",
    params:
        registry=str(REPO / config["data"]["sources"]),
    log:
        "logs/build_benchmark_{table}.log",
    conda:
        ENV
    script:
        STEP


rule prepare_images:
    input:
        lambda w: PLAN.image_inputs(w.dataset),
    output:
        npz="data/images/{dataset}.npz",
        digest="data/images/{dataset}.npz.sha256",
    params:
        source=lambda w: PLAN.image_source(w.dataset),
        # the source files by content: a folder rewritten in place prepares anew
        identity=lambda w: PLAN.image_identity(w.dataset),
        registry=str(REPO / config["data"]["sources"]),
    priority: PLAN.data_priority
    log:
        "logs/prepare_images/{dataset}.log",
    conda:
        ENV
    script:
        STEP
