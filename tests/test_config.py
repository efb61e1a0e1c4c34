"""A bad configuration is rejected before any job runs, with a message naming the key."""

from __future__ import annotations

import copy
import subprocess

import pytest
import yaml
from conftest import IMAGES, MIRROR, REPO_ROOT, tiny_config

from zeroshot_nas.config import ConfigError, experiment_proxies, image_source, validate_config
from zeroshot_nas.data.freerea_scores import DATASETS as FREEREA_DATASETS
from zeroshot_nas.pipeline.plan import PROTOCOL_KEYS, Plan
from zeroshot_nas.proxies import REGISTRY, discover, resolve_names
from zeroshot_nas.stats.crosscheck import PAIRS

SCHEMA = REPO_ROOT / "workflow" / "schemas" / "config.schema.yaml"
PRESETS = REPO_ROOT / "workflow" / "presets"


def valid_preset(name: str) -> dict:
    """The shipped preset ``name`` after validation (defaults filled in)."""
    return validate_config(yaml.safe_load((PRESETS / name).read_text(encoding="utf-8")), SCHEMA)


def test_embedded_default_is_valid_and_gets_documented_defaults():
    with open(REPO_ROOT / "config.yaml", encoding="utf-8") as handle:
        config = validate_config(yaml.safe_load(handle), SCHEMA)
    experiment = config["experiments"]["default"]
    assert experiment["bn_mode"] == "train"
    assert experiment["init"] == "default"
    assert experiment["device"] == "cpu"
    assert config["cache_dir"] == "data/cache/scores"
    assert config["stats"]["rank_combination"] == ["ni", "naswot", "logsynflow"]


def test_all_leaves_out_the_heavy_scores_which_a_list_can_add():
    # ntk_rb takes one backward of the whole batch per image (about 56x a forward+backward at
    # batch 128): "all", the default, must stay minutes, and a user can still ask for it.
    discover()
    heavy = {name for name, spec in REGISTRY.items() if spec.heavy}
    assert "ntk_rb" in heavy
    config = tiny_config()
    config["experiments"]["tiny"]["proxies"] = "all"
    everyday = experiment_proxies(validate_config(config, SCHEMA)["experiments"]["tiny"])
    assert set(everyday) == set(REGISTRY) - heavy
    assert set(resolve_names("all")) == set(everyday)
    config["experiments"]["tiny"]["proxies"] = ["all", "ntk_rb"]
    both = experiment_proxies(validate_config(config, SCHEMA)["experiments"]["tiny"])
    assert both == [*everyday, "ntk_rb"] and resolve_names("all,ntk_rb")[-1] == "ntk_rb"
    config["experiments"]["tiny"]["proxies"] = ["all", "nosuchproxy"]
    with pytest.raises(ConfigError, match="experiments.tiny.proxies.*nosuchproxy"):
        validate_config(config, SCHEMA)


def test_dataset_seeds_replace_the_seeds_of_the_data_sets_they_name():
    config = tiny_config()
    tiny = config["experiments"]["tiny"]
    tiny.update(datasets=["cifar10", "ImageNet16-120"], seeds=[0],
                dataset_seeds={"ImageNet16-120": [0, 1, 2]})
    plan = Plan(validate_config(copy.deepcopy(config), SCHEMA), REPO_ROOT)
    e = plan.experiments["tiny"]
    assert e.seeds_of("cifar10") == (0,) and e.seeds_of("ImageNet16-120") == (0, 1, 2)
    assert e.all_seeds == (0, 1, 2)
    shards = plan.score_shards("tiny")
    assert {tuple(s.split("/")[3:5]) for s in shards} == {
        ("cifar10", "seed0"), *(("ImageNet16-120", f"seed{i}") for i in range(3))}
    assert plan.seed_priority("tiny", 0) > plan.seed_priority("tiny", 2) >= 0
    # an empty mapping leaves the fingerprint of the runs made before the option
    tiny.pop("dataset_seeds")
    before = Plan(validate_config(copy.deepcopy(config), SCHEMA), REPO_ROOT)
    tiny["dataset_seeds"] = {}
    assert Plan(validate_config(copy.deepcopy(config), SCHEMA), REPO_ROOT).experiments[
        "tiny"].fingerprint == before.experiments["tiny"].fingerprint != e.fingerprint


@pytest.mark.parametrize(("dataset_seeds", "message"), [
    ({"cifar100": [0, 1]}, r"tiny.dataset_seeds': \['cifar100'\] are not data sets"),
    ({"cifar10": [0.0, 1]}, r"tiny.dataset_seeds.cifar10': \[0.0\] — seeds are integers"),
    ({"cifar10": []}, r"dataset_seeds"),
])
def test_bad_dataset_seeds_are_named(dataset_seeds, message):
    config = tiny_config()
    config["experiments"]["tiny"]["dataset_seeds"] = dataset_seeds
    with pytest.raises(ConfigError, match=message):
        validate_config(config, SCHEMA)


def test_every_schema_property_has_a_description():
    schema = yaml.safe_load(SCHEMA.read_text(encoding="utf-8"))
    missing = []

    def walk(node, path):
        for name, sub in node.get("properties", {}).items():
            if "$ref" not in sub and "description" not in sub:
                missing.append(".".join(path + [name]))
            walk(sub, path + [name])

    walk(schema, [])
    for name, definition in schema["$defs"].items():
        walk(definition, [f"$defs.{name}"])
    assert not missing, f"schema keys without description: {missing}"


@pytest.mark.parametrize(
    ("mutate", "key", "fragment"),
    [
        (lambda c: c["experiments"]["tiny"].update(proxies=["naswot", "nosuchproxy"]),
         "experiments.tiny.proxies", "nosuchproxy"),
        (lambda c: c["experiments"]["tiny"].update(batch_size=-4),
         "experiments.tiny.batch_size", "-4"),
        (lambda c: c["experiments"]["tiny"].update(datasets=["cifar10", "mnist"]),
         "experiments.tiny.datasets.1", "mnist"),
        (lambda c: c["experiments"]["tiny"].update(bacth_size=64),
         "experiments.tiny", "bacth_size"),
        (lambda c: c["stats"].update(rank_combination=["ni", "nasowt"]) if "stats" in c
         else c.update(stats={"rank_combination": ["ni", "nasowt"]}),
         "stats.rank_combination", "nasowt"),
        (lambda c: c.update(report_experiment="nope"), "report_experiment", "nope"),
    ],
)
def test_bad_config_names_the_key(mutate, key, fragment):
    config = tiny_config()
    mutate(config)
    with pytest.raises(ConfigError) as info:
        validate_config(config, SCHEMA)
    message = str(info.value)
    assert f"'{key}'" in message and fragment in message


def test_dataset_without_image_source_uses_the_pinned_freerea_batches():
    config = tiny_config()
    config["data"]["images"] = {}
    resolved = validate_config(config, SCHEMA)
    assert image_source(resolved, "cifar10") == {"freerea_batches": "all"}
    assert image_source(resolved, "ImageNet16-120") == {"freerea_batches": "all"}


@pytest.mark.parametrize(
    ("images", "key", "fragment"),
    [
        ({"ImageNet16-120": {"imagenet16_dir": "no/such/imagenet16"}},
         "data.images.ImageNet16-120.imagenet16_dir", "image-net.org"),
        ({"sample_dir": "no/such/folder"}, "data.images.sample_dir", "cifar10.npz"),
        ({"cifar10": {"cifar_tarball": "no/such.tar.gz"}}, "data.images.cifar10.cifar_tarball",
         "official"),
        ({"cifar10": {"imagenet16_dir": "x"}}, "data.images.cifar10", "only for ImageNet16-120"),
    ],
)
def test_missing_user_images_are_rejected_before_any_job(images, key, fragment):
    config = tiny_config()
    config["experiments"]["tiny"]["datasets"] = ["cifar10", "ImageNet16-120"]
    config["data"]["images"] = images
    with pytest.raises(ConfigError) as info:
        validate_config(config, SCHEMA)
    assert f"'{key}" in str(info.value) and fragment in str(info.value)


def test_presets_needing_imagenet16_say_what_to_download():
    for preset in ("paper.yaml", "full.yaml"):
        config = yaml.safe_load((PRESETS / preset).read_text())
        with pytest.raises(ConfigError, match="data/imagenet16 holds no ImageNet16 batch"):
            validate_config(config, SCHEMA)


def test_rb_preset_scores_the_whole_space_and_the_authors_ntk_on_a_sample():
    config = valid_preset("rb-cpu.yaml")
    exps = config["experiments"]
    space, sample, ntk = exps["rb-space"], exps["rb-sample"], exps["rb-ntk"]
    # the whole space: three initialisations on ImageNet16-120, one on CIFAR (the header: the
    # mean of three moved ImageNet16-120's whole-space tau by under 0.002)
    assert space["n_archs"] == "all" and space["seeds"] == [0]
    assert space["dataset_seeds"] == {"ImageNet16-120": [0, 1, 2]}
    assert {"ni", "naswot", "logsynflow", "synflow", "snip", "fisher"} <= set(space["proxies"])
    assert sample["batch_size"] == 128 and sample["seeds"] == [0, 1, 2]
    assert {"grasp", "ntk"} <= set(experiment_proxies(sample))
    assert {"grasp", "ntk", "ntk_rb"} <= set(experiment_proxies(exps["rb-sample-in16"]))
    # rb-ntk: the same architectures and protocol as rb-sample, whose seed 0 it shares
    same = ("space", "n_archs", "sample_seed", *PROTOCOL_KEYS)
    assert {k: ntk[k] for k in same} == {k: sample[k] for k in same}
    assert "ntk_rb" in experiment_proxies(ntk) and ntk["seeds"] == [0]
    assert set(experiment_proxies(sample)) <= set(experiment_proxies(ntk))
    assert config["report_experiment"] == "rb-space"
    assert config["stats"]["seed_aggregation"] == "mean"
    # the printed Table 1 is FreeREA's files over all 15,625 networks (tests/test_paper_rb.py)
    assert config["stats"]["require_path"] is False and config["stats"]["freerea_check"]


def test_every_experiments_first_seed_has_the_highest_scoring_priority():
    plan = Plan(valid_preset("rb-cpu.yaml"), REPO_ROOT)
    first = {plan.seed_priority(exp, 0) for exp in plan.experiments}
    assert len(first) == 1
    assert (plan.seed_priority("rb-ntk", 0) > plan.seed_priority("rb-sample", 1)
            > plan.seed_priority("rb-space", 2) >= 0)
    # what scoring waits on (downloads, images, samples) comes before any shard
    assert plan.data_priority > first.pop()


def test_every_preset_this_machine_can_run_is_valid():
    # paper/full need an ImageNet16 batch of 256 and nats-sss the official archive (tested above
    # and in test_nats_archive); every other preset must validate as shipped.
    needs_user_data = {"paper.yaml", "full.yaml", "nats-sss.yaml"}
    runnable = [p.name for p in sorted(PRESETS.glob("*.yaml")) if p.name not in needs_user_data]
    assert {"freerea-space.yaml", "nb101.yaml", "rb-cpu.yaml"} <= set(runnable)
    for preset in runnable:
        valid_preset(preset)


def test_freerea_preset_scores_the_whole_space_with_rb_spaces_protocol():
    freerea, rb = valid_preset("freerea-space.yaml"), valid_preset("rb-cpu.yaml")
    ours, rb_space = freerea["experiments"]["freerea-space"], rb["experiments"]["rb-space"]
    assert ours["n_archs"] == "all" and freerea["stats"]["freerea_check"]
    assert set(PAIRS.values()) == set(ours["proxies"])
    assert set(ours["datasets"]) == set(FREEREA_DATASETS)
    # the same protocol and a seed rb-space scores: rb-space reuses this run's cache
    assert {k: ours[k] for k in PROTOCOL_KEYS} == {k: rb_space[k] for k in PROTOCOL_KEYS}
    assert set(ours["seeds"]) <= set(rb_space["seeds"])
    assert set(PAIRS.values()) <= set(rb_space["proxies"])


def test_modern_paper_preset_scores_paper_cpus_sample_with_its_protocol():
    modern, paper = valid_preset("modern-paper.yaml"), valid_preset("paper-cpu.yaml")
    ours, paper_cpu = modern["experiments"]["modern-paper"], paper["experiments"]["paper-cpu"]
    # the same architectures (a sample is named by its size and seed) and the same protocol:
    # each run reuses the other's cached scores
    sample = ("space", "datasets", "n_archs", "sample_seed", "sampler", "seeds")
    assert {k: ours[k] for k in sample} == {k: paper_cpu[k] for k in sample}
    assert {k: ours[k] for k in PROTOCOL_KEYS} == {k: paper_cpu[k] for k in PROTOCOL_KEYS}
    assert set(ours["proxies"]) <= set(paper_cpu["proxies"])
    new_scores = {"zico", "meco", "swap", "swap_reg", "gradsign", "linear_regions",
                  "az_expressivity", "az_progressivity", "az_trainability", "vkdnw"}
    assert new_scores <= set(ours["proxies"])


def test_validation_does_not_modify_the_input():
    config = tiny_config()
    before = copy.deepcopy(config)
    validate_config(config, SCHEMA)
    assert config == before


def test_snakemake_rejects_bad_config_before_any_job(tmp_path, snakemake_exe, clean_env):
    config = tiny_config()
    config["experiments"]["tiny"]["proxies"] = ["naswot", "nosuchproxy"]
    configfile = tmp_path / "bad.yaml"
    configfile.write_text(yaml.safe_dump(config), encoding="utf-8")
    result = subprocess.run(
        [snakemake_exe, "-s", str(REPO_ROOT / "Snakefile"), "--directory", str(tmp_path),
         "--configfile", str(configfile), "--cores", "1"],
        capture_output=True, text=True, env=clean_env, timeout=300,
    )
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "experiments.tiny.proxies" in output and "nosuchproxy" in output
    # Nothing ran: no job outputs, no logs.
    assert not (tmp_path / "results").exists() and not (tmp_path / "data").exists()


def _dry_run(snakemake_exe, workdir, env, *args):
    return subprocess.run(
        [snakemake_exe, "-s", str(REPO_ROOT / "Snakefile"), "--directory", str(workdir),
         "-n", "--cores", "1", *args],
        capture_output=True, text=True, env=env, timeout=300,
    )


def test_configfile_replaces_the_default_and_config_merges(tmp_path, snakemake_exe, clean_env):
    default = yaml.safe_load((REPO_ROOT / "config.yaml").read_text(encoding="utf-8"))
    default["data"] = {"mirror": str(MIRROR),
                       "images": {"sample_dir": str(IMAGES)}}
    default["paper"] = {"build_pdf": False}  # paper/main.tex lives in the repo, not in tmp_path
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(default), encoding="utf-8")
    preset = tiny_config()
    preset["data"] = default["data"]
    (tmp_path / "preset.yaml").write_text(yaml.safe_dump(preset), encoding="utf-8")

    replaced = _dry_run(snakemake_exe, tmp_path, clean_env, "--configfile", str(tmp_path / "preset.yaml"))
    assert replaced.returncode == 0, replaced.stderr[-2000:]
    assert "results/tiny/archs" in replaced.stdout
    assert "results/default" not in replaced.stdout

    # --config merges into config.yaml: the default experiment survives the override.
    merged = _dry_run(snakemake_exe, tmp_path, clean_env, "--config", "report_experiment=default")
    assert merged.returncode == 0, merged.stdout[-2000:]
    assert "results/default/archs" in merged.stdout


def test_every_protocol_setting_reaches_the_scoring_jobs():
    from dataclasses import fields

    from zeroshot_nas.proxies import Protocol

    config = tiny_config()
    config["experiments"]["tiny"]["gradient_layout"] = "channels_last"
    config = validate_config(config, SCHEMA)
    protocol = Plan(config, REPO_ROOT).experiments["tiny"].protocol
    assert set(protocol) == {f.name for f in fields(Protocol)} - {"seed"}
    assert protocol["gradient_layout"] == "channels_last"
    assert Protocol.from_experiment(protocol).key() != Protocol().key()
