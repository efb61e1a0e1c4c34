"""AZ-NAS: its three network parts equal the authors' code on stored fixtures, the complexity
part equals the official FLOPs, and the rank aggregation lives in the statistics."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import REPO_ROOT
from scipy.stats import rankdata
from test_proxies import GOOD, real_batch
from torch import nn

from zeroshot_nas.config import ConfigError, validate_config
from zeroshot_nas.proxies import Protocol, get_spec, score_architecture
from zeroshot_nas.proxies.az_nas import PARTS, pullback_term, spectral_entropy
from zeroshot_nas.proxies.registry import combinations
from zeroshot_nas.proxies.runner import context_for, run_score
from zeroshot_nas.stats import core
from zeroshot_nas.stats.analysis import ScoreInfo, StatsConfig, compute_stats

REFERENCE = REPO_ROOT / "tests" / "fixtures" / "reference"
NETWORK_PARTS = ("az_expressivity", "az_progressivity", "az_trainability")


def load(name: str) -> dict:
    return json.loads((REFERENCE / f"{name}.json").read_text(encoding="utf-8"))


def test_parts_equal_az_nas_code_on_the_fixture():
    # Their eigenvalues and matrices are float32, ours float64: the per-feature entropies
    # differ by ~1e-7, so the sums by up to 3e-6 (measured) and the differences of entropies
    # (progressivity) by 4e-7; 1e-5 absolute covers both, far below any architecture gap.
    doc = load("az_nas")
    p = doc["protocol"]
    batch = real_batch(p["dataset"], p["batch_size"], p["seed"])
    for key, arch in doc["archs"].items():
        ours = {r.score: r for r in score_architecture("nb201", arch, p["dataset"], batch,
                                                       list(NETWORK_PARTS), Protocol(seed=p["seed"]))}
        for name in NETWORK_PARTS:
            theirs = float(doc["values"][key][name])
            if math.isinf(theirs):
                assert ours[name].value == theirs, (key, name)
            else:
                assert ours[name].value == pytest.approx(theirs, rel=1e-6, abs=1e-5), (key, name)
    # The cut-off architecture's constant features give -inf, as their NaN -> -inf does.
    assert doc["values"]["cut_off"]["az_expressivity"] == "-inf"


def test_complexity_part_is_the_official_flops():
    doc = load("flops")
    for ident, arch in doc["archs"].items():
        for dataset, official in doc["values"][ident].items():
            batch = real_batch(dataset, 2, 0)
            ours = score_architecture("nb201", arch, dataset, batch, ["flops"], Protocol())[0]
            assert ours.value == pytest.approx(official, abs=5e-6), (ident, dataset)


def test_spectral_entropy_of_known_spectra():
    gen = torch.Generator().manual_seed(0)
    # Channels of equal variance, independent: entropy close to log C.
    iso = torch.randn(64, 8, 16, 16, generator=gen)
    assert spectral_entropy(iso) == pytest.approx(math.log(8), abs=0.01)
    # One channel carrying everything: entropy 0.
    one = torch.zeros(16, 4, 8, 8)
    one[:, 0] = torch.randn(16, 8, 8, generator=gen)
    assert spectral_entropy(one) == pytest.approx(0.0, abs=1e-6)
    assert math.isnan(spectral_entropy(torch.ones(4, 3, 5, 5)))


def test_pullback_term_of_a_scaling_and_of_the_identity():
    f_in = torch.randn(4, 3, 5, 5, requires_grad=True)
    g_out = (torch.randint(0, 2, (4, 3, 5, 5)) * 2 - 1).float()
    assert pullback_term(f_in, f_in * 1.0, g_out) == -math.inf
    a = 0.5
    rows = g_out.double().permute(0, 2, 3, 1).reshape(-1, 3)
    sigma = a * float(torch.linalg.matrix_norm(rows.T @ rows / 100, ord=2))
    assert pullback_term(f_in, f_in * a, g_out) == pytest.approx(-sigma - 1 / (sigma + 1e-6) + 2)


def test_parts_need_the_cell_structure_and_share_one_forward():
    for name in NETWORK_PARTS:
        assert get_spec(name).needs_space and get_spec(name).higher_is_better
    batch = real_batch(n=8)
    ctx = context_for("nb201", GOOD, "ImageNet16-120", batch, list(NETWORK_PARTS), Protocol())
    for name in NETWORK_PARTS:
        run_score(ctx, name)
    assert ctx.consumers["az_forward"] == set(NETWORK_PARTS)
    assert ctx.consumers["az_entropies"] == {"az_expressivity", "az_progressivity"}
    plain = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU())
    other = context_for("model", "plain", None, batch, ["az_expressivity"], Protocol(),
                        network=plain)
    assert "no 'stem' and 'cells'" in run_score(other, "az_expressivity")[1]["error"]


def test_log_rank_sum_is_az_nas_aggregation():
    rng = np.random.default_rng(0)
    m = rng.normal(size=(30, 4))
    m[3, 1] = -np.inf
    m[5, 2] = m[6, 2]  # a tie
    directions = [True, True, True, False]
    # AZ-NAS: Σ log(rankdata(score) / n), each score oriented so that larger is better.
    oriented = np.column_stack([m[:, j] if d else -m[:, j] for j, d in enumerate(directions)])
    expected = sum(np.log(rankdata(oriented[:, j]) / 30) for j in range(4))
    assert np.allclose(core.log_rank_sum(m, directions), expected)


def test_az_nas_is_a_combination_not_a_per_architecture_score():
    combo = combinations()["az_nas"]
    assert combo.parts == PARTS and "flops" in combo.parts
    with pytest.raises(ValueError, match="az_expressivity, az_progressivity, az_trainability"):
        get_spec("az_nas")
    config = {"experiments": {"e": {"space": "nb201", "datasets": ["cifar10"], "n_archs": 3,
                                    "seeds": [0], "proxies": ["az_nas"]}}}
    with pytest.raises(ConfigError, match="list those scores instead"):
        validate_config(config)


def test_statistics_add_az_nas_where_its_parts_were_scored():
    rng = np.random.default_rng(1)
    n = 40
    acc = rng.uniform(60, 90, n)
    rows = []
    for i in range(n):
        for name in PARTS:
            rows.append({"arch": f"a{i}", "dataset": "cifar10", "seed": 0, "score": name,
                         "value": acc[i] + rng.normal(0, 5), "status": "ok",
                         "test_acc": acc[i], "valid_acc": acc[i], "seconds": 0.1})
    df = pd.DataFrame(rows)
    infos = {name: ScoreInfo(name, True, False) for name in PARTS}
    tables, summary = compute_stats(df, StatsConfig(bootstrap=20, best_of_n=10, best_of_runs=2,
                                                    rank_combination=(), info=infos.__getitem__))
    corr = tables["correlations"]
    assert "az_nas" in set(corr["score"])
    spec = tables["score_specs"].set_index("score").loc["az_nas"]
    assert spec["family"] == "combination" and spec["higher_is_better"]
    # Combining four noisy copies of the accuracy ranks better than any one of them.
    kendall = corr[(corr["method"] == "kendall") & (corr["subset"] == "all")
                   & (corr["target"] == "test_acc") & (corr["policy"] == "kept_worst")]
    by = kendall.set_index("score")["value"]
    assert by["az_nas"] > max(by[p] for p in PARTS)
