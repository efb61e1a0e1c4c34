"""The public API: any PyTorch model scored on a batch (README example run verbatim)."""

from __future__ import annotations

import contextlib
import io
import re

import pytest
import torch
from conftest import REPO_ROOT
from test_proxies import GOOD, real_batch
from torch import nn

import zeroshot_nas
from zeroshot_nas.api import applicable_scores
from zeroshot_nas.proxies import REGISTRY, Protocol, score_architecture
from zeroshot_nas.proxies.network import build_initialised_network


def readme_example() -> str:
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"## Your own network, from Python\n.*?```python\n(.*?)```", text, re.S)
    assert match, "README.md lost its 'Your own network, from Python' example"
    return match.group(1)


def test_readme_example_runs_as_written():
    out = io.StringIO()
    namespace: dict = {}
    with contextlib.redirect_stdout(out):
        exec(compile(readme_example(), "README.md", "exec"), namespace)
    table = namespace["result"]
    assert list(table["status"]) == ["ok"] * len(table)
    assert "naswot" in out.getvalue()


class PlainCNN(nn.Module):
    def __init__(self, classes: int) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
            nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
            nn.AvgPool2d(2), nn.Conv2d(16, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(16, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.flatten(self.pool(self.features(x)), 1))


class ResidualBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(c_out),
            nn.ReLU(), nn.Conv2d(c_out, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out))
        self.shortcut = (nn.Identity() if stride == 1 and c_in == c_out else
                         nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False),
                                       nn.BatchNorm2d(c_out)))
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.body(x) + self.shortcut(x))


class SmallResNet(nn.Module):
    def __init__(self, classes: int) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8),
                                  nn.ReLU())
        self.blocks = nn.Sequential(ResidualBlock(8, 8, 1), ResidualBlock(8, 16, 2))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.pool(self.blocks(self.stem(x))), 1))


@pytest.mark.parametrize("make", [PlainCNN, SmallResNet])
def test_networks_that_are_not_cells_get_every_applicable_score(make):
    x, y = real_batch("cifar10", 16, 0)
    torch.manual_seed(0)
    model = make(10)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    table = zeroshot_nas.score_model(model, x, y, seed=0, ntk_batch_size=4)
    assert list(table["score"]) == applicable_scores(labelled=True)
    assert set(table["status"]) <= {"ok", "nan", "+inf", "-inf"}, table[table.status == "error"]
    assert (table["status"] == "ok").mean() > 0.9
    assert table.set_index("score").loc["flops", "value"] > 0
    # The caller's model is scored on a copy: weights, statistics and mode untouched.
    assert model.training
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]), k
    again = zeroshot_nas.score_model(model, x, y, scores=["vkdnw", "snip", "naswot"], seed=0,
                                     ntk_batch_size=4, mode="standalone")
    by = table.set_index("score")["value"]
    for _, row in again.iterrows():
        assert row["value"] == pytest.approx(by[row["score"]], rel=1e-9), row["score"]


def test_a_given_nb201_network_scores_as_the_space_scores_it():
    batch = real_batch("cifar10", 8, 0)
    names = ["snip", "naswot", "synflow", "vkdnw", "flops", "epe_nas", "jacob_cov"]
    net = build_initialised_network("nb201", GOOD, "cifar10", Protocol())
    via_api = zeroshot_nas.score_model(net, *batch, scores=names, seed=0).set_index("score")
    via_space = score_architecture("nb201", GOOD, "cifar10", batch, names, Protocol())
    for r in via_space:
        assert via_api.loc[r.score, "value"] == pytest.approx(r.value, rel=1e-12), r.score


def test_scores_that_cannot_apply_are_refused_by_name():
    x, y = real_batch("cifar10", 4, 0)
    model = PlainCNN(10)
    with pytest.raises(ValueError, match="linear_regions, az_trainability read a search space"):
        zeroshot_nas.score_model(model, x, y, scores=["snip", "linear_regions", "az_trainability"])
    with pytest.raises(ValueError, match="snip need labels"):
        zeroshot_nas.score_model(model, x, scores=["snip", "naswot"])
    with pytest.raises(ValueError, match="unknown proxy 'nope'"):
        zeroshot_nas.score_model(model, x, y, scores=["nope"])
    with pytest.raises(ValueError, match="N×C×H×W"):
        zeroshot_nas.score_model(model, x[0], y, scores=["naswot"])
    with pytest.raises(ValueError, match="4 integer class indices"):
        zeroshot_nas.score_model(model, x, y[:3], scores=["snip"])
    unlabelled = applicable_scores(labelled=False)
    assert "naswot" in unlabelled and "snip" not in unlabelled
    assert not any(REGISTRY[n].needs_space for n in unlabelled)
