"""linear_regions (TE-NAS): equal to the authors' counter on stored fixtures, and its parts."""

from __future__ import annotations

import json

import pytest
import torch
from conftest import REPO_ROOT
from test_proxies import CUT, GOOD, real_batch
from torch import nn

from zeroshot_nas.proxies import Protocol, get_spec, score_architecture
from zeroshot_nas.proxies.regions import (
    CROPS_PER_BATCH,
    activation_patterns,
    count_patterns,
    random_crops,
    thin_cell_network,
)
from zeroshot_nas.proxies.runner import context_for, run_score

FIXTURE = REPO_ROOT / "tests" / "fixtures" / "reference" / "linear_regions.json"


def fixture() -> dict:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def fixture_batch(doc: dict):
    p = doc["protocol"]
    return real_batch(p["dataset"], p["batch_size"], p["seed"])


def test_linear_regions_equals_te_nas_counter_on_the_fixture():
    # TE-NAS's calc_LR sums 1/(class size) in float16/float32; with these class sizes that
    # sum is the integer count, so ours (an exact count of distinct rows) must equal it.
    doc = fixture()
    batch = fixture_batch(doc)
    for key, arch in doc["archs"].items():
        ours = score_architecture("nb201", arch, doc["protocol"]["dataset"], batch,
                                  ["linear_regions"], Protocol(seed=doc["protocol"]["seed"]))[0]
        assert ours.status == "ok", ours.extra
        assert ours.value == pytest.approx(doc["values"][key]["linear_regions"], abs=1e-3), key


def test_fixture_records_its_provenance():
    doc = fixture()
    assert doc["repository"] == "VITA-Group/TENAS"
    assert len(doc["commit"]) == 40 and doc["commit"] in get_spec("linear_regions").source
    assert {"normal", "skip_heavy", "cut_off"} <= set(doc["archs"])
    assert doc["command"] and doc["date"] and doc["torch"]


def test_count_patterns_counts_distinct_rows():
    codes = torch.tensor([[1, 0, 1], [1, 0, 1], [0, 0, 0], [1, 1, 1], [0, 0, 0]], dtype=torch.bool)
    assert count_patterns(codes) == 3
    assert count_patterns(codes[:1]) == 1


def test_random_crops_are_seeded_3x3_one_channel_windows_of_the_batch():
    x = torch.arange(2 * 3 * 8 * 8, dtype=torch.float32).reshape(2, 3, 8, 8)
    crops = random_crops(x, 50, seed=7)
    assert crops.shape == (50, 1, 3, 3)
    assert torch.equal(crops, random_crops(x, 50, seed=7))
    assert not torch.equal(crops, random_crops(x, 50, seed=8))
    # Every crop is a contiguous 3×3 window of one channel of one image.
    for crop in crops:
        v = int(crop[0, 0, 0])
        image, rest = divmod(v, 3 * 64)
        channel, pos = divmod(rest, 64)
        top, left = divmod(pos, 8)
        assert torch.equal(crop[0], x[image, channel, top:top + 3, left:left + 3])


def test_patterns_read_only_relus_with_4d_input():
    net = nn.Sequential(nn.Conv2d(1, 2, 1), nn.ReLU(), nn.Flatten(), nn.Linear(8, 3), nn.ReLU())
    codes = activation_patterns(net, torch.randn(5, 1, 2, 2))
    assert codes.shape == (5, 8)  # the conv ReLU's 2×2×2 units; the 2-D ReLU is not read
    assert codes.dtype == torch.bool


def test_thin_network_is_the_cell_with_one_channel():
    batch = real_batch(n=8)
    ctx = context_for("nb201", GOOD, "ImageNet16-120", batch, ["linear_regions"], Protocol())
    thin = thin_cell_network(ctx)
    assert thin[0].ops == ctx.network().cells[0].ops
    assert all(m.in_channels == 1 == m.out_channels
               for m in thin.modules() if isinstance(m, nn.Conv2d))
    # Its own seed: the same thin network every time, and never the scored network's weights.
    again = thin_cell_network(context_for("nb201", GOOD, "ImageNet16-120", batch,
                                          ["linear_regions"], Protocol()))
    for a, b in zip(thin.parameters(), again.parameters(), strict=True):
        assert torch.equal(a, b)


def test_linear_regions_is_bounded_by_the_samples_and_shares_no_pass():
    batch = real_batch(n=8)
    names = ["linear_regions", "naswot"]
    fused = {r.score: r for r in score_architecture("nb201", CUT, "ImageNet16-120", batch, names,
                                                    Protocol())}
    value = fused["linear_regions"].value
    assert 1 <= value <= 3 * CROPS_PER_BATCH and value == int(value)
    assert fused["linear_regions"].extra["samples"] == 3 * CROPS_PER_BATCH


def test_linear_regions_needs_a_cell():
    assert get_spec("linear_regions").needs_space
    batch = real_batch(n=8)
    plain = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                          nn.Linear(4, 120))
    ctx = context_for("model", "plain", None, batch, ["linear_regions"], Protocol(), network=plain)
    value, extra, _ = run_score(ctx, "linear_regions")
    assert "has none" in extra["error"]
