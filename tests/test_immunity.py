"""Noise immunity as the rank-based authors' code computes it (``ni``) and as their paper's
text defines it (``ni_eta``)."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from zeroshot_nas.proxies import Protocol
from zeroshot_nas.proxies.context import ArchContext
from zeroshot_nas.proxies.immunity import authors_ni, ni, ni_eta
from zeroshot_nas.proxies.numerics import randn_like_seeded
from zeroshot_nas.proxies.runner import run_score
from zeroshot_nas.spaces.cells import Conv1x1BN, ReLUConvBN


class HandNet(nn.Module):
    """stem conv 3→4, ReLUConvBN 4→6, avg-pool, Conv1x1BN 6→5, global pool, classifier; an
    optional dead branch (a ReLUConvBN and a pool) whose output never reaches the logits."""

    def __init__(self, dead_branch: bool = False) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 3, padding=1, bias=False)
        self.block = ReLUConvBN(4, 6, 3, 1, 1)
        self.pool = nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
        self.widen = Conv1x1BN(6, 5)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(5, 10)
        self.dead = nn.Sequential(ReLUConvBN(4, 7, 1, 1, 0), nn.AvgPool2d(2)) if dead_branch else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.stem(x)
        if self.dead is not None:
            self.dead(h)  # computed, never used: no backward pass reaches it
        h = self.widen(self.pool(self.block(h)))
        return self.classifier(torch.flatten(self.gap(h), 1))


def context(net: nn.Module, x: torch.Tensor) -> ArchContext:
    return ArchContext("nb201", "hand-built", "cifar10", (x, None), {"pool"}, Protocol(seed=3),
                       network=net)


def pool_inputs(net: HandNet, x: torch.Tensor) -> list[torch.Tensor]:
    """The inputs of the live pooling layers, recomputed by hand."""
    with torch.no_grad():
        a = net.block(net.stem(x))
        b = net.widen(net.pool(a))
    return [a, b]


@pytest.mark.parametrize("dead_branch", [False, True])
def test_ni_of_a_hand_built_network_is_the_authors_formula(dead_branch):
    torch.manual_seed(0)
    net = HandNet(dead_branch).train()
    x = torch.randn(8, 3, 8, 8, generator=torch.Generator().manual_seed(1)) * 0.1
    ctx = context(net, x)
    value, extra, _ = run_score(ctx, "ni")
    # Live conv units: stem Conv2d, the ReLUConvBN block and its inner Conv2d, Conv1x1BN's
    # Conv2d (the block class itself is no unit, as xautodl's FactorizedReduce): 4. Channels:
    # 3 + 4 + 4 + 6 of those units, 6 + 5 at the avg-pool and the global pool: 28. The dead
    # branch's ReLUConvBN, Conv2d and pool are not counted.
    assert extra["conv_units"] == 4 and extra["channels"] == 28 and extra["pooling_layers"] == 2
    z = randn_like_seeded(x, 3, "ni-noise")
    clean, noisy = pool_inputs(net, x), pool_inputs(net, x + z)
    eta = sum(float((g.double() - f.double()).pow(2).mean()) for f, g in zip(clean, noisy, strict=True))
    assert extra["eta"] == pytest.approx(eta, rel=1e-6)
    assert eta > 1
    assert value == pytest.approx(math.log(28 * (4 / 2) / math.log(1e-10 + eta)), rel=1e-6)


def test_ni_eta_counts_every_pooling_input():
    torch.manual_seed(0)
    net = HandNet(dead_branch=True).train()
    x = torch.randn(8, 3, 8, 8, generator=torch.Generator().manual_seed(1))
    value, extra = ni_eta(context(net, x))
    assert extra["pooling_layers"] == 3  # the paper's text: all pooling layers
    alive, _ = ni(context(net, x))
    assert math.isfinite(value) and math.isfinite(alive)


def test_authors_fallbacks():
    # η ≤ 1: log(1e-10 + η) ≤ 0, the authors return 0.
    assert authors_ni([0.2, 0.3], channels=100, conv_units=10) == (0.0, "log(1e-10 + η) <= 0")
    assert authors_ni([1.0 - 1e-9], channels=100, conv_units=10)[0] == 0.0
    # Just above 1 the transform explodes, as in their code: a score of about 30.
    assert authors_ni([1.0], channels=100, conv_units=10)[0] == pytest.approx(math.log(1e13), rel=1e-3)
    # No pooling layer on a path to the output: their division by zero is caught, 0.
    assert authors_ni([], channels=100, conv_units=10) == (0.0, "no pooling layer on a path "
                                                           "to the output")
    # No conv unit: log(0) = -inf, as NumPy gives them.
    assert authors_ni([5.0], channels=100, conv_units=0) == (-math.inf, None)
    value, fallback = authors_ni([2.0, 5.0], channels=120, conv_units=9)
    assert fallback is None
    assert value == pytest.approx(math.log(120 * (9 / 2) / math.log(1e-10 + 7.0)))
    # Smaller η (more immune) scores higher.
    assert authors_ni([3.0], 120, 9)[0] > authors_ni([30.0], 120, 9)[0]


def test_ni_counts_an_nb201_network_as_xautodl_hooks_would():
    # All-3x3 cell: per cell 6 ReLUConvBN (12 units), 3 cells a stage; reduction blocks:
    # conv_a, conv_b (4 units) + downsample conv; stem conv. Pools: 2 downsample + global.
    arch = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
    x = torch.randn(4, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    from zeroshot_nas.proxies.runner import score_architecture

    (result,) = score_architecture("nb201", arch, "cifar10", (x, None), ["ni"], Protocol(batch_size=4))
    cells = 15 * 12
    blocks = 2 * 5
    assert result.extra["conv_units"] == 1 + cells + blocks
    assert result.extra["pooling_layers"] == 3
    widths = [16] * 5 + [32] * 5 + [64] * 5
    channels = 3 + sum(2 * 6 * c for c in widths) + (2 * 16 + 2 * 32 + 16) + (2 * 32 + 2 * 64 + 32)
    channels += 16 + 32 + 64  # pooling inputs: two downsample pools, the global pool
    assert result.extra["channels"] == channels
