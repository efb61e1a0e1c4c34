# Shared helpers: validated configuration, how rules call the package, target lists.
import os
import re
import sys
from pathlib import Path

from snakemake.settings.types import DeploymentMethod

REPO = Path(workflow.basedir)
sys.path.insert(0, str(REPO / "src"))

from zeroshot_nas.data.sources import load_registry  # noqa: E402
from zeroshot_nas.config import (  # noqa: E402
    ConfigError,
    experiment_proxies,
    image_source,
    report_experiment,
    validate_config,
)

try:
    config = validate_config(config, REPO / "workflow" / "schemas" / "config.schema.yaml")
except ConfigError as err:
    raise WorkflowError(f"invalid configuration: {err}") from None

ENV = "../../envs/zeroshot-nas.yaml"
# Jobs run `python -m zeroshot_nas.cli`: the package is found through PYTHONPATH (no install
# needed in a conda env), and `python` is the env's one under --use-conda, or otherwise the
# interpreter running Snakemake (the project's venv), never an unrelated one on PATH.
# Cluster jobs re-run this file, so they get the same environment.
os.environ.update(
    PYTHONPATH=os.pathsep.join(p for p in (str(REPO / "src"), os.environ.get("PYTHONPATH")) if p)
)
if DeploymentMethod.CONDA not in workflow.deployment_settings.deployment_method:
    os.environ.update(
        PATH=os.pathsep.join((str(Path(sys.executable).parent), os.environ.get("PATH", "")))
    )

DOWNLOADS = config["data"]["downloads"]
MIRROR = os.environ.get("ZEROSHOT_NAS_MIRROR") or config["data"]["mirror"]
CACHE_DIR = config["cache_dir"]
EXPERIMENTS = config["experiments"]
REPORT = report_experiment(config)

SOURCES = load_registry(REPO / config["data"]["sources"])
CIFAR_TARBALLS = {"cifar10": "cifar10-python", "cifar100": "cifar100-python"}


def source_path(key):
    """Where the verified download of a registry entry lands."""
    return f"{DOWNLOADS}/{SOURCES[key].relpath.as_posix()}"


def group_sources(group):
    """Where the verified downloads of one registry group land."""
    return [source_path(k) for k, s in SOURCES.items() if s.group == group]


def benchmark_sources():
    """The files the NB201 benchmark table is built from."""
    return group_sources("benchmark")


def all_datasets():
    return sorted({d for e in EXPERIMENTS.values() for d in e["datasets"]})


def final_targets():
    targets = ["data/benchmarks/nb201.parquet"]
    targets += [f"results/{name}/stats" for name in EXPERIMENTS]
    targets += ["figures/paper", "paper/generated/run_macros.tex"]
    if config["search"]["enabled"]:
        targets.append("paper/generated/search_tables.tex")
    if config["paper"]["build_pdf"]:
        targets.append("paper/build/status.txt")
    return targets


# Stage 1: data ------------------------------------------------------------------------


def fetch_key(wildcards):
    """The registry key whose download lands at ``relpath``."""
    return next(k for k in SOURCES if source_path(k) == f"{DOWNLOADS}/{wildcards.relpath}")


def download_root(downloaded_file):
    """The download folder, inferred from a downloaded file's path (no hard-coded prefix)."""
    for key in SOURCES:
        rel = SOURCES[key].relpath.as_posix()
        if downloaded_file.endswith(rel):
            return downloaded_file[: -len(rel) - 1]
    raise ValueError(f"{downloaded_file} is not a registered download")


def image_input(wildcards):
    source = image_source(config, wildcards.dataset)
    if "freerea_batches" in source:
        return group_sources(f"images-{wildcards.dataset}")
    if "sample_dir" in source:
        return f"{source['sample_dir']}/{wildcards.dataset}.npz"
    if source.get("cifar_tarball") == "official":
        return source_path(CIFAR_TARBALLS[wildcards.dataset])
    return []


def image_args(wildcards):
    source = image_source(config, wildcards.dataset)
    kind, value = next(iter(source.items()))
    if kind == "freerea_batches":
        return "--freerea-batches " + " ".join(group_sources(f"images-{wildcards.dataset}"))
    if kind == "cifar_tarball" and value == "official":
        value = source_path(CIFAR_TARBALLS[wildcards.dataset])
    return f"--{kind.replace('_', '-')} {value}"


# Stage 2: scoring ---------------------------------------------------------------------


def protocol_args(exp):
    e = EXPERIMENTS[exp]
    return (
        f"--space {e['space']} --batch-size {e['batch_size']} --bn-mode {e['bn_mode']}"
        f" --dtype {e['dtype']} --init {e['init']} --device {e['device']}"
        f" --ntk-batch-size {e['ntk_batch_size']}"
    )


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


# Stage 3: timing and statistics -------------------------------------------------------


def timing_proxies(exp):
    if config["timing"]["proxies"] == "all":
        return experiment_proxies(EXPERIMENTS[exp])
    return config["timing"]["proxies"]


def stats_inputs(wildcards):
    inputs = {
        "scores": f"results/{wildcards.exp}/scores.parquet",
        "benchmark": "data/benchmarks/nb201.parquet",
    }
    if config["timing"]["n_archs"] > 0:
        inputs["timings"] = f"results/{wildcards.exp}/timing.parquet"
    return inputs


def stats_args(wildcards, input):
    s = config["stats"]
    args = (
        f"--space {EXPERIMENTS[wildcards.exp]['space']} --bootstrap {s['bootstrap']}"
        f" --best-of-n {s['best_of_n']} --best-of-runs {s['best_of_runs']}"
        f" --rank-combination {' '.join(s['rank_combination'])} --seed {s['seed']}"
    )
    if "timings" in input.keys():
        args += f" --timings {input.timings}"
    return args


# Stage 4: search ----------------------------------------------------------------------
TRAIN_BASED = {"random_train", "rea"}


def search_args(wildcards):
    e = EXPERIMENTS[wildcards.exp]
    s = config["search"]
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


def search_runs(wildcards):
    return expand(
        "results/{exp}/search/runs/{algorithm}/{dataset}.parquet",
        exp=REPORT,
        algorithm=config["search"]["algorithms"],
        dataset=EXPERIMENTS[REPORT]["datasets"],
    )
