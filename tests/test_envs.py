"""Conda environments: every rule names an env file that exists, and the pins of envs/*.yaml
are those of pyproject.toml (the venv way and the `--use-conda` way run the same versions).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml
from conftest import REPO_ROOT, tiny_config
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

ENV_FILES = sorted((REPO_ROOT / "envs").glob("*.yaml"))

# conda-forge package -> PyPI distribution, where the names differ.
CONDA_TO_PYPI = {
    "pytorch": "torch",
    "matplotlib-base": "matplotlib",
    "snakemake-minimal": "snakemake",
}
# Present in an env file but not a Python dependency pinned in pyproject.toml.
NOT_PYPI = {"python", "pip"}


def pyproject_pins() -> dict[str, str]:
    """PyPI name -> exact version, from dependencies and every optional group."""
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for group in project.get("optional-dependencies", {}).values():
        reqs += group
    pins = {}
    for text in reqs:
        req = Requirement(text)
        (spec,) = req.specifier  # a single `==` pin per package is the project's rule
        assert spec.operator == "==", f"pyproject.toml: {text!r} is not pinned with =="
        pins[canonical(req.name)] = spec.version
    return pins


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def env_pins(path: Path) -> dict[str, str]:
    """PyPI name -> version for every dependency of a conda env file (pip entries included)."""
    spec = yaml.safe_load(path.read_text())
    pins = {}
    for dep in spec["dependencies"]:
        if isinstance(dep, dict):
            for text in dep.get("pip", []):
                req = Requirement(text)
                (pin,) = req.specifier
                pins[canonical(req.name)] = pin.version
            continue
        # conda match spec: name=version[=build] or name==version
        m = re.fullmatch(r"([A-Za-z0-9_.\-]+)\s*(?:==?\s*([^=\s]+))?(?:=\S+)?", dep)
        assert m, f"{path.name}: cannot parse dependency {dep!r}"
        name, version = m.group(1), m.group(2)
        assert version, f"{path.name}: {name} is not pinned"
        pins[CONDA_TO_PYPI.get(name, canonical(name))] = version
    return pins


def test_there_is_an_env_file():
    assert ENV_FILES, "envs/*.yaml: no conda environment file"


@pytest.mark.parametrize("env_file", ENV_FILES, ids=lambda p: p.name)
def test_env_pins_agree_with_pyproject(env_file):
    project = pyproject_pins()
    env = env_pins(env_file)
    python = env.pop("python")
    requires = SpecifierSet(
        tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    )
    assert f"{python}.0" in requires, f"{env_file.name}: python {python} outside {requires}"
    for name in NOT_PYPI - {"python"}:
        env.pop(name, None)
    unknown = sorted(set(env) - set(project))
    assert not unknown, f"{env_file.name}: {unknown} not pinned in pyproject.toml"
    wrong = {n: (v, project[n]) for n, v in env.items() if v != project[n]}
    assert not wrong, f"{env_file.name}: (env, pyproject) versions differ: {wrong}"
    core = {
        canonical(Requirement(t).name)
        for t in tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"][
            "dependencies"
        ]
    }
    missing = sorted(core - set(env))
    assert not missing, f"{env_file.name}: runtime dependencies missing: {missing}"


def test_conda_to_pypi_mapping_is_used():
    # A stale entry would hide a renamed package; each mapped name must occur in some env.
    used = set()
    for path in ENV_FILES:
        for dep in yaml.safe_load(path.read_text())["dependencies"]:
            if isinstance(dep, str):
                used.add(re.split(r"[=<>\s]", dep, maxsplit=1)[0])
    assert set(CONDA_TO_PYPI) <= used, set(CONDA_TO_PYPI) - used


def load_rules(tmp_path: Path):
    """The workflow's rules as Snakemake parses them (the tiny config, conda deployment)."""
    from snakemake.api import SnakemakeApi
    from snakemake.settings.types import (
        ConfigSettings,
        DeploymentMethod,
        DeploymentSettings,
        OutputSettings,
        ResourceSettings,
        StorageSettings,
        WorkflowSettings,
    )

    config = tiny_config()
    config["data"]["sources"] = str(REPO_ROOT / "data" / "sources.yaml")
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    with SnakemakeApi(OutputSettings(quiet={"all"})) as api:
        workflow = api.workflow(
            resource_settings=ResourceSettings(),
            config_settings=ConfigSettings(configfiles=[tmp_path / "config.yaml"]),
            storage_settings=StorageSettings(),
            workflow_settings=WorkflowSettings(),
            deployment_settings=DeploymentSettings(deployment_method={DeploymentMethod.CONDA}),
            snakefile=REPO_ROOT / "Snakefile",
            workdir=tmp_path,
        )._workflow
        return list(workflow.rules)


def test_every_rule_names_an_existing_conda_env(tmp_path):
    rules = [r for r in load_rules(tmp_path) if Path(r.basedir) == REPO_ROOT / "workflow" / "rules"]
    assert len(rules) >= 6, [r.name for r in rules]
    without = sorted(r.name for r in rules if not r.conda_env)
    assert not without, f"rules without a conda: directive: {without}"
    for rule in rules:
        assert isinstance(rule.conda_env, str), f"{rule.name}: conda env is {rule.conda_env!r}"
        path = (Path(rule.basedir) / rule.conda_env).resolve()
        assert path.is_file(), f"rule {rule.name}: conda env {rule.conda_env} -> {path} missing"
        assert path.parent == REPO_ROOT / "envs", f"rule {rule.name}: env outside envs/: {path}"
