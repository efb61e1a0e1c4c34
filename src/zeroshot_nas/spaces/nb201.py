"""NAS-Bench-201 / NATS-Bench topology space: arch strings, the cell network, analytic costs.

The network follows the NATS-Bench "infer.tiny" skeleton (xautodl ``TinyNetwork``):
stem conv3x3+BN, three stages of N cells at C, 2C, 4C channels with a ResNet basic block
(stride 2) between stages, BN+ReLU, global average pooling and a linear classifier.
Module attribute names follow xautodl's layout (``stem``, ``cells.i.layers.j.op``,
``conv_a``/``conv_b``/``downsample``, ``lastact``, ``classifier``) so that parameter names
line up with official checkpoints.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from functools import lru_cache

from .common import ArchError

OPS: tuple[str, ...] = (
    "none",
    "skip_connect",
    "nor_conv_1x1",
    "nor_conv_3x3",
    "avg_pool_3x3",
)
# (target node, source node) in the order the edges appear in an arch string.
EDGES: tuple[tuple[int, int], ...] = ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))
NUM_NODES = 4
C = 16
N = 5
NUM_ARCHS = len(OPS) ** len(EDGES)

_OP_INDEX = {op: i for i, op in enumerate(OPS)}


def _fail(arch: object, why: str) -> ArchError:
    return ArchError(f"invalid NB201 arch string {arch!r}: {why}")


def parse_ops(arch: str) -> tuple[str, ...]:
    """Parse ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`` into the six ops in EDGES order.

    Surrounding whitespace is ignored; anything else that deviates from the format raises
    :class:`ArchError` quoting the string and naming the problem.
    """
    if not isinstance(arch, str):
        raise _fail(arch, f"expected a string, got {type(arch).__name__}")
    groups = arch.strip().split("+")
    if len(groups) != NUM_NODES - 1:
        raise _fail(
            arch, f"expected {NUM_NODES - 1} node groups separated by '+', found {len(groups)}"
        )
    ops: list[str] = []
    for node, group in enumerate(groups, start=1):
        if len(group) < 2 or not (group.startswith("|") and group.endswith("|")):
            raise _fail(arch, f"node {node} group {group!r} must start and end with '|'")
        edges = group[1:-1].split("|")
        if len(edges) != node:
            raise _fail(arch, f"node {node} must have {node} incoming edges, found {len(edges)}")
        for source, edge in enumerate(edges):
            parts = edge.split("~")
            if len(parts) != 2:
                raise _fail(arch, f"edge {edge!r} of node {node} is not of the form 'op~input'")
            op, src = parts
            if op not in _OP_INDEX:
                raise _fail(arch, f"unknown operation {op!r} in node {node}; known: {list(OPS)}")
            if src != str(source):
                raise _fail(
                    arch,
                    f"edge {source + 1} of node {node} must come from node {source} "
                    f"(written '~{source}'), found '~{src}'",
                )
            ops.append(op)
    return tuple(ops)


def has_path(arch: str) -> bool:
    """Whether the cell connects its input (node 0) to its output (node 3) through edges
    other than ``none``; without such a path the network's output ignores its input. 15,284
    of the 15,625 cells have one: the search space of the rank-based authors' encoder
    (``has_backbone`` of Rank-Based-NAS ``encoder/encoder.py``). :class:`ArchError` for a
    string that is not a cell."""
    reach = {0}
    for (target, source), op in zip(EDGES, parse_ops(arch), strict=True):
        if op != "none" and source in reach:
            reach.add(target)
    return NUM_NODES - 1 in reach


def ops_to_arch(ops: Sequence[str]) -> str:
    """Write six ops (EDGES order) as the canonical NB201 arch string."""
    if len(ops) != len(EDGES) or any(op not in _OP_INDEX for op in ops):
        raise ArchError(f"invalid NB201 op list {tuple(ops)!r}: need {len(EDGES)} ops from {OPS}")
    groups = []
    start = 0
    for node in range(1, NUM_NODES):
        edges = [f"{ops[start + src]}~{src}" for src in range(node)]
        groups.append("|" + "|".join(edges) + "|")
        start += node
    return "+".join(groups)


def parse_arch(arch: str) -> str:
    """Validate an NB201 arch string and return it in canonical form."""
    return ops_to_arch(parse_ops(arch))


def arch_id(arch: str) -> str:
    """Six digits, the op index (in OPS) of each edge in EDGES order, e.g. ``'333133'``."""
    return "".join(str(_OP_INDEX[op]) for op in parse_ops(arch))


def arch_from_id(ident: str) -> str:
    """Inverse of :func:`arch_id`."""
    if (
        not isinstance(ident, str)
        or len(ident) != len(EDGES)
        or any(ch not in "01234" for ch in ident)
    ):
        raise ArchError(
            f"invalid NB201 arch id {ident!r}: expected {len(EDGES)} digits in 0..{len(OPS) - 1}"
        )
    return ops_to_arch([OPS[int(ch)] for ch in ident])


def all_archs() -> list[str]:
    """All 15,625 arch strings in ``itertools.product(OPS, repeat=6)`` order."""
    return [ops_to_arch(ops) for ops in itertools.product(OPS, repeat=len(EDGES))]


def layer_plan(c: int = C, n: int = N) -> tuple[tuple[int, ...], tuple[bool, ...]]:
    """Channels and reduction flags of the cells/blocks after the stem of the tiny network."""
    channels = (c,) * n + (2 * c,) * (n + 1) + (4 * c,) * (n + 1)
    reductions = (False,) * n + (True,) + (False,) * n + (True,) + (False,) * n
    return channels, reductions


# ----------------------------------------------------------------------- analytic costs
# Costs are (parameters, FLOPs per image). FLOPs follow xautodl's get_model_infos, which the
# NATS tables use: multiply-accumulates of Conv2d and Linear layers (bias included); pooling,
# BatchNorm, ReLU, additions and the zero op count nothing.


def _conv_cost(c_in: int, c_out: int, kernel: int, hw: int) -> tuple[int, int]:
    macs = kernel * kernel * c_in * c_out
    return macs, macs * hw


def _conv_bn_cost(c_in: int, c_out: int, kernel: int, hw: int) -> tuple[int, int]:
    params, flops = _conv_cost(c_in, c_out, kernel, hw)
    return params + 2 * c_out, flops


def edge_cost(op: str, c_in: int, c_out: int, hw: int) -> tuple[int, int]:
    """(params, FLOPs) of one cell edge built by :func:`make_op` at ``hw`` output pixels."""
    if op == "none":
        return 0, 0
    if op in ("skip_connect", "avg_pool_3x3"):
        return (0, 0) if c_in == c_out else _conv_bn_cost(c_in, c_out, 1, hw)
    if op == "nor_conv_1x1":
        return _conv_bn_cost(c_in, c_out, 1, hw)
    if op == "nor_conv_3x3":
        return _conv_bn_cost(c_in, c_out, 3, hw)
    raise ValueError(f"unknown NB201 operation {op!r}; known: {list(OPS)}")


@lru_cache(maxsize=4096)
def cell_cost(ops: tuple[str, ...], c_in: int, c_out: int, hw: int) -> tuple[int, int]:
    """(params, FLOPs) of an :class:`InferCell`."""
    params = flops = 0
    for op, (_, src) in zip(ops, EDGES, strict=True):
        p, f = edge_cost(op, c_in if src == 0 else c_out, c_out, hw)
        params += p
        flops += f
    return params, flops


def resblock_cost(c_in: int, c_out: int, hw_out: int) -> tuple[int, int]:
    """(params, FLOPs) of a :class:`ResNetBasicBlock`; ``hw_out`` = output pixels."""
    parts = (
        _conv_bn_cost(c_in, c_out, 3, hw_out),
        _conv_bn_cost(c_out, c_out, 3, hw_out),
        _conv_cost(c_in, c_out, 1, hw_out),
    )
    return sum(p for p, _ in parts), sum(f for _, f in parts)


@lru_cache(maxsize=65536)
def network_cost(
    ops: tuple[str, ...],
    stem_channels: int,
    layer_channels: tuple[int, ...],
    layer_reductions: tuple[bool, ...],
    num_classes: int,
    image_size: int,
) -> tuple[int, int]:
    """(params, FLOPs per image) of a :class:`CellNetwork`, without building it."""
    side = image_size
    params, flops = _conv_bn_cost(3, stem_channels, 3, side * side)
    c_prev = stem_channels
    for c_curr, reduction in zip(layer_channels, layer_reductions, strict=True):
        if reduction:
            # 3x3 stride-2 conv with padding 1 and the 2x2 average pool agree on the size.
            side = (side - 1) // 2 + 1
            p, f = resblock_cost(c_prev, c_curr, side * side)
        else:
            p, f = cell_cost(ops, c_prev, c_curr, side * side)
        params += p
        flops += f
        c_prev = c_curr
    params += 2 * c_prev + c_prev * num_classes + num_classes  # lastact BN + classifier
    flops += c_prev * num_classes + num_classes
    return params, flops


def cost(arch: str, num_classes: int, image_size: int) -> tuple[int, int]:
    """(params, FLOPs per image) of :func:`build_network` for an arch string."""
    channels, reductions = layer_plan()
    return network_cost(parse_ops(arch), C, channels, reductions, num_classes, image_size)
