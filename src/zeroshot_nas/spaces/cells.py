"""The torch modules of the NB201 / NATS networks (xautodl's infer cells and blocks), and the
builders of every space's network (NB101's modules are in ``nb101_network``).

Module attribute names follow xautodl's layout (``stem``, ``cells.i.layers.j.op``,
``conv_a``/``conv_b``/``downsample``, ``lastact``, ``classifier``) so that parameter names
line up with official checkpoints.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from . import nats_sss, nb201
from .nb101_network import build_nb101
from .nb201 import EDGES, NUM_NODES, OPS, ops_to_arch


class Zero(nn.Module):
    """The ``none`` op: zeros shaped like the op's output."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.c_in = c_in
        self.c_out = c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.c_in == self.c_out:
            # x * 0 (as xautodl does) rather than fresh zeros: the autograd graph stays
            # connected and non-finite inputs propagate exactly as in the reference.
            return x.mul(0.0)
        shape = list(x.shape)
        shape[1] = self.c_out
        return x.new_zeros(shape)

    def extra_repr(self) -> str:
        return f"c_in={self.c_in}, c_out={self.c_out}"


class ReLUConvBN(nn.Module):
    """ReLU -> Conv2d (no bias) -> BatchNorm2d, xautodl's ``ReLUConvBN``."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, padding: int) -> None:
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=padding, bias=False),
            nn.BatchNorm2d(c_out, affine=True, track_running_stats=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class Conv1x1BN(nn.Module):
    """``skip_connect`` between different widths at stride 1: xautodl's FactorizedReduce
    with stride 1, which applies Conv1x1+BN and no ReLU."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, 1, stride=1, padding=0, bias=False)
        self.bn = nn.BatchNorm2d(c_out, affine=True, track_running_stats=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(x))


def _channels_last(grad: torch.Tensor) -> torch.Tensor:
    try:
        return grad.contiguous(memory_format=torch.channels_last)
    except RuntimeError as err:
        if "vmap" not in str(err):
            raise
        # torch.func's vmap (jacrev, per-sample gradients) holds no channels_last tensor:
        # the gradient goes on as it is, same values, the slower kernel
        return grad


class AvgPool3x3(nn.AvgPool2d):
    """The ``avg_pool_3x3`` op (3×3, stride 1, padding 1, padding not counted).

    PyTorch's CPU kernels for this pooling on NCHW tensors are a hotspot (forward 2–3.5× a
    same-shape 3×3 convolution), while its channels_last kernels are 4–15× faster. Each
    output element (and each input gradient) is the same sum of the same nine terms either
    way, so on CPU the pooling alone runs channels_last, forward and backward, and the network
    stays NCHW, whose float32 convolution and BatchNorm gradients agree with float64 far
    better than channels_last ones.
    """

    def __init__(self) -> None:
        super().__init__(3, stride=1, padding=1, count_include_pad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.device.type == "cpu" and x.dim() == 4 and x.is_contiguous():
            # NCHW in, NCHW out; a channels_last network stays channels_last (no conversion)
            pooled = super().forward(x.contiguous(memory_format=torch.channels_last))
            out = pooled.contiguous()
            if out.requires_grad:
                # the copy passes the gradient on unchanged: it reaches the pooling
                # channels_last (an NCHW one takes PyTorch's slow mixed-layout backward)
                out.register_hook(_channels_last)
            return out
        return super().forward(x)


def _avg_pool_3x3() -> nn.AvgPool2d:
    return AvgPool3x3()


def make_op(op: str, c_in: int, c_out: int) -> nn.Module:
    """One cell edge (stride 1) from ``c_in`` to ``c_out`` channels."""
    if op == "none":
        return Zero(c_in, c_out)
    if op == "skip_connect":
        return nn.Identity() if c_in == c_out else Conv1x1BN(c_in, c_out)
    if op == "nor_conv_1x1":
        return ReLUConvBN(c_in, c_out, 1, 1, 0)
    if op == "nor_conv_3x3":
        return ReLUConvBN(c_in, c_out, 3, 1, 1)
    if op == "avg_pool_3x3":
        if c_in == c_out:
            return _avg_pool_3x3()
        # xautodl's POOLING maps the width with a 1x1 ReLUConvBN before pooling.
        return nn.Sequential(ReLUConvBN(c_in, c_out, 1, 1, 0), _avg_pool_3x3())
    raise ValueError(f"unknown NB201 operation {op!r}; known: {list(OPS)}")


class InferCell(nn.Module):
    """NB201 cell: node j is the sum of the ops on its incoming edges; node 3 is the output."""

    def __init__(self, ops: Sequence[str], c_in: int, c_out: int) -> None:
        super().__init__()
        if len(ops) != len(EDGES):
            raise ValueError(f"an NB201 cell needs {len(EDGES)} ops, got {len(ops)}")
        self.ops = tuple(ops)
        self.in_dim = c_in
        self.out_dim = c_out
        # Only edges leaving the cell input change the width, as in xautodl's InferCell.
        self.layers = nn.ModuleList(
            make_op(op, c_in if src == 0 else c_out, c_out)
            for op, (_, src) in zip(self.ops, EDGES, strict=True)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        for node in range(1, NUM_NODES):
            total = None
            for layer, (dst, src) in zip(self.layers, EDGES, strict=True):
                if dst != node:
                    continue
                y = layer(nodes[src])
                total = y if total is None else total + y
            nodes.append(total)
        return nodes[-1]

    def extra_repr(self) -> str:
        return f"c_in={self.in_dim}, c_out={self.out_dim}, arch={ops_to_arch(self.ops)!r}"


class ResNetBasicBlock(nn.Module):
    """Reduction block between stages (xautodl ``ResNetBasicblock`` with stride 2)."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.in_dim = c_in
        self.out_dim = c_out
        self.conv_a = ReLUConvBN(c_in, c_out, 3, 2, 1)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, 1, 1)
        self.downsample = nn.Sequential(
            nn.AvgPool2d(kernel_size=2, stride=2, padding=0),
            nn.Conv2d(c_in, c_out, kernel_size=1, stride=1, padding=0, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.downsample(x) + self.conv_b(self.conv_a(x))


class CellNetwork(nn.Module):
    """Stem, a sequence of cells and reduction blocks, BN+ReLU, global pooling, classifier.

    ``forward`` returns the logits, shape (batch, num_classes).
    """

    def __init__(
        self,
        ops: Sequence[str],
        stem_channels: int,
        layer_channels: Sequence[int],
        layer_reductions: Sequence[bool],
        num_classes: int,
    ) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, stem_channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(stem_channels),
        )
        self.cells = nn.ModuleList()
        c_prev = stem_channels
        for c_curr, reduction in zip(layer_channels, layer_reductions, strict=True):
            cell = ResNetBasicBlock(c_prev, c_curr) if reduction else InferCell(ops, c_prev, c_curr)
            self.cells.append(cell)
            c_prev = c_curr
        self.lastact = nn.Sequential(nn.BatchNorm2d(c_prev), nn.ReLU(inplace=False))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_prev, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for cell in self.cells:
            x = cell(x)
        x = self.global_pooling(self.lastact(x))
        return self.classifier(torch.flatten(x, 1))




def build_nb201(arch: str, num_classes: int) -> CellNetwork:
    """The NATS "infer.tiny" network (C=16, N=5) of an NB201 arch string."""
    channels, reductions = nb201.layer_plan()
    return CellNetwork(nb201.parse_ops(arch), nb201.C, channels, reductions, num_classes)


def build_nats_sss(arch: str, num_classes: int) -> CellNetwork:
    """The "infer.shape.tiny" network of a NATS size-space channel string."""
    channels = nats_sss.parse_channels(arch)
    return CellNetwork(nb201.parse_ops(nats_sss.GENOTYPE), channels[0], channels,
                       nats_sss.LAYER_REDUCTIONS, num_classes)


BUILDERS = {"nb201": build_nb201, "nats_sss": build_nats_sss, "nb101": build_nb101}
