"""The network of the NAS-Bench-101 paper in torch, written from ``nasbench/lib/
model_builder.py`` and ``base_ops.py`` (Ying et al. 2019).

Stem: 3x3 convolution to 128 channels + BatchNorm + ReLU. Three stacks of three cells; before
the second and third stack a 2x2 max pooling (stride 2) halves the resolution and the cells
double their channels. In a cell, vertex t sums its inputs: the outputs of earlier operation
vertices (sliced to its channel count where one channel wider) and, when the cell input
feeds it, a 1x1 projection (conv + BN + ReLU) of the cell input to its channels; it then
applies its operation (conv3x3/conv1x1 + BN + ReLU, or a 3x3 max pooling, stride 1). The
cell output concatenates the vertices feeding it and adds a projection of the cell input
when the input feeds the output directly (a cell of input and output only is that
projection). Global average pooling, then a dense layer to the 10 CIFAR-10 classes.

Parameters equal the benchmark's ``trainable_parameters`` (kernels without bias, BN
gamma/beta, dense weight and bias); modules are registered in the order they are called.
BatchNorm: eps 1e-5 as the benchmark; PyTorch's default momentum (0.1, the PyTorch ports
NASLib and MLFE score with use it on the vertex operations; only the running statistics,
i.e. eval-mode BN and zen's BN term, depend on it).
"""

from __future__ import annotations

import torch
from torch import nn

from . import nb101
from .nb101 import Cell

BN_EPS = 1e-5


class ConvBnRelu(nn.Module):
    """Convolution (no bias, 'same' padding) -> BatchNorm -> ReLU (``base_ops.conv_bn_relu``)."""

    def __init__(self, c_in: int, c_out: int, kernel: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2, bias=False)
        self.bn = nn.BatchNorm2d(c_out, eps=BN_EPS)
        self.relu = nn.ReLU(inplace=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.bn(self.conv(x)))


def make_op(op: str, channels: int) -> nn.Module:
    """The operation of a vertex with ``channels`` input and output channels."""
    if op == "conv3x3-bn-relu":
        return ConvBnRelu(channels, channels, 3)
    if op == "conv1x1-bn-relu":
        return ConvBnRelu(channels, channels, 1)
    if op == "maxpool3x3":
        return nn.MaxPool2d(3, stride=1, padding=1)
    raise ValueError(f"unknown NB101 operation {op!r}; known: {list(nb101.OPS)}")


class Vertex(nn.Module):
    """One operation vertex: the projection of the cell input (when the input feeds it),
    then its operation, registered in that (call) order."""

    def __init__(self, op: str, c_in: int, channels: int, from_input: bool) -> None:
        super().__init__()
        self.channels = channels
        self.projection = ConvBnRelu(c_in, channels, 1) if from_input else None
        self.op = make_op(op, channels)

    def forward(self, x: torch.Tensor, earlier: list[torch.Tensor]) -> torch.Tensor:
        # Wider inputs are one channel wider at most (the output split's remainder); the
        # benchmark keeps their first channels.
        inputs = [t[:, : self.channels] for t in earlier]
        if self.projection is not None:
            inputs.append(self.projection(x))
        total = inputs[0]
        for t in inputs[1:]:
            total = total + t
        return self.op(total)


class NB101Cell(nn.Module):
    """A NAS-Bench-101 module (cell) from ``c_in`` to ``c_out`` channels."""

    def __init__(self, cell: Cell, c_in: int, c_out: int) -> None:
        super().__init__()
        self.cell = cell
        n = cell.num_vertices
        channels = nb101.vertex_channels(c_in, c_out, cell)
        self.vertices = nn.ModuleList(
            Vertex(cell.ops[t], c_in, channels[t], cell.edge(0, t)) for t in range(1, n - 1)
        )
        self.output_projection = ConvBnRelu(c_in, c_out, 1) if cell.edge(0, n - 1) else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = self.cell.num_vertices
        values: list[torch.Tensor] = []  # outputs of vertices 1 .. n-2
        for t, vertex in enumerate(self.vertices, start=1):
            values.append(vertex(x, [values[s - 1] for s in range(1, t) if self.cell.edge(s, t)]))
        concat = [values[t - 1] for t in range(1, n - 1) if self.cell.edge(t, n - 1)]
        out = torch.cat(concat, dim=1) if len(concat) > 1 else concat[0] if concat else None
        if self.output_projection is not None:
            projected = self.output_projection(x)
            out = projected if out is None else out + projected
        return out

    def extra_repr(self) -> str:
        return f"arch={nb101.cell_to_arch(self.cell)!r}"


class NB101Network(nn.Module):
    """Stem, three stacks of three cells with max-pool down-sampling, global pooling, dense.

    ``forward`` returns the logits, shape (batch, num_classes).
    """

    def __init__(self, cell: Cell, num_classes: int = 10) -> None:
        super().__init__()
        self.stem = ConvBnRelu(3, nb101.STEM_CHANNELS, 3)
        self.layers = nn.ModuleList()
        c_prev = nb101.STEM_CHANNELS
        for i, c_out in enumerate(nb101.stack_channels()):
            if i and i % nb101.MODULES_PER_STACK == 0:
                self.layers.append(nn.MaxPool2d(2, stride=2))
            self.layers.append(NB101Cell(cell, c_prev, c_out))
            c_prev = c_out
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_prev, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for layer in self.layers:
            x = layer(x)
        return self.classifier(torch.flatten(self.global_pooling(x), 1))


def build_nb101(arch: str, num_classes: int) -> NB101Network:
    """The NAS-Bench-101 network of an arch string (its canonical, trained vertex order)."""
    nb101.check_dataset(num_classes, 32)
    return NB101Network(nb101.parse_cell(arch), num_classes)
