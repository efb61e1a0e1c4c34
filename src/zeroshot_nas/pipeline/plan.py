"""Every name the workflow derives from its validated configuration, computed once.

The rule files read only this: file paths of downloads and image inputs, the shards of each
experiment, the settings each rule passes to its step (as tracked ``params``), and the
final targets. Nothing here runs a job.

One notion of "up to date": whatever makes the score cache compute a value anew (the
protocol, the exact images, each score's definition version, the engine version, the torch
build) is a tracked parameter of the jobs that score, and every rule downstream of scoring
tracks the experiment's :attr:`ExperimentPlan.fingerprint` of all of it. So a change reaches
every output made from the old state even when an intermediate file is gone (Snakemake
records a failed job's parameters and then deletes its outputs, and rebuilds a missing
intermediate only for a consumer that must run). The files a user reads (merged scores,
timings, prepared images) are final targets, so a missing one is made again.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import math
import shutil
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from zeroshot_nas.config import (
    FREEREA,
    experiment_proxies,
    image_source,
    report_experiment,
    space_size,
)
from zeroshot_nas.data.digests import folder_digests, set_aside_if_changed
from zeroshot_nas.data.images import PREPARED_VERSION, imagenet16_files
from zeroshot_nas.data.sources import Source, load_registry, resolve_mirror
from zeroshot_nas.proxies.protocol import Protocol
from zeroshot_nas.proxies.registry import REGISTRY, definitions, discover
from zeroshot_nas.spaces.sampling import UNIFORM

# The protocol fields of an experiment (everything a cached score depends on but the seed),
# read from the Protocol itself so that a new field reaches the scoring jobs.
PROTOCOL_KEYS = tuple(f.name for f in fields(Protocol) if f.name != "seed")
TRAIN_BASED = {"random_train", "rea", "reinforce", "bohb"}
NB201_TABLE = "data/benchmarks/nb201.parquet"
NATS_SSS_TABLE = "data/benchmarks/nats_sss.parquet"
# Registry groups of the files each benchmark table is built from (data/sources.yaml); the
# size space's comes from the user's archive, not from downloads.
TABLE_GROUPS = {"nb201": "benchmark", "nb101": "benchmark-nb101",
                "nb101-naslib": "benchmark-nb101-naslib"}


def torch_version() -> str:
    """The installed torch build, read without importing torch (its kernels decide the last
    bits of every score)."""
    try:
        return importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def fingerprint(settings: Any) -> str:
    """A short, stable digest of JSON-able settings."""
    text = json.dumps(settings, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def sample_settings(e: dict) -> dict[str, Any]:
    """What an experiment's architecture sample depends on (``spaces.sampling``): on nb101
    also the pinned table it is drawn from."""
    sample = {"space": e["space"], "n_archs": e["n_archs"], "seed": e["sample_seed"]}
    if e["space"] == "nb101":
        sample["table"] = e["nb101_table"]
    # only when not the default, so that the runs made before the option stay up to date
    if e.get("sampler", UNIFORM) != UNIFORM:
        sample["sampler"] = e["sampler"]
    return sample


def seeds_of(e: dict, dataset: str) -> list[int]:
    """The scoring seeds of one data set of a configured experiment: its ``dataset_seeds``
    entry, otherwise the experiment's ``seeds``."""
    return list(e.get("dataset_seeds", {}).get(dataset, e["seeds"]))


@dataclass(frozen=True)
class ExperimentPlan:
    """One experiment: its sample, shards and the settings of its scoring jobs."""

    name: str
    space: str
    datasets: tuple[str, ...]
    seeds: tuple[int, ...]
    n_archs: int
    shard_size: int
    proxies: tuple[str, ...]
    protocol: dict[str, Any]
    sample: dict[str, Any]
    resources: dict[str, Any]
    # what the values are computed with, by code: score and engine versions, the torch build
    definitions: dict[str, Any]
    # digest of everything this experiment's scores and timings are made from (settings,
    # images, definitions): a tracked parameter of every rule downstream of scoring
    fingerprint: str
    # the benchmark table its scores are joined with (Plan.benchmark_table)
    benchmark: str = NB201_TABLE
    # the data sets scored with other seeds than ``seeds`` (the config's dataset_seeds)
    dataset_seeds: dict[str, tuple[int, ...]] = field(default_factory=dict)

    def seeds_of(self, dataset: str) -> tuple[int, ...]:
        return self.dataset_seeds.get(dataset, self.seeds)

    @property
    def all_seeds(self) -> tuple[int, ...]:
        """Every seed some data set is scored with, ``seeds`` first, in the config's order."""
        extra = [s for d in self.datasets for s in self.seeds_of(d) if s not in self.seeds]
        return self.seeds + tuple(dict.fromkeys(extra))

    @property
    def shards(self) -> list[str]:
        return [f"{i:04d}" for i in range(math.ceil(self.n_archs / self.shard_size))]


class Plan:
    """The derived names of one validated configuration (see the module docstring)."""

    def __init__(self, config: dict, repo: Path) -> None:
        self.config = config
        self.downloads = config["data"]["downloads"]
        self.mirror = resolve_mirror(config["data"]["mirror"])
        self.cache_dir = config["cache_dir"]
        self.cache_numerics = config["cache_numerics"]
        self.sources: dict[str, Source] = load_registry(repo / config["data"]["sources"])
        self.report = report_experiment(config)
        self._identities: dict[str, dict[str, Any]] = {}
        self.experiments = {name: self._experiment(name, e)
                            for name, e in config["experiments"].items()}
        self.latexmk = shutil.which("latexmk")

    def _experiment(self, name: str, e: dict) -> ExperimentPlan:
        n = space_size(e) if e["n_archs"] == "all" else int(e["n_archs"])
        proxies = tuple(experiment_proxies(e))
        timed = self.config["timing"]["proxies"]
        made_of = {
            "space": e["space"], "datasets": e["datasets"], "seeds": e["seeds"], "n": n,
            "sample_seed": e["sample_seed"], "protocol": {k: e[k] for k in PROTOCOL_KEYS},
            "definitions": self.scoring_definitions(
                proxies if timed == "all" else {*proxies, *timed}),
            "images": {d: self.image_identity(d) for d in e["datasets"]},
            "timing": self.config["timing"],
        }
        if e["space"] == "nb101":
            made_of["nb101_table"] = e["nb101_table"]
        if e["sampler"] != UNIFORM:
            made_of["sampler"] = e["sampler"]
        if e["dataset_seeds"]:  # only when given: earlier runs stay up to date
            made_of["dataset_seeds"] = e["dataset_seeds"]
        return ExperimentPlan(
            name=name,
            space=e["space"],
            datasets=tuple(e["datasets"]),
            seeds=tuple(e["seeds"]),
            n_archs=n,
            shard_size=e["shard_size"],
            proxies=proxies,
            protocol=made_of["protocol"],
            sample=sample_settings(e),
            resources={"threads": e["threads"], "mem_mb": e["mem_mb"], "runtime": e["runtime"],
                       "gpu": int(e["device"] == "cuda")},
            definitions=self.scoring_definitions(proxies),
            fingerprint=fingerprint(made_of),
            benchmark=self.benchmark_table(e),
            dataset_seeds={d: tuple(s) for d, s in e["dataset_seeds"].items()},
        )

    @staticmethod
    def scoring_definitions(names) -> dict[str, Any]:
        """Tracked with every scoring job: what the cache checks besides the protocol and
        images (each score's definition, the engine's version) and the torch build."""
        return {"scores": definitions(sorted(names)), "torch": torch_version()}

    def search_definitions(self) -> dict[str, Any]:
        """The definitions of every score a search may compute live (any registered one)."""
        discover()
        return self.scoring_definitions(REGISTRY)

    # ------------------------------------------------------------------- data
    def source_path(self, key: str) -> str:
        """Where the verified download of a registry entry lands."""
        return f"{self.downloads}/{self.sources[key].relpath.as_posix()}"

    def group(self, group: str) -> dict[str, str]:
        """Registry key -> download path of every file of one group."""
        return {k: self.source_path(k) for k, s in self.sources.items() if s.group == group}

    def benchmark_tables(self) -> list[str]:
        """Every benchmark table the run builds: those the experiments join their scores
        with, and NB201's for every run but a NAS-Bench-101-only one."""
        tables = [e.benchmark for e in self.experiments.values()]
        if any(e.space != "nb101" for e in self.experiments.values()):
            tables.insert(0, NB201_TABLE)
        return list(dict.fromkeys(tables))

    def table_inputs(self, table: str) -> dict[str, str]:
        """Registry key -> download path of the files the benchmark table named ``table``
        (its file's stem) is built from; none for the size space's (the user's archive)."""
        group = TABLE_GROUPS.get(table)
        return self.group(group) if group else {}

    def needed_sources(self) -> list[str]:
        """Registry keys the configured run reads: its benchmark tables' files, the image
        files (and FreeREA's score files when stats.freerea_check is on)."""
        keys = [k for path in self.benchmark_tables()
                for k in self.table_inputs(Path(path).stem)]
        for dataset in self.datasets():
            keys += list(self.image_files(dataset))
        keys += list(self.freerea_files())
        return list(dict.fromkeys(keys))

    def freerea_files(self) -> dict[str, str]:
        """FreeREA's per-architecture score files (registry key -> download path) the
        report experiment's statistics compare with; none unless stats.freerea_check."""
        if not self.config["stats"]["freerea_check"]:
            return {}
        from zeroshot_nas.data.freerea_scores import GROUP

        return self.group(GROUP)

    def key_of_download(self, relpath: str) -> str:
        for key, source in self.sources.items():
            if source.relpath.as_posix() == relpath:
                return key
        raise ValueError(f"{relpath} is not a registered download")

    def benchmark_table(self, e: dict) -> str:
        """The benchmark table holding an experiment's accuracies: its NB101 table, the size
        space's from the user's NATS archive, else NB201's from the public files. Without the
        archive a size-space experiment reads the NB201 table, which has none of its
        architectures (NaN)."""
        if e["space"] == "nb101":
            return "data/benchmarks/" + ("nb101" if e["nb101_table"] == "mlfe" else
                                         "nb101-naslib") + ".parquet"
        if e["space"] == "nats_sss" and self.config["data"]["nats_sss_archive"]:
            return NATS_SSS_TABLE
        return NB201_TABLE

    def nats_sss_archive_meta(self) -> list[str]:
        """The archive file the size-space conversion tracks (none when not configured)."""
        archive = self.config["data"]["nats_sss_archive"]
        return [str(Path(archive) / "meta.pickle.pbz2")] if archive else []

    def datasets(self) -> list[str]:
        return sorted({d for e in self.experiments.values() for d in e.datasets})

    def image_source(self, dataset: str) -> dict[str, str]:
        return image_source(self.config, dataset)

    def image_files(self, dataset: str) -> dict[str, str]:
        """The downloads an image source reads (registry key -> path); none for user files."""
        source = self.image_source(dataset)
        if source == FREEREA:
            return self.group(f"images-{dataset}")
        if source.get("cifar_tarball") == "official":
            key = f"{dataset}-python"
            return {key: self.source_path(key)}
        return {}

    def image_inputs(self, dataset: str) -> list[str]:
        """Every file the image preparation of ``dataset`` reads (tracked inputs)."""
        source = self.image_source(dataset)
        kind, value = next(iter(source.items()))
        if kind == "sample_dir":
            return [f"{value}/{dataset}.npz"]
        if kind == "cifar_tarball" and value != "official":
            return [value]
        if kind == "imagenet16_dir":
            return [str(p) for p in imagenet16_files(Path(value))]
        return list(self.image_files(dataset).values())

    def image_identity(self, dataset: str) -> dict[str, Any]:
        """What the prepared images of ``dataset`` are made of, by content: the registered
        hashes of downloads, the sha256 of the user's own files (a folder rewritten in place
        changes it), and the version of the conversion."""
        if dataset not in self._identities:
            files = self.image_files(dataset)
            if files:
                content = {key: self.sources[key].known_hash for key in files}
            else:
                content = folder_digests(self.image_inputs(dataset))
            self._identities[dataset] = {"source": self.image_source(dataset),
                                         "content": content, "prepared": PREPARED_VERSION}
        return self._identities[dataset]

    def prepared_images(self) -> list[str]:
        return [f"data/images/{d}.npz" for d in self.datasets()]

    def set_aside_changed_files(self) -> list[tuple[str, Path]]:
        """Move aside every prepared file that changed since its rule wrote it, so that this
        run makes it anew (:func:`zeroshot_nas.data.digests.set_aside_if_changed`); returns
        (file, where it went) of each."""
        moved = [(path, set_aside_if_changed(path)) for path in self.prepared_images()]
        return [(path, aside) for path, aside in moved if aside is not None]

    # ---------------------------------------------------------------- targets
    def final_targets(self) -> list[str]:
        targets = [*self.benchmark_tables(), *self.prepared_images()]
        for name in self.experiments:
            targets += [f"results/{name}/scores.parquet", f"results/{name}/stats"]
            if self.config["timing"]["n_archs"] > 0:
                targets.append(f"results/{name}/timing.parquet")
        report = f"results/{self.report}"
        targets += [f"{report}/figures", f"{report}/paper/generated"]
        if self.config["search"]["enabled"]:
            targets.append(f"{report}/search/tables")
        if self.config["paper"]["build_pdf"] and self.latexmk:
            targets.append(f"{report}/paper/main.pdf")
        return targets

    def search_runs(self) -> list[str]:
        e = self.experiments[self.report]
        return [f"results/{e.name}/search/runs/{algorithm}/{dataset}.parquet"
                for algorithm in self.config["search"]["algorithms"] for dataset in e.datasets]

    def score_shards(self, exp: str) -> list[str]:
        e = self.experiments[exp]
        return [f"results/{exp}/scores/{d}/seed{s}/shard-{k}.parquet"
                for d in e.datasets for s in e.seeds_of(d) for k in e.shards]

    def seed_priority(self, exp: str, seed: str | int) -> int:
        """Scheduling priority of a scoring shard: the first seed of every experiment before
        any experiment's second, and so on, so that a run stopped part-way (long presets run
        across sessions) holds whole initialisations rather than scattered shards of each."""
        most = max(len(e.all_seeds) for e in self.experiments.values())
        return most - 1 - self.experiments[exp].all_seeds.index(int(seed))

    @property
    def data_priority(self) -> int:
        """Scheduling priority of the jobs scoring waits on (downloads, images, samples):
        above every scoring shard's, so that no data set's first seed waits for its images
        behind another data set's later seeds."""
        return max(len(e.all_seeds) for e in self.experiments.values())

    def timing_tables(self, exp: str) -> list[str]:
        return [f"results/{exp}/timing/{d}.parquet" for d in self.experiments[exp].datasets]

    def timing_proxies(self, exp: str) -> list[str]:
        chosen = self.config["timing"]["proxies"]
        return list(self.experiments[exp].proxies) if chosen == "all" else list(chosen)

    def stats_inputs(self, exp: str) -> dict[str, str]:
        inputs = {"scores": f"results/{exp}/scores.parquet",
                  "benchmark": self.experiments[exp].benchmark}
        if self.config["timing"]["n_archs"] > 0:
            inputs["timings"] = f"results/{exp}/timing.parquet"
        if exp == self.report:
            inputs.update(self.freerea_files())
        return inputs

    def space_experiments(self) -> dict[str, str]:
        """The experiments the NAS-Bench-101 section reads, by the table they join
        (``nb101``, ``nb101-naslib``): the report experiment where it is one, else the first
        experiment on that table."""
        order = [self.report, *(n for n in self.experiments if n != self.report)]
        found: dict[str, str] = {}
        for name in order:
            e = self.experiments[name]
            if e.space == "nb101":
                found.setdefault(Path(e.benchmark).stem, name)
        return found

    def space_stats(self) -> dict[str, str]:
        """The statistics folders of :meth:`space_experiments`, by table."""
        return {table: f"results/{name}/stats" for table, name in self.space_experiments().items()}

    def space_stats_made_of(self) -> dict[str, str]:
        """The fingerprints of :meth:`space_experiments` (tracked by the paper's rule)."""
        return {table: self.experiments[name].fingerprint
                for table, name in self.space_experiments().items()}

    def sample_stats(self) -> dict[str, str]:
        """The statistics folders of the run's other experiments on the report experiment's
        space and benchmark table, by name (RB Table 1 takes what the report lacks)."""
        report = self.experiments[self.report]
        return {name: f"results/{name}/stats" for name, e in self.experiments.items()
                if name != self.report and (e.space, e.benchmark) == (report.space,
                                                                      report.benchmark)}

    def sample_stats_made_of(self) -> dict[str, str]:
        """The fingerprints of :meth:`sample_stats`'s experiments (tracked by the paper)."""
        return {name: self.experiments[name].fingerprint for name in self.sample_stats()}

    def search_live(self, algorithm: str) -> bool:
        return bool(self.config["search"]["live"]) and algorithm not in TRAIN_BASED

    def paper_run_settings(self) -> dict[str, Any]:
        """What the paper's protocol section states about the report experiment's run."""
        e = self.experiments[self.report]
        search = self.config["search"]
        described = None
        if search["enabled"]:
            described = (f"{', '.join(search['algorithms'])}; {search['runs']} runs; GA/SA "
                         f"budget {search['budget']}; random search N = "
                         + ", ".join(map(str, search["sample_sizes"])))
        return {
            "experiment": self.report,
            "space": e.space,
            "sample_seed": e.sample["seed"],
            "sampler": e.sample.get("sampler", UNIFORM),
            "protocol": e.protocol,
            "image_sources": {d: self.image_source(d) for d in e.datasets},
            "timing_n_archs": self.config["timing"]["n_archs"],
            "search": described,
        }
