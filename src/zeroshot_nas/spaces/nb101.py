"""NAS-Bench-101 cells (``nb101``): specs, the benchmark's pruning, graph hash, canonical
strings, and analytic parameter/FLOP counts of the NAS-Bench-101 network.

A cell is a DAG of at most 7 vertices (input, up to five operations, output) and at most
9 edges, given by an upper-triangular adjacency matrix and one label per vertex. As
``nasbench.lib.model_spec.ModelSpec`` does, a spec is first *pruned*: vertices not on a
path from input to output are removed (a spec whose input does not reach its output is
invalid). The vertex and edge limits are checked on the pruned spec, as the benchmark's
``_check_spec`` does.

Isomorphic cells are one architecture (the benchmark trained each isomorphism class once).
:func:`graph_hash` is ``nasbench.lib.graph_util.hash_module`` (iterated MD5 of in/out
degrees and op labels), the key the benchmark is queried with. The canonical string of a
cell is the representative NAS-Bench-101 itself trained: the first member of its class in
the enumeration order of ``nasbench/scripts/generate_graphs.py`` (smallest edge bit mask,
then smallest labelling), so isomorphic specs share one string and one id, and the network
built from the string is the one the benchmark's parameter count and accuracies belong to.

The space here is a **subset** of NAS-Bench-101: the 846 cells (isomorphism classes) of
the 2,000-architecture table MLFE published (``all_archs``, shipped as ``nb101_archs.txt``
and checked against the pinned source whenever its table is built); the 292 cells of
NASLib's 500 are ``table_archs("naslib")``. Any other valid cell can be parsed, built and
scored.

String: matrix rows as 0/1 digits separated by ``,``, then ``|``, then the vertex labels
separated by ``,``: ``01,00|input,output`` (input straight to output) or
``0110,0001,0001,0000|input,conv3x3-bn-relu,maxpool3x3,output``.
Id: ``<vertices>-<edge bit mask, hex>-<one letter per operation>`` (``3`` conv3x3,
``1`` conv1x1, ``m`` maxpool3x3), e.g. ``4-2b-3m``.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

from .common import ArchError

INPUT = "input"
OUTPUT = "output"
# nasbench's config['available_ops'] order: the op indices the graph hash and the
# enumeration of generate_graphs.py use.
OPS: tuple[str, ...] = ("conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3")
LABELS: tuple[str, ...] = (INPUT, *OPS, OUTPUT)
OP_LETTERS = {"conv3x3-bn-relu": "3", "conv1x1-bn-relu": "1", "maxpool3x3": "m"}
MAX_VERTICES = 7
MAX_EDGES = 9
# The network of the NAS-Bench-101 paper (nasbench/lib/config.py).
STEM_CHANNELS = 128
NUM_STACKS = 3
MODULES_PER_STACK = 3
DATASETS: tuple[str, ...] = ("cifar10",)  # the only data set the benchmark trained on
# The shipped cell lists of the two pinned tables: MLFE's 2,000 rows (846 cells, the
# space's all_archs) and NASLib's 500 keys (292 cells); data.nb101 checks them on every build.
ARCH_LISTS = {"mlfe": "nb101_archs.txt", "naslib": "nb101_naslib_archs.txt"}
TABLE_SIZES = {"mlfe": 846, "naslib": 292}
NUM_ARCHS = TABLE_SIZES["mlfe"]

_LETTER_OPS = {letter: op for op, letter in OP_LETTERS.items()}


@dataclass(frozen=True)
class Cell:
    """A pruned cell: ``matrix[i][j] == 1`` for an edge i -> j (i < j), one label per vertex
    (first ``input``, last ``output``)."""

    matrix: tuple[tuple[int, ...], ...]
    ops: tuple[str, ...]

    @property
    def num_vertices(self) -> int:
        return len(self.ops)

    @property
    def num_edges(self) -> int:
        return sum(map(sum, self.matrix))

    def edge(self, src: int, dst: int) -> bool:
        return bool(self.matrix[src][dst])

    @property
    def bits(self) -> int:
        """The edge bit mask of generate_graphs.py: edge (x, y) is bit x + y(y-1)/2."""
        return sum(1 << (x + y * (y - 1) // 2) for x, y in self.edges())

    def edges(self) -> list[tuple[int, int]]:
        v = self.num_vertices
        return [(x, y) for y in range(v) for x in range(y) if self.matrix[x][y]]


def _fail(what: object, why: str) -> ArchError:
    return ArchError(f"invalid NB101 cell {what!r}: {why}")


def _checked_arrays(matrix: Sequence[Sequence[int]], ops: Sequence[str],
                    what: object) -> tuple[list[list[int]], list[str]]:
    """Plain lists of a square 0/1 upper-triangular matrix and its labels, or ArchError."""
    rows = [[int(v) for v in row] for row in matrix]
    labels = [str(op) for op in ops]
    n = len(rows)
    if n < 2 or any(len(row) != n for row in rows):
        raise _fail(what, f"the adjacency matrix must be square with at least 2 rows, got "
                          f"{n} row(s) of lengths {[len(r) for r in rows]}")
    if len(labels) != n:
        raise _fail(what, f"{len(labels)} vertex labels for a {n}x{n} matrix")
    if any(v not in (0, 1) for row in rows for v in row):
        raise _fail(what, "adjacency entries must be 0 or 1")
    if any(rows[i][j] for i in range(n) for j in range(i + 1)):
        raise _fail(what, "the adjacency matrix must be upper triangular (edges i -> j, i < j)")
    if labels[0] != INPUT or labels[-1] != OUTPUT:
        raise _fail(what, f"the first vertex must be {INPUT!r} and the last {OUTPUT!r}, got "
                          f"{labels[0]!r} and {labels[-1]!r}")
    unknown = [op for op in labels[1:-1] if op not in OPS]
    if unknown:
        raise _fail(what, f"unknown operation(s) {unknown}; known: {list(OPS)}")
    return rows, labels


def prune(matrix: Sequence[Sequence[int]], ops: Sequence[str],
          what: object = None) -> Cell | None:
    """The cell without vertices off every input-output path (``ModelSpec._prune``); None
    when the input does not reach the output. Raises ArchError for a malformed spec."""
    rows, labels = _checked_arrays(matrix, ops, what if what is not None else (matrix, ops))
    n = len(rows)
    from_input, to_output = {0}, {n - 1}
    for v in range(1, n):  # vertices in topological order: upper triangular
        if any(rows[u][v] for u in from_input):
            from_input.add(v)
    for v in range(n - 2, -1, -1):
        if any(rows[v][w] for w in to_output):
            to_output.add(v)
    keep = sorted(from_input & to_output)
    if len(keep) < 2:
        return None
    return Cell(tuple(tuple(rows[i][j] for j in keep) for i in keep),
                tuple(labels[i] for i in keep))


def cell_from_spec(matrix: Sequence[Sequence[int]], ops: Sequence[str],
                   what: object = None) -> Cell:
    """The pruned cell of a (possibly unpruned) spec, checked against the benchmark's
    limits; ArchError saying why when it is not a NAS-Bench-101 cell."""
    what = what if what is not None else (matrix, ops)
    cell = prune(matrix, ops, what)
    if cell is None:
        raise _fail(what, "the input is not connected to the output")
    if cell.num_vertices > MAX_VERTICES:
        raise _fail(what, f"{cell.num_vertices} vertices after pruning (at most {MAX_VERTICES})")
    if cell.num_edges > MAX_EDGES:
        raise _fail(what, f"{cell.num_edges} edges after pruning (at most {MAX_EDGES})")
    return cell


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def graph_hash(cell: Cell) -> str:
    """The isomorphism-invariant hash of ``nasbench.lib.graph_util.hash_module`` with the
    labelling of ``ModelSpec.hash_spec`` (input -1, output -2, operations by OPS index)."""
    n = cell.num_vertices
    labelling = [-1, *(OPS.index(op) for op in cell.ops[1:-1]), -2]
    in_edges = [sum(cell.matrix[u][v] for u in range(n)) for v in range(n)]
    out_edges = [sum(row) for row in cell.matrix]
    hashes = [_md5(str((out_edges[v], in_edges[v], labelling[v]))) for v in range(n)]
    for _ in range(n):
        hashes = [
            _md5("".join(sorted(hashes[w] for w in range(n) if cell.matrix[w][v])) + "|"
                 + "".join(sorted(hashes[w] for w in range(n) if cell.matrix[v][w])) + "|"
                 + hashes[v])
            for v in range(n)
        ]
    return _md5(str(sorted(hashes)))


def _labelling_key(ops: Sequence[str]) -> tuple[int, ...]:
    return tuple(OPS.index(op) for op in ops[1:-1])


@lru_cache(maxsize=1 << 14)
def canonical_cell(cell: Cell) -> Cell:
    """The member of ``cell``'s isomorphism class that NAS-Bench-101 trained: the smallest
    (edge bit mask, labelling) over every order of the operation vertices that keeps the
    matrix upper triangular (generate_graphs.py keeps the first one it meets)."""
    n = cell.num_vertices
    edges = cell.edges()
    best: tuple[int, tuple[int, ...], tuple[int, ...]] | None = None
    for inner in itertools.permutations(range(1, n - 1)):
        position = (0, *inner, n - 1)  # position[v] = new index of vertex v
        if any(position[x] >= position[y] for x, y in edges):
            continue
        bits = sum(1 << (position[x] + position[y] * (position[y] - 1) // 2) for x, y in edges)
        order = sorted(range(n), key=position.__getitem__)
        labels = _labelling_key([cell.ops[v] for v in order])
        if best is None or (bits, labels) < best[:2]:
            best = (bits, labels, position)
    assert best is not None  # the identity order always qualifies
    position = best[2]
    matrix = [[0] * n for _ in range(n)]
    for x, y in edges:
        matrix[position[x]][position[y]] = 1
    ops = [""] * n
    for v, op in enumerate(cell.ops):
        ops[position[v]] = op
    return Cell(tuple(map(tuple, matrix)), tuple(ops))


def cell_to_arch(cell: Cell) -> str:
    """The string of a cell as it is (call :func:`canonical_cell` first for the canonical one)."""
    rows = ",".join("".join(str(v) for v in row) for row in cell.matrix)
    return f"{rows}|{','.join(cell.ops)}"


def _parse_string(arch: object) -> tuple[list[list[int]], list[str]]:
    if not isinstance(arch, str):
        raise _fail(arch, f"expected a string, got {type(arch).__name__}")
    parts = arch.strip().split("|")
    if len(parts) != 2:
        raise _fail(arch, "expected '<matrix rows>|<vertex labels>' (one '|')")
    rows, labels = parts[0].split(","), parts[1].split(",")
    if any(not row or any(ch not in "01" for ch in row) for row in rows):
        raise _fail(arch, "matrix rows must be strings of 0/1 digits separated by ','")
    return [[int(ch) for ch in row] for row in rows], labels


def parse_cell(arch: str) -> Cell:
    """The canonical pruned cell of an arch string (any vertex order, pruned or not)."""
    matrix, ops = _parse_string(arch)
    return canonical_cell(cell_from_spec(matrix, ops, arch))


def parse_arch(arch: str) -> str:
    """Validate an NB101 arch string and return its canonical form."""
    return cell_to_arch(parse_cell(arch))


def arch_from_spec(matrix: Sequence[Sequence[int]], ops: Sequence[str]) -> str:
    """The canonical arch string of a (possibly unpruned) matrix and its vertex labels."""
    return cell_to_arch(canonical_cell(cell_from_spec(matrix, ops)))


def arch_id(arch: str) -> str:
    """``<vertices>-<edge bit mask, hex>-<op letters>`` of the canonical cell."""
    cell = parse_cell(arch)
    letters = "".join(OP_LETTERS[op] for op in cell.ops[1:-1])
    return f"{cell.num_vertices}-{cell.bits:x}-{letters}"


def arch_from_id(ident: str) -> str:
    """Inverse of :func:`arch_id`."""
    parts = ident.split("-") if isinstance(ident, str) else []
    ok = (len(parts) == 3 and parts[0].isdigit() and 2 <= int(parts[0]) <= MAX_VERTICES
          and parts[1] and all(ch in "0123456789abcdef" for ch in parts[1])
          and all(ch in _LETTER_OPS for ch in parts[2]) and len(parts[2]) == int(parts[0]) - 2)
    if not ok:
        raise ArchError(f"invalid NB101 arch id {ident!r}: expected <vertices>-<hex edge bits>-"
                        f"<one of {''.join(_LETTER_OPS)} per operation>, e.g. '4-2b-3m'")
    n, bits = int(parts[0]), int(parts[1], 16)
    matrix = [[int(x < y and (bits >> (x + y * (y - 1) // 2)) & 1) for y in range(n)]
              for x in range(n)]
    if bits >> (n * (n - 1) // 2):
        raise ArchError(f"invalid NB101 arch id {ident!r}: edge bits beyond {n} vertices")
    ops = [INPUT, *(_LETTER_OPS[ch] for ch in parts[2]), OUTPUT]
    arch = arch_from_spec(matrix, ops)
    if arch_id(arch) != ident:
        raise ArchError(f"invalid NB101 arch id {ident!r}: not canonical (the canonical id of "
                        f"that cell is {arch_id(arch)!r})")
    return arch


@cache
def _table_archs(table: str) -> tuple[str, ...]:
    if table not in ARCH_LISTS:
        raise ValueError(f"unknown NB101 table {table!r}; expected one of {list(ARCH_LISTS)}")
    text = resources.files(__package__).joinpath(ARCH_LISTS[table]).read_text(encoding="utf-8")
    idents = [line.strip() for line in text.splitlines()
              if line.strip() and not line.startswith("#")]
    return tuple(arch_from_id(i) for i in idents)


def table_archs(table: str = "mlfe") -> list[str]:
    """The cells of a pinned table in order of first appearance in its source: ``mlfe``
    (846 cells of MLFE's 2,000 rows) or ``naslib`` (292 cells of NASLib's 500 keys)."""
    return list(_table_archs(table))


def all_archs() -> list[str]:
    """The 846 cells of MLFE's 2,000-architecture table (a subset of NAS-Bench-101), in
    order of first appearance in its ``keep_*_all.npy`` files."""
    return table_archs("mlfe")


# ----------------------------------------------------------------------- analytic costs
# Costs are (parameters, FLOPs per image) of the network of the NAS-Bench-101 paper
# (nasbench/lib/model_builder.py): parameters are its trainable variables (convolution
# kernels without bias, BatchNorm gamma and beta, the dense layer with bias); FLOPs follow
# the NATS convention of the other spaces (convolution and dense multiply-accumulates).


def vertex_channels(c_in: int, c_out: int, cell: Cell) -> list[int]:
    """Output channels of every vertex (``model_builder.compute_vertex_channels``): the
    output's channels split among the vertices feeding it (the first ones get the
    remainder), every other vertex as wide as the widest vertex it feeds."""
    n = cell.num_vertices
    channels = [0] * n
    channels[0], channels[-1] = c_in, c_out
    if n == 2:
        return channels
    feeding = [v for v in range(1, n - 1) if cell.edge(v, n - 1)]
    share, extra = divmod(c_out, len(feeding))
    for i, v in enumerate(feeding):
        channels[v] = share + (1 if i < extra else 0)
    for v in range(n - 3, 0, -1):
        if not cell.edge(v, n - 1):
            channels[v] = max(channels[d] for d in range(v + 1, n - 1) if cell.edge(v, d))
    return channels


def _conv_bn_cost(c_in: int, c_out: int, kernel: int, hw: int) -> tuple[int, int]:
    macs = kernel * kernel * c_in * c_out
    return macs + 2 * c_out, macs * hw


def cell_cost(cell: Cell, c_in: int, c_out: int, hw: int) -> tuple[int, int]:
    """(params, FLOPs) of one cell at ``hw`` pixels."""
    n = cell.num_vertices
    channels = vertex_channels(c_in, c_out, cell)
    parts = [_conv_bn_cost(c_in, channels[t], 1, hw)  # projections of the input
             for t in range(1, n) if cell.edge(0, t)]
    kernels = {"conv3x3-bn-relu": 3, "conv1x1-bn-relu": 1}
    parts += [_conv_bn_cost(channels[t], channels[t], kernels[op], hw)
              for t, op in enumerate(cell.ops) if op in kernels]
    return sum(p for p, _ in parts), sum(f for _, f in parts)


def stack_channels() -> list[int]:
    """Output channels of the cells in call order: 128 doubling at each new stack."""
    return [STEM_CHANNELS * 2**s for s in range(NUM_STACKS) for _ in range(MODULES_PER_STACK)]


def check_dataset(num_classes: int, image_size: int) -> None:
    """NAS-Bench-101 trained its networks on CIFAR-10 only (10 classes, 32x32 images)."""
    if (num_classes, image_size) != (10, 32):
        raise ValueError(f"NAS-Bench-101 (nb101) networks exist for {DATASETS[0]} only (10 "
                         f"classes, 32x32 images), not for {num_classes} classes at "
                         f"{image_size}x{image_size}")


def cost(arch: str, num_classes: int, image_size: int) -> tuple[int, int]:
    """(params, FLOPs per image) of the NAS-Bench-101 network of ``arch``, without building it."""
    check_dataset(num_classes, image_size)
    cell = parse_cell(arch)
    side = image_size
    params, flops = _conv_bn_cost(3, STEM_CHANNELS, 3, side * side)
    c_prev = STEM_CHANNELS
    for i, c_out in enumerate(stack_channels()):
        if i and i % MODULES_PER_STACK == 0:
            side //= 2  # 2x2 max pooling, stride 2
        p, f = cell_cost(cell, c_prev, c_out, side * side)
        params, flops, c_prev = params + p, flops + f, c_out
    return params + c_prev * num_classes + num_classes, flops + c_prev * num_classes + num_classes
