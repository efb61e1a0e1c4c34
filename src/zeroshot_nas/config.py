"""Workflow configuration: schema validation with defaults, and the semantic checks a schema
cannot express (proxy names from the registry, data-set image sources).

Everything here runs when the Snakefile is parsed, so a bad configuration is rejected before
any job starts, with a message that names the offending key.
"""

from __future__ import annotations

import argparse
import copy
import logging
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

log = logging.getLogger(__name__)

DEFAULT_SCHEMA = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"


class ConfigError(ValueError):
    """A configuration value is invalid; the message names the key."""


def _key_path(path: Iterable[Any]) -> str:
    return ".".join(str(p) for p in path) or "<root>"


def _validator_with_defaults(schema: dict) -> jsonschema.protocols.Validator:
    """A Draft 2020-12 validator that also fills in ``default`` values of ``properties``.

    Defaults are filled wherever a sub-schema with ``properties`` is applied, including the
    per-experiment schema reached through ``additionalProperties`` and ``$ref``.
    """
    base = jsonschema.Draft202012Validator

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, subschema in properties.items():
                if "default" in subschema and name not in instance:
                    instance[name] = copy.deepcopy(subschema["default"])
        yield from base.VALIDATORS["properties"](validator, properties, instance, schema)

    extended = jsonschema.validators.extend(base, {"properties": set_defaults})
    return extended(schema)


def read_yaml(path: str | Path, what: str = "configuration file") -> dict:
    """A YAML mapping from ``path``; a missing file, a syntax error (with its line and
    column) or a non-mapping is a one-line ConfigError naming the file."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{what} {path} does not exist") from None
    except IsADirectoryError:
        raise ConfigError(f"{what} {path} is a folder, not a file") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise ConfigError(f"{what} {path} is not valid YAML{where}: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{what} {path} holds a {type(data).__name__}, not a mapping of keys")
    return data


def load_schema(schema_path: Path | str | None = None) -> dict:
    path = Path(schema_path) if schema_path else DEFAULT_SCHEMA
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@cache
def _schema() -> dict:
    return load_schema()


# The largest seed any setting takes (the schema's $defs/seed).
MAX_SEED: int = _schema()["$defs"]["seed"]["maximum"]


def seed_argument(text: str) -> int:
    """An argparse type: a seed from 0 to MAX_SEED (the configuration's range)."""
    try:
        seed = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if not 0 <= seed <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"{seed} is outside 0..{MAX_SEED}")
    return seed


def schema_property(section: str, key: str) -> dict:
    """The schema of one setting: ``section`` is a top-level key (``stats``, ``search``,
    ``timing``, ...) or ``experiment`` (the per-experiment settings)."""
    schema = _schema()
    node = schema["$defs"]["experiment"] if section == "experiment" else \
        schema["properties"][section]
    return node["properties"][key]


def schema_default(section: str, key: str) -> Any:
    """The default of one setting, from the schema: the one home of defaults. Lists come back
    as tuples, so that frozen settings objects can hold them."""
    value = copy.deepcopy(schema_property(section, key)["default"])
    return tuple(value) if isinstance(value, list) else value


def schema_default_root(key: str) -> Any:
    """The default of a top-level setting (``cache_dir``, ...), from the schema."""
    return copy.deepcopy(_schema()["properties"][key]["default"])


def schema_choices(section: str, key: str) -> tuple:
    """The allowed values of an enumerated setting, from the schema."""
    prop = schema_property(section, key)
    return tuple(prop.get("enum") or prop["items"]["enum"])


def validate_config(config: dict, schema_path: Path | str | None = None) -> dict:
    """Return a validated copy of ``config`` with every default filled in.

    Raises ConfigError naming the first offending key (schema errors first, then the
    semantic checks against the proxy registry and the image sources).
    """
    resolved = copy.deepcopy(dict(config))
    validator = _validator_with_defaults(load_schema(schema_path))
    errors = sorted(validator.iter_errors(resolved), key=lambda e: list(e.absolute_path))
    if errors:
        err = errors[0]
        # oneOf errors hide the useful message in their context; show the most specific one.
        best = jsonschema.exceptions.best_match([err])
        raise ConfigError(
            f"config key '{_key_path(best.absolute_path)}': {best.message}"
            + (f" ({len(errors) - 1} more error(s))" if len(errors) > 1 else "")
        )
    _check_semantics(resolved)
    return resolved


def known_proxies() -> list[str]:
    from zeroshot_nas.proxies import REGISTRY

    return sorted(REGISTRY)


def _check_proxy_names(names: list[str], key: str) -> None:
    from zeroshot_nas.proxies import combinations

    known = set(known_proxies())
    for name in names:
        if name in combinations():
            parts = combinations()[name].parts
            raise ConfigError(
                f"config key '{key}': {name!r} is not scored per architecture but combined by "
                f"the statistics from {', '.join(parts)} over the architectures compared: list "
                f"those scores instead and {name} is added wherever all of them are scored"
            )
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ConfigError(
            f"config key '{key}': unknown proxy {', '.join(map(repr, unknown))}; "
            f"known proxies: {', '.join(sorted(known))}"
        )


SPACE_SIZES = {"nb201": 15625, "nats_sss": 32768, "nb101": 846}
# Searches that read only scores; the others train on the benchmark (need accuracies).
TRAINING_FREE_SEARCHES = ("random_score", "ga_rank", "sa_rank")
# nb101's pinned tables (spaces.nb101.TABLE_SIZES, here without importing the space)
NB101_TABLE_SIZES = {"mlfe": 846, "naslib": 292}


def space_size(experiment: dict) -> int:
    """Architectures an experiment can sample: its space's, its nb101 table's, or the cells
    the rank-based authors' sampler can draw."""
    if experiment.get("sampler", "uniform") != "uniform":
        from zeroshot_nas.spaces.sampling import rank_based_reachable

        return rank_based_reachable()
    if experiment["space"] == "nb101":
        return NB101_TABLE_SIZES[experiment["nb101_table"]]
    return SPACE_SIZES[experiment["space"]]
# Labelled images of the bundled FreeREA batches (ImageNet16: labels 1..120 of ImageNet-1000).
FREEREA_LABELLED = {"cifar10": 960, "cifar100": 960, "ImageNet16-120": 106}


def _check_space(key: str, e: dict) -> None:
    """What a space allows: its data sets, its tables, the scores defined on its networks."""
    from zeroshot_nas.spaces import space_datasets

    allowed = space_datasets(e["space"])
    refused = [d for d in e["datasets"] if d not in allowed]
    if refused:
        raise ConfigError(f"config key '{key}.datasets': {', '.join(refused)} not defined for "
                          f"{e['space']} (its benchmark trained on {', '.join(allowed)} only)")
    if e["space"] != "nb101" and e["nb101_table"] != "mlfe":
        raise ConfigError(f"config key '{key}.nb101_table': only for space nb101, not "
                          f"{e['space']}")
    if e["sampler"] != "uniform" and (e["space"] != "nb201" or e["n_archs"] == "all"):
        raise ConfigError(f"config key '{key}.sampler': {e['sampler']} draws a sample of nb201 "
                          f"(n_archs a number), not n_archs {e['n_archs']!r} of {e['space']}")
    if e["proxies"] != "all":
        undefined = [n for n in named_proxies(e["proxies"]) if n not in space_proxies(e["space"])]
        if undefined:
            raise ConfigError(f"config key '{key}.proxies': {', '.join(undefined)} not defined "
                              f"on {e['space']} networks (they read an NB201-style cell "
                              "description: needs_space)")


def _check_experiment(config: dict, name: str, e: dict) -> None:
    key = f"experiments.{name}"
    if e["proxies"] != "all":
        _check_proxy_names(named_proxies(e["proxies"]), f"{key}.proxies")
    _check_space(key, e)
    for dataset in e["datasets"]:
        check_image_source(config, dataset)
        if image_source(config, dataset) == FREEREA and \
                e["batch_size"] > FREEREA_LABELLED[dataset]:
            raise ConfigError(f"config key '{key}.batch_size': {e['batch_size']} images per batch, "
                              f"but the bundled {dataset} images hold {FREEREA_LABELLED[dataset]} "
                              f"labelled ones (give your own images in data.images.{dataset})")
    size = space_size(e)
    if e["n_archs"] != "all" and e["n_archs"] > size:
        if e["sampler"] != "uniform":
            raise ConfigError(f"config key '{key}.n_archs': {e['n_archs']} architectures "
                              f"requested, but the {e['sampler']} sampler can draw {size:,}")
        where = f"{e['space']} ({e['nb101_table']} table)" if e["space"] == "nb101" \
            else e["space"]
        raise ConfigError(f"config key '{key}.n_archs': {e['n_archs']} architectures requested, "
                          f"but {where} has {size:,} (use 'all')")
    _check_seeds(e, key)
    check_ntk_batch_size(e["ntk_batch_size"], e["batch_size"], f"config key '{key}.ntk_batch_size'")


def _check_seeds(e: dict, key: str) -> None:
    """Seeds name cache folders, so they must be exact integers (YAML's 0.0 passes JSON
    Schema's "integer"), and ``dataset_seeds`` may only name the experiment's data sets."""
    lists = {"seeds": e["seeds"]} | {f"dataset_seeds.{d}": s
                                     for d, s in e["dataset_seeds"].items()}
    for field, values in lists.items():
        bad = [v for v in values if not isinstance(v, int) or isinstance(v, bool)]
        if bad:
            raise ConfigError(f"config key '{key}.{field}': {bad} — seeds are integers (0, 1, ...)")
    unknown = sorted(set(e["dataset_seeds"]) - set(e["datasets"]))
    if unknown:
        raise ConfigError(f"config key '{key}.dataset_seeds': {unknown} are not data sets of the "
                          f"experiment (its datasets: {list(e['datasets'])})")


def check_ntk_batch_size(ntk_batch_size: int, batch_size: int, name: str) -> None:
    """The NTK sub-batch must fit in the batch (configuration and command line alike);
    ``name`` is how the user gave it (a config key, an option)."""
    if ntk_batch_size > batch_size:
        raise ConfigError(f"{name}: {ntk_batch_size} is larger than the batch ({batch_size} "
                          "images); the NTK is formed on the batch's first ntk_batch_size images")


def check_devices(config: dict, local_run: bool) -> None:
    """``device: cuda`` needs CUDA where the jobs run: an error for a local run, a warning
    where jobs go to a cluster (a login node has no GPU of its own)."""
    wanting = [name for name, e in config["experiments"].items() if e["device"] == "cuda"]
    if not wanting:
        return
    import torch

    if torch.cuda.is_available():
        return
    message = (f"experiments {', '.join(wanting)} ask for device: cuda, but this machine has no "
               "CUDA device")
    if local_run:
        raise ConfigError(f"config key 'experiments.{wanting[0]}.device': {message} (use cpu or "
                          "auto, or run with a cluster profile whose nodes have GPUs)")
    log.warning("%s; the scoring jobs must run on GPU nodes", message)


def _check_nats_sss_archive(config: dict) -> None:
    """The size-space archive, when named, must be complete; a size-space report experiment
    whose searches train on the benchmark needs it."""
    from zeroshot_nas.data.nats_archive import download_help, missing_files

    archive = config["data"]["nats_sss_archive"]
    key = "data.nats_sss_archive"
    if archive is None:
        report = config["experiments"][report_experiment(config)]
        training = [a for a in config["search"]["algorithms"] if a not in TRAINING_FREE_SEARCHES]
        if config["search"]["enabled"] and report["space"] == "nats_sss" and training:
            raise ConfigError(
                f"config key 'search.algorithms': {', '.join(training)} train on the benchmark, "
                "but the size space has accuracies only in the official NATS-Bench archive: "
                f"{download_help('nats_sss', key)}; or run only "
                f"{', '.join(TRAINING_FREE_SEARCHES)}"
            )
        return
    absent = missing_files(archive, "nats_sss")
    if absent:
        what = ("does not exist" if not Path(archive).is_dir()
                else f"lacks {len(absent):,} of the archive's 32,769 files (first {absent[0]})")
        raise ConfigError(f"config key '{key}': {archive} {what}. "
                          f"{download_help('nats_sss', key)}")


def _check_semantics(config: dict) -> None:
    for name, experiment in config["experiments"].items():
        _check_experiment(config, name, experiment)
    n_min = min((space_size(e) if e["n_archs"] == "all" else e["n_archs"])
                for e in config["experiments"].values())
    if config["stats"]["best_of_n"] > n_min:
        raise ConfigError(f"config key 'stats.best_of_n': {config['stats']['best_of_n']} "
                          f"architectures per run, but an experiment scores only {n_min}")
    if config["timing"]["proxies"] != "all":
        _check_proxy_names(config["timing"]["proxies"], "timing.proxies")
    _check_proxy_names(config["stats"]["rank_combination"], "stats.rank_combination")
    for key in ("random_scores", "area_scores"):
        _check_proxy_names(config["search"][key], f"search.{key}")
    report = config.get("report_experiment")
    if report is not None and report not in config["experiments"]:
        raise ConfigError(
            f"config key 'report_experiment': {report!r} is not one of the experiments "
            f"({', '.join(config['experiments'])})"
        )
    _check_highlight(config)
    _check_nats_sss_archive(config)
    _check_nb101_search(config)
    space = config["experiments"][report_experiment(config)]["space"]
    if config["stats"]["freerea_check"] and space != "nb201":
        raise ConfigError(f"config key 'stats.freerea_check': FreeREA's scores are of "
                          f"NAS-Bench-201 networks, but the report experiment scores {space}")


def _check_highlight(config: dict) -> None:
    """``stats.highlight`` names scores the report experiment's comparison shows: registered
    proxies it scores, or the rank combination when one is configured."""
    from zeroshot_nas.stats.names import RANK_COMBINATION

    key = "stats.highlight"
    combined = [RANK_COMBINATION] if config["stats"]["rank_combination"] else []
    names = config["stats"]["highlight"]
    _check_proxy_names([n for n in names if n not in combined], key)
    report = report_experiment(config)
    scored = {*experiment_proxies(config["experiments"][report]), *combined}
    absent = [n for n in names if n not in scored]
    if absent:
        raise ConfigError(
            f"config key '{key}': {', '.join(map(repr, absent))} is not scored by the report "
            f"experiment {report!r}: add it to experiments.{report}.proxies (the comparison "
            "shows the report experiment's scores)")


# The searches that move within nb101's table: draws from it and NAS-Bench-101's mutation
# (GA-rk and SA-rk cross over and step NB201-style genomes; REINFORCE and BOHB sample one
# operation per NB201 edge or size-space layer).
NB101_SEARCHES = ("random_score", "random_train", "rea", "area")


def _check_nb101_search(config: dict) -> None:
    """Searches run on the report experiment; on nb101 they stay within MLFE's table."""
    e = config["experiments"][report_experiment(config)]
    if e["space"] != "nb101" or not config["search"]["enabled"]:
        return
    if e["nb101_table"] != "mlfe":
        raise ConfigError("config key 'search.enabled': searches on nb101 run within MLFE's "
                          "table (nb101_table: mlfe), the one with test accuracies and training "
                          "times; disable them for a naslib experiment")
    undefined = [a for a in config["search"]["algorithms"] if a not in NB101_SEARCHES]
    if undefined:
        raise ConfigError(f"config key 'search.algorithms': {', '.join(undefined)} not defined "
                          "on nb101's table (they move in NB201-style genomes); use "
                          f"{', '.join(NB101_SEARCHES)}")


FREEREA = {"freerea_batches": "all"}
IMAGENET16_HELP = (
    "ImageNet16-120 has no public download: request the downsampled ImageNet 16x16 files "
    "(Imagenet16_train.zip, Imagenet16_val.zip) at https://image-net.org/download-images, "
    "unpack train_data_batch_1..10 and val_data into that folder, or drop this entry to use "
    "the 960 bundled FreeREA images (freerea_batches: all)"
)


def image_source(config: dict, dataset: str) -> dict:
    """Where the images of ``dataset`` come from: the data set's own entry, else the shared
    ``sample_dir``, else the pinned FreeREA batches (``{'freerea_batches': 'all'}``)."""
    images = config["data"]["images"]
    own = images.get(dataset)
    if own:
        kind = next(iter(own))
        if kind == "cifar_tarball" and dataset == "ImageNet16-120":
            raise ConfigError(
                "config key 'data.images.ImageNet16-120': cifar_tarball is only for CIFAR"
            )
        if kind == "imagenet16_dir" and dataset != "ImageNet16-120":
            raise ConfigError(
                f"config key 'data.images.{dataset}': imagenet16_dir is only for ImageNet16-120"
            )
        return dict(own)
    if images.get("sample_dir"):
        return {"sample_dir": images["sample_dir"]}
    return dict(FREEREA)


def check_image_source(config: dict, dataset: str) -> None:
    """A user-supplied image folder or file must exist before any job starts."""
    source = image_source(config, dataset)
    kind, value = next(iter(source.items()))
    key = f"data.images.{dataset}" if config["data"]["images"].get(dataset) else \
        "data.images.sample_dir"
    if kind == "sample_dir":
        path = Path(value) / f"{dataset}.npz"
        if not path.is_file():
            raise ConfigError(f"config key '{key}': {path} does not exist (a sample folder "
                              f"holds <dataset>.npz with x and y)")
    elif kind == "cifar_tarball" and value != "official" and not Path(value).is_file():
        raise ConfigError(f"config key '{key}.cifar_tarball': {value} does not exist (give the "
                          "official python tarball, or 'official' to download it)")
    elif kind == "imagenet16_dir":
        folder = Path(value)
        found = folder.is_dir() and any(
            (folder / name).is_file() for name in ("val_data", "train_data_batch_1")
        )
        if not found:
            raise ConfigError(f"config key '{key}.imagenet16_dir': {folder} holds no ImageNet16 "
                              f"batch files. {IMAGENET16_HELP}")


def space_proxies(space: str) -> list[str]:
    """The registered scores defined on ``space``'s networks: on nb101 every score but those
    that read an NB201-style cell description (``needs_space``)."""
    from zeroshot_nas.proxies import defined_on

    return [n for n in known_proxies() if defined_on(n, space)]


def named_proxies(proxies: str | list[str]) -> list[str]:
    """The scores an experiment's ``proxies`` names one by one (``all`` left out)."""
    return [] if proxies == "all" else [n for n in proxies if n != "all"]


def experiment_proxies(experiment: dict) -> list[str]:
    """The proxies of an experiment, ``all`` (alone or as an item of the list) expanded to
    the scores defined on its space that are not ``heavy``, in registry order."""
    from zeroshot_nas.proxies import expand_all

    return expand_all(experiment["proxies"], space_proxies(experiment.get("space", "nb201")))


def report_experiment(config: dict) -> str:
    return config.get("report_experiment") or next(iter(config["experiments"]))
