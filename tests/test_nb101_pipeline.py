"""NAS-Bench-101 through the pipeline: configuration, plan, sampling, scoring guards, the
NB101 statistics, the in-table searches, and a 10-architecture run of the real workflow.

Real data throughout: the pinned MLFE and NASLib files from the shared mirror, real images.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import IMAGES, MIRROR, REPO_ROOT
from scipy import stats as sps

from zeroshot_nas import spaces
from zeroshot_nas.config import ConfigError, experiment_proxies, validate_config
from zeroshot_nas.data import nb101 as tables
from zeroshot_nas.data.sources import load_registry
from zeroshot_nas.pipeline.plan import Plan
from zeroshot_nas.proxies import REGISTRY
from zeroshot_nas.proxies.registry import defined_on
from zeroshot_nas.search.runner import SearchSettings, run_search, training_metric
from zeroshot_nas.search.space import TableSpace, get_space
from zeroshot_nas.spaces.sampling import sample_architectures
from zeroshot_nas.stats import nb101 as nb101_stats

SCHEMA = REPO_ROOT / "workflow" / "schemas" / "config.schema.yaml"


def nb101_config(**experiment) -> dict:
    return {
        "data": {"mirror": str(MIRROR), "images": {"sample_dir": str(IMAGES)},
                 "sources": str(REPO_ROOT / "data" / "sources.yaml")},
        "experiments": {"nb101": {"space": "nb101", "datasets": ["cifar10"], "n_archs": 10,
                                  "proxies": ["naswot", "synflow", "jacob_cov"],
                                  "batch_size": 16, "shard_size": 5, **experiment}},
        "timing": {"n_archs": 0},
        "search": {"algorithms": ["random_score", "random_train", "rea", "area"],
                   "random_scores": ["naswot", "synflow"], "area_scores": ["naswot"],
                   "sample_sizes": [5], "area_sample": 10, "train_budget_seconds": 20000,
                   "runs": 2},
        "paper": {"build_pdf": False},
        "stats": {"best_of_n": 4, "bootstrap": 100, "rank_combination": ["naswot", "synflow"]},
    }


@pytest.fixture(scope="module")
def benchmark(shared_data):
    registry = load_registry(REPO_ROOT / "data" / "sources.yaml")
    paths = {k: MIRROR / registry[k].relpath
             for k in [*tables.MLFE_KEYS.values(), tables.NASLIB_KEY]}
    return {"mlfe": tables.build_nb101_table("mlfe", paths, registry),
            "naslib": tables.build_nb101_table("naslib", paths, registry)}


def analytic_scores(table: pd.DataFrame) -> pd.DataFrame:
    """A long scores table of the two scores counted without a network (params, flops:
    spaces.params_m/flops_m equal the built network's counts), joined like merge_scores."""
    rows = [{"space": "nb101", "arch": a, "dataset": "cifar10", "seed": 0, "score": score,
             "value": fn("nb101", a, "cifar10"), "status": "ok", "seconds": 0.0,
             "mode": "fused"}
            for a in table["arch"] for score, fn in (("params", spaces.params_m),
                                                      ("flops", spaces.flops_m))]
    scores = pd.DataFrame(rows)
    bench = table[[c for c in table.columns if c not in scores.columns or c in ("arch",
                                                                                 "dataset")]]
    return scores.merge(bench, on=["arch", "dataset"])


# ----------------------------------------------------------------------- configuration
@pytest.mark.parametrize(("change", "key", "fragment"), [
    ({"datasets": ["cifar10", "cifar100"]}, "experiments.nb101.datasets",
     "cifar100 not defined for nb101"),
    ({"n_archs": 847}, "experiments.nb101.n_archs", "nb101 (mlfe table) has 846"),
    ({"nb101_table": "naslib", "n_archs": 293}, "experiments.nb101.n_archs", "has 292"),
    ({"space": "nb201", "nb101_table": "naslib"}, "experiments.nb101.nb101_table",
     "only for space nb101"),
])
def test_bad_nb101_settings_name_the_key(change, key, fragment) -> None:
    config = nb101_config(**change)
    with pytest.raises(ConfigError, match=re.escape(f"'{key}'") + ".*" + re.escape(fragment)):
        validate_config(config, SCHEMA)


def test_searches_stay_where_they_are_defined() -> None:
    config = nb101_config()
    config["search"]["algorithms"] = ["rea", "ga_rank"]
    with pytest.raises(ConfigError, match="'search.algorithms': ga_rank not defined on nb101"):
        validate_config(config, SCHEMA)
    config = nb101_config(nb101_table="naslib")
    with pytest.raises(ConfigError, match="'search.enabled': searches on nb101 run within"):
        validate_config(config, SCHEMA)
    config["search"]["enabled"] = False
    assert validate_config(config, SCHEMA)["experiments"]["nb101"]["nb101_table"] == "naslib"


def test_all_scores_defined_on_general_cnns_score_nb101() -> None:
    config = validate_config(nb101_config(proxies="all"), SCHEMA)
    names = experiment_proxies(config["experiments"]["nb101"])
    # all: every score that needs only the network and is not heavy (ntk_rb is named to run)
    assert names == sorted(n for n, spec in REGISTRY.items()
                           if not spec.needs_space and not spec.heavy)
    assert all(defined_on(n, "nb201") for n in REGISTRY)


def test_plan_joins_each_experiment_with_its_own_table(tmp_path) -> None:
    config = nb101_config()
    config["experiments"]["naslib"] = {**config["experiments"]["nb101"], "nb101_table": "naslib"}
    config["experiments"]["c10"] = {"space": "nb201", "datasets": ["cifar10"], "n_archs": 4}
    config["report_experiment"] = "nb101"
    plan = Plan(validate_config(config, SCHEMA), REPO_ROOT)
    assert plan.experiments["nb101"].benchmark == "data/benchmarks/nb101.parquet"
    assert plan.experiments["naslib"].benchmark == "data/benchmarks/nb101-naslib.parquet"
    assert plan.experiments["c10"].benchmark == "data/benchmarks/nb201.parquet"
    assert plan.experiments["naslib"].n_archs == 10 and plan.experiments["naslib"].sample[
        "table"] == "naslib"
    needed = set(plan.needed_sources())
    assert {*tables.MLFE_KEYS.values(), tables.NASLIB_KEY} <= needed
    assert "nats-tss-test-acc" in needed  # the nb201 experiment's table
    only = nb101_config()
    assert "nats-tss-test-acc" not in Plan(validate_config(only, SCHEMA), REPO_ROOT) \
        .needed_sources()


def test_samples_come_from_the_experiment_s_table() -> None:
    mlfe = sample_architectures("nb101", 20, 0)
    naslib = sample_architectures("nb101", "all", 0, table="naslib")
    assert set(mlfe) <= set(spaces.all_archs("nb101")) and len(set(mlfe)) == 20
    assert naslib == spaces.nb101.table_archs("naslib")
    with pytest.raises(ValueError, match="only for space nb101"):
        sample_architectures("nb201", 3, 0, table="naslib")


# ----------------------------------------------------------------------------- statistics
def test_row_correlations_count_every_mlfe_row(benchmark) -> None:
    scores = analytic_scores(benchmark["mlfe"])
    out = nb101_stats.row_correlations(scores, lambda n: True, bootstrap=50)
    row = out[(out["score"] == "params") & (out["method"] == "spearman")
              & (out["policy"] == "kept_worst")].iloc[0]
    # direct: each of the 2,000 rows, its cell's parameter count against its own run
    table = benchmark["mlfe"]
    x = np.repeat(table["params_m"].to_numpy(), table["n_rows"].to_numpy())
    y = [a for v in table["row_test_acc"] for a in json.loads(v)]
    assert row["n"] == 2000 and row["n_cells"] == 846
    assert row["value"] == pytest.approx(sps.spearmanr(x, y).statistic, abs=1e-12)
    assert row["ci_low"] < row["value"] < row["ci_high"]


def test_naslib_agreement_of_the_counts(benchmark) -> None:
    """Parameters: ours count the trained vertex order, NASLib's its own, equal for all but
    a few cells; FLOPs: NASLib counts more operations, but in nearly the same order."""
    out = nb101_stats.naslib_agreement(analytic_scores(benchmark["naslib"]), bootstrap=50)
    rho = out[(out["method"] == "spearman") & (out["policy"] == "kept_worst")] \
        .set_index("score")["value"]
    assert set(rho.index) == {"params", "flops"}
    assert 0.99 < rho["params"] < 1.0
    assert rho["flops"] > 0.95
    assert (out["n"] == 292).all()


def test_statistics_of_the_naslib_table_use_validation_accuracy(benchmark) -> None:
    from zeroshot_nas.stats.analysis import StatsConfig, compute_stats

    tables_out, summary = compute_stats(analytic_scores(benchmark["naslib"]),
                                        StatsConfig(bootstrap=20, best_of_n=10,
                                                    rank_combination=()))
    corr = tables_out["correlations"]
    assert set(corr["target"]) == {"valid_acc"} and set(corr["score"]) == {"params", "flops"}
    assert set(tables_out["monotonicity"]["target"]) == {"valid_acc"}
    assert tables_out["best_retrieved"].empty
    assert any("only valid_acc available" in note for note in summary["notes"])
    assert set(tables_out["naslib_agreement"]["score"]) == {"params", "flops"}
    assert "nb101_row_correlations" not in tables_out


# ----------------------------------------------------------------------------- searches
def test_mutations_stay_in_the_table_and_move() -> None:
    space = get_space("nb101")
    assert isinstance(space, TableSpace) and space.size == 846
    rng = np.random.default_rng(0)
    parents = space.sample(rng, 30)
    children = [space.mutate(p, rng) for p in parents]
    assert all(c in space.members and c != p for p, c in zip(parents, children, strict=True))
    assert space.fallbacks == 0
    assert not space.is_valid("0111111,0000001,0000001,0000001,0000001,0000001,0000000|"
                              "input,maxpool3x3,maxpool3x3,maxpool3x3,maxpool3x3,"
                              "maxpool3x3,output")
    with pytest.raises(ValueError, match="crossover is not defined on the nb101 table"):
        space.crossover(parents[0], parents[1], rng)


def test_training_based_searches_use_the_full_schedule(benchmark) -> None:
    settings = SearchSettings(train_seconds=20_000)
    assert training_metric("nb101", settings) == ("valid_acc", 108)
    assert training_metric("nb201", settings) == ("valid_acc_12", 12)
    runs = run_search("rea", space="nb101", dataset="cifar10", runs=3, seed=1,
                      benchmark=benchmark["mlfe"], settings=settings)
    table = benchmark["mlfe"].set_index("arch")
    assert set(runs["arch"]) <= set(table.index)
    assert (runs["seconds"] <= 20_000).all() and (runs["train_evals"] > 3).all()
    for _, run in runs.iterrows():
        assert run["test_acc"] == table.loc[run["arch"], "test_acc"]
        assert json.loads(run["settings"])["train_epochs"] == 108



def test_nb101_search_table_sets_ours_beside_nwot_s_area(benchmark, tmp_path) -> None:
    """Our REA within MLFE's table beside the one NB101 search result NWOT's text states
    (AREA, 94.16% test, no spread): a quoted mean without a spread is read as such."""
    from zeroshot_nas.search.tables import load_published, parse_cell, write_tables

    assert parse_cell("94.16") == (94.16, pytest.approx(float("nan"), nan_ok=True))
    quoted = load_published()["naswot_nb101"]
    assert quoted.space == "nb101" and [r["method"] for r in quoted.rows] == ["AREA"]
    runs = run_search("rea", space="nb101", dataset="cifar10", runs=2, seed=0,
                      benchmark=benchmark["mlfe"], settings=SearchSettings(train_seconds=5000))
    write_tables(runs, tmp_path, {"nb101": benchmark["mlfe"]})
    table = pd.read_csv(tmp_path / "search_naswot_nb101.csv")
    area = table[table["method"].str.startswith("AREA")].iloc[0]
    assert area["cifar10_test_mean"] == 94.16 and np.isnan(area["cifar10_test_std"])
    ours = table[table["source"] == "this run"]
    assert ours["method"].tolist() == ["REA"]
    chosen = runs["test_acc"]
    assert ours["cifar10_test_mean"].iloc[0] == pytest.approx(chosen.mean())
    notes = (tmp_path / "search_naswot_nb101_notes.tex").read_text()
    assert "108-epoch" in notes and "NAS-Bench-101's own validation split" in notes


# -------------------------------------------------------------------- paper section
@pytest.fixture(scope="module")
def nb101_stats_dirs(benchmark, tmp_path_factory) -> dict[str, object]:
    """Statistics of the analytic scores on both tables, as the stats stage writes them."""
    from zeroshot_nas.stats.analysis import StatsConfig, compute_stats, write_stats

    root = tmp_path_factory.mktemp("nb101_stats")
    cfg = StatsConfig(bootstrap=50, best_of_n=10, best_of_runs=2, rank_combination=())
    dirs = {}
    for table, name in (("mlfe", "nb101"), ("naslib", "nb101-naslib")):
        out = root / name
        out.mkdir()
        write_stats(*compute_stats(analytic_scores(benchmark[table]), cfg), out)
        dirs[name] = out
    return dirs


def test_nb101_section_sets_the_subset_s_numbers_beside_the_published(nb101_stats_dirs,
                                                                     tmp_path) -> None:
    from zeroshot_nas.paper.assemble import write_paper_tables
    from zeroshot_nas.stats.analysis import read_stats

    out = tmp_path / "generated"
    write_paper_tables(nb101_stats_dirs["nb101"], out, space_stats=nb101_stats_dirs)
    mlfe, _ = read_stats(nb101_stats_dirs["nb101"])
    table = pd.read_csv(out / "nb101_correlations.csv").set_index("score")
    assert set(table.index) == {"params", "flops"}
    corr = mlfe["correlations"]
    ours = corr[(corr["score"] == "params") & (corr["method"] == "spearman")
                & (corr["target"] == "test_acc") & (corr["policy"] == "kept_worst")
                & (corr["subset"] == "all")].iloc[0]
    assert table.loc["params", "spearman"] == pytest.approx(ours["value"])
    assert table.loc["params", "n_cells"] == 846 and table.loc["params", "n_rows"] == 2000
    assert table["spearman_published"].isna().all()  # none found: nothing invented
    naslib = pd.read_csv(out / "nb101_naslib.csv").set_index("score")
    assert naslib.loc["params", "agreement"] > 0.99 and (naslib["n"] == 292).all()
    # NASLib's own parameter counts rank the cells as ours do, so their accuracy
    # correlations are close
    assert abs(naslib.loc["params", "ours"] - naslib.loc["params", "naslib"]) < 0.02
    section = (out / "section_nb101.tex").read_text(encoding="utf-8")
    assert "a subset of NAS-Bench-101, not its whole space" in section
    for piece in ("nb101_correlations", "nb101_naslib", "claims_nb101"):
        assert rf"\input{{generated/{piece}.tex}}" in section
    assert "NWOT Figure 1(a)" in section and r"\missing" in section  # no figures given
    assert "when that experiment is on nb101" in section
    claims = pd.read_csv(out / "claims.csv")
    assert claims.loc[claims["paper"] == "nb101", "verdict"].tolist() == ["not testable here"]


def test_nb101_section_of_a_run_without_nb101_says_so(nb101_stats_dirs, tmp_path) -> None:
    from zeroshot_nas.paper.assemble import write_paper_tables

    out = tmp_path / "generated"
    write_paper_tables(nb101_stats_dirs["nb101"], out)  # no NB101 statistics passed
    for key in ("nb101_correlations", "nb101_naslib"):
        assert (out / f"{key}.tex").read_text().startswith("% missing: no NAS-Bench-101")
    missing = pd.read_csv(out / "not_reproduced.csv")
    assert missing["why"].str.contains("no NAS-Bench-101 experiment on MLFE").any()
    pipeline = missing[missing["scope"] == "pipeline"]["item"]
    assert not pipeline.str.contains(r"Figure 1\(a\) \(histograms").any()  # reproduced now


def test_the_plan_reads_the_nb101_experiments_for_the_paper(tmp_path) -> None:
    config = validate_config(nb101_config())
    config["experiments"]["naslib"] = {**config["experiments"]["nb101"],
                                       "nb101_table": "naslib"}
    config["experiments"]["c10"] = {**config["experiments"]["nb101"], "space": "nb201"}
    config["report_experiment"] = "c10"
    plan = Plan(config, REPO_ROOT)
    assert plan.space_stats() == {"nb101": "results/nb101/stats",
                                  "nb101-naslib": "results/naslib/stats"}
    assert set(plan.space_stats_made_of()) == {"nb101", "nb101-naslib"}
    # RB Table 1's samples: the report's space and table only
    assert plan.sample_stats() == {}
    config["experiments"]["c10-sample"] = {**config["experiments"]["c10"], "n_archs": 5}
    plan = Plan(config, REPO_ROOT)
    assert plan.sample_stats() == {"c10-sample": "results/c10-sample/stats"}
    assert set(plan.sample_stats_made_of()) == {"c10-sample"}


# ---------------------------------------------------------------------------- workflow
@pytest.mark.slow  # scores 10 NB101 networks (three scores, batch 16) and runs every stage
def test_ten_architecture_nb101_run_through_the_workflow(tmp_path, shared_data, snakemake_exe):
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(nb101_config()), encoding="utf-8")
    env = dict(os.environ)
    env.pop("ZEROSHOT_NAS_MIRROR", None)
    cmd = [snakemake_exe, "-s", str(REPO_ROOT / "Snakefile"), "--directory", str(tmp_path),
           "--configfile", str(tmp_path / "config.yaml"), "--profile",
           str(REPO_ROOT / "profiles" / "default"), "--cores", "2"]
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = tmp_path / "results" / "nb101"
    scores = pd.read_parquet(out / "scores.parquet")
    assert scores["arch"].nunique() == 10 and set(scores["space"]) == {"nb101"}
    assert scores["test_acc"].between(0, 100).all() and scores["n_runs"].ge(1).all()
    assert not (tmp_path / "data" / "benchmarks" / "nb201.parquet").exists()
    corr = pd.read_csv(out / "stats" / "correlations.csv")
    assert set(corr["score"]) >= {"naswot", "synflow", "jacob_cov"}
    assert (out / "stats" / "nb101_row_correlations.csv").is_file()
    drawn = {p.name for p in (out / "figures").glob("*.png")}
    assert "nwot_fig1a_cifar10.png" in drawn and "nwot_fig1_cifar10.png" not in drawn
    runs = pd.read_csv(out / "search" / "tables" / "search_summary.csv")
    assert set(runs.loc[runs["space"] == "nb101", "algorithm"]) == {
        "random_score", "random_train", "rea", "area"}
    assert (out / "search" / "figures" / "search_anytime_nb101.png").is_file()
    manifest = json.loads((out / "figures" / "figures_manifest.json").read_text())
    assert manifest["run"]["space"] == ["nb101"]
    assert copy.deepcopy(manifest)  # readable JSON
    generated = out / "paper" / "generated"
    section = (generated / "section_nb101.tex").read_text(encoding="utf-8")
    assert r"\input{generated/fig_nwot_fig1a_cifar10.tex}" in section
    assert r"\input{generated/search_float_naswot_nb101.tex}" in section
    table = pd.read_csv(generated / "nb101_correlations.csv")
    assert set(table["score"]) >= {"naswot", "synflow", "jacob_cov"}
    assert (table["n_cells"] == 10).all() and table["spearman"].between(-1, 1).all()
    search = pd.read_csv(generated / "search_naswot_nb101.csv")
    assert {"AREA", "REA"} <= set(search["method"].str.split(" ").str[0])
    claims = pd.read_csv(generated / "claims.csv")
    assert claims.loc[claims["paper"] == "nb101", "verdict"].iloc[0] != "not testable here"
