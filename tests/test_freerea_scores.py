"""FreeREA's per-architecture score files: registry entries, the reader (on the real mirror
files), its refusals, and the per-architecture comparison with our scores."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import MIRROR, REPO_ROOT, tiny_config
from test_stats import real_benchmark

from zeroshot_nas.config import ConfigError, validate_config
from zeroshot_nas.data.freerea_scores import (
    GROUP,
    SOURCE_KEYS,
    FreeREAFileError,
    read_freerea_scores,
    read_metric_file,
)
from zeroshot_nas.data.sources import load_registry, verify
from zeroshot_nas.pipeline.plan import Plan
from zeroshot_nas.stats import analysis, crosscheck


@pytest.fixture(scope="module")
def files() -> dict[str, Path]:
    registry = load_registry()
    out = {key: MIRROR / registry[key].relpath for key in SOURCE_KEYS}
    if not all(p.is_file() for p in out.values()):
        pytest.skip(f"FreeREA score files not found under {MIRROR}")
    return out


@pytest.fixture(scope="module")
def theirs(files) -> pd.DataFrame:
    return read_freerea_scores(files, real_benchmark())


def test_registry_has_the_twelve_files_verified_and_optional(files):
    registry = load_registry()
    group = {k for k, s in registry.items() if s.group == GROUP}
    assert group == set(SOURCE_KEYS) and len(group) == 12
    for key, path in files.items():
        source = registry[key]
        assert source.optional and source.licence == "MIT"
        assert source.size == path.stat().st_size
        verify(path, source)  # sha256


def test_reader_maps_nats_indices_to_our_archs(theirs):
    assert len(theirs) == 12 * 15_625
    bench = real_benchmark()
    c10 = bench[bench.dataset == "cifar10"].set_index("index")["arch"]
    naswot = theirs[(theirs.dataset == "cifar10") & (theirs.metric == "naswot")]
    assert (naswot["arch"].to_numpy() == c10.to_numpy()).all()
    assert naswot["value"].iloc[0] == pytest.approx(740.845703125)  # first row of the file
    assert (naswot["value"] == -np.inf).sum() == 201  # singular kernels, as FreeREA wrote them
    nregions = theirs[theirs.metric == "nregions"].groupby("dataset")["value"].count()
    assert nregions["ImageNet16-120"] == 0 and nregions["cifar10"] == 15_625


@pytest.mark.parametrize("edit, message", [
    (lambda t: t.replace("index,naswot", "idx,naswot", 1), "expected the columns index,naswot"),
    (lambda t: "\n".join(t.splitlines()[:-1]) + "\n", "15624 rows, expected 15625"),
    (lambda t: t.replace("\n1,", "\n7,", 1), "row 2 has index '7'"),
    (lambda t: t.replace("\n1,781.9198811848959", "\n1,seven", 1), "index 1 is 'seven'"),
])
def test_malformed_files_are_refused_naming_the_file(files, tmp_path, edit, message):
    text = files[("freerea-cifar10-naswot")].read_text(encoding="utf-8")
    bad = tmp_path / "naswot.csv"
    bad.write_text(edit(text), encoding="utf-8")
    with pytest.raises(FreeREAFileError, match=message) as err:
        read_metric_file(bad, "naswot")
    assert str(bad) in str(err.value)


def ours_from(theirs: pd.DataFrame, n: int = 60) -> pd.DataFrame:
    """A long scores table of ``n`` CIFAR-10 architectures: naswot and logsynflow from
    FreeREA's values through a monotone map (and a non-finite naswot on both sides), synflow
    reversed; no linear_regions."""
    c10 = theirs[theirs.dataset == "cifar10"].set_index(["metric", "index"])["value"]
    arch = theirs[theirs.dataset == "cifar10"].groupby("index")["arch"].first().to_numpy()
    singular = np.flatnonzero(c10["naswot"].to_numpy() == -np.inf)
    idx = [*range(n - 1), int(singular[singular >= n - 1][0])]
    rows = []
    for seed in (0, 1):
        for score, fn in (("naswot", lambda v, s=seed: v / 7.0 + s), ("logsynflow", np.sqrt),
                          ("synflow", lambda v: -v)):
            vals = fn(c10[score].to_numpy()[idx])
            rows.append(pd.DataFrame({"arch": arch[idx],
                                      "dataset": "cifar10", "seed": seed, "score": score,
                                      "value": vals, "status": "ok", "test_acc": 90.0,
                                      "valid_acc": 90.0}))
    return pd.concat(rows, ignore_index=True)


def test_spearman_with_freerea_per_dataset_and_score(theirs):
    ours = ours_from(theirs)
    check = crosscheck.freerea_check(ours, theirs, "mean").set_index(["dataset",
                                                                       "freerea_metric"])
    naswot = check.loc[("cifar10", "naswot")]
    # architectures that are -inf on both sides are counted, not correlated
    c10 = theirs[(theirs.dataset == "cifar10") & (theirs.metric == "naswot")]
    singular = int((c10["arch"].isin(ours["arch"]) & (c10["value"] == -np.inf)).sum())
    assert singular >= 1
    assert (naswot.n_common, naswot.n_ours, naswot.n_nonfinite_both) == (60 - singular, 60,
                                                                         singular)
    assert naswot.spearman == pytest.approx(1.0) and naswot.note == ""
    assert check.loc[("cifar10", "synflow")].spearman == pytest.approx(-1.0)
    logsyn = check.loc[("cifar10", "logsynflow")]
    assert logsyn.kendall == pytest.approx(1.0) and logsyn.n_common == 60
    assert "did not score linear_regions" in check.loc[("cifar10", "nregions")].note
    assert list(check.index) == [("cifar10", m) for m in crosscheck.PAIRS]  # the run's data set
    # FreeREA's ImageNet16-120 nregions file is empty: scored by us, still not comparable
    regions = ours[ours.score == "naswot"].assign(score="linear_regions")
    both = pd.concat([ours, regions.assign(dataset="ImageNet16-120")])
    check = crosscheck.freerea_check(both, theirs, "mean").set_index(["dataset",
                                                                      "freerea_metric"])
    assert "0 architecture(s) with a finite value" in check.loc[("ImageNet16-120",
                                                                 "nregions")].note


def test_stats_write_the_check_and_say_what_was_skipped(theirs, tmp_path):
    ours = ours_from(theirs, 20)
    cfg = analysis.StatsConfig(bootstrap=0, best_of_n=5, best_of_runs=1, rank_combination=(),
                               info=lambda n: analysis.ScoreInfo(n, True, False))
    tables, summary = analysis.compute_stats(ours, cfg, freerea=theirs)
    analysis.write_stats(tables, summary, tmp_path)
    back = pd.read_csv(tmp_path / "freerea_check.csv")
    assert len(back) == 4 and (tmp_path / "freerea_check.parquet").is_file()
    assert "FreeREA" in summary["freerea_check"]
    assert any("linear_regions" in n for n in summary["notes"])


def plan_of(freerea_check: bool, space: str = "nb201") -> Plan:
    config = tiny_config()
    config["stats"]["freerea_check"] = freerea_check
    config["experiments"]["tiny"]["space"] = space
    config["experiments"]["other"] = dict(config["experiments"]["tiny"], space="nb201")
    config = validate_config(config, REPO_ROOT / "workflow" / "schemas" / "config.schema.yaml")
    return Plan(config, REPO_ROOT)


def test_the_workflow_downloads_and_reads_the_files_only_when_asked():
    off, on = plan_of(False), plan_of(True)
    assert not set(SOURCE_KEYS) & set(off.needed_sources())
    assert set(SOURCE_KEYS) <= set(on.needed_sources())
    assert set(on.stats_inputs("tiny")) - set(off.stats_inputs("tiny")) == set(SOURCE_KEYS)
    assert on.stats_inputs("other") == off.stats_inputs("other")  # the report experiment's only
    with pytest.raises(ConfigError, match="'stats.freerea_check'.*nats_sss"):
        plan_of(True, space="nats_sss")
