"""Search-space moves for the search algorithms: random architecture, mutation, crossover and
the simulated-annealing neighbourhood, for the NB201 topology space and the NATS size space;
random draws and in-table mutations for NAS-Bench-101's table (:class:`TableSpace`).

An architecture is handled as a *genome*: one choice index per position (the six edges of
an NB201 cell, in the canonical edge order; the five layer widths of a size-space network).
Every move returns canonical architecture strings, so whatever an algorithm proposes is a
valid member of the space by construction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from types import ModuleType

import numpy as np

from zeroshot_nas.spaces import ArchError, nats_sss, nb101, nb201, space_module

Genome = tuple[int, ...]


@dataclass(frozen=True)
class SearchSpace:
    """A space of ``n_positions`` positions, each taking one of ``choices``.

    ``choices`` are the NB201 operations or the size-space channel counts; the methods
    convert between genomes (index tuples) and canonical architecture strings.
    """

    name: str
    choices: tuple
    n_positions: int

    @property
    def size(self) -> int:
        """Number of architectures in the space."""
        return len(self.choices) ** self.n_positions

    # -- strings <-> genomes -------------------------------------------------------------
    def decode(self, genome: Sequence[int]) -> str:
        """Canonical architecture string of a genome."""
        genome = tuple(int(g) for g in genome)
        if len(genome) != self.n_positions or any(not 0 <= g < len(self.choices) for g in genome):
            raise ValueError(
                f"invalid {self.name} genome {genome!r}: need {self.n_positions} "
                f"indices in 0..{len(self.choices) - 1}"
            )
        return _decode(self.name, genome)

    def encode(self, arch: str) -> Genome:
        """Genome of an architecture string (``ArchError`` naming it when malformed)."""
        return _encode(self.name, arch)

    def canonical(self, arch: str) -> str:
        """The canonical form of ``arch`` (validates it)."""
        return _decode(self.name, _encode(self.name, arch))

    def is_valid(self, arch: str) -> bool:
        """Whether ``arch`` is a well-formed member of this space."""
        try:
            self.encode(arch)
        except ValueError:
            return False
        return True

    # -- moves --------------------------------------------------------------------------
    def random(self, rng: np.random.Generator) -> str:
        """A uniformly random architecture."""
        genome = rng.integers(len(self.choices), size=self.n_positions)
        return self.decode(tuple(int(g) for g in genome))

    def arch_at(self, index: int) -> str:
        """The architecture at ``index`` of ``spaces.all_archs`` order (itertools.product)."""
        if not 0 <= index < self.size:
            raise ValueError(f"index {index} outside {self.name} (0..{self.size - 1})")
        k, genome = len(self.choices), []
        for _ in range(self.n_positions):
            genome.append(index % k)
            index //= k
        return self.decode(tuple(reversed(genome)))

    def sample(self, rng: np.random.Generator, n: int) -> list[str]:
        """``n`` distinct uniformly random architectures (n at most the size of the space)."""
        if not 0 <= n <= self.size:
            raise ValueError(
                f"cannot draw {n} distinct architectures from {self.name} ({self.size})"
            )
        return [self.arch_at(int(i)) for i in rng.choice(self.size, size=n, replace=False)]

    def mutate(self, arch: str, rng: np.random.Generator) -> str:
        """Change one random position to a different random choice (one edge's operation,
        or one layer's width), as NATS-Bench's REA and the rank-based GA mutate."""
        genome = list(self.encode(arch))
        pos = int(rng.integers(self.n_positions))
        shift = int(rng.integers(1, len(self.choices)))
        genome[pos] = (genome[pos] + shift) % len(self.choices)
        return self.decode(genome)

    def crossover(self, first: str, second: str, rng: np.random.Generator) -> tuple[str, str]:
        """Uniform crossover: each position comes from either parent with probability 1/2;
        the two children are complementary."""
        a, b = self.encode(first), self.encode(second)
        take = rng.random(self.n_positions) < 0.5
        child0 = tuple(x if t else y for x, y, t in zip(a, b, take, strict=True))
        child1 = tuple(y if t else x for x, y, t in zip(a, b, take, strict=True))
        return self.decode(child0), self.decode(child1)

    def neighbour(self, arch: str, rng: np.random.Generator) -> str:
        """A random neighbour for simulated annealing: a random subset of 1..n-1 positions,
        each changed to a different choice. The rank-based authors change a random subset of
        the edges too; a neighbour here always differs from ``arch``."""
        genome = list(self.encode(arch))
        count = int(rng.integers(1, self.n_positions))
        for pos in rng.choice(self.n_positions, size=count, replace=False):
            shift = int(rng.integers(1, len(self.choices)))
            genome[int(pos)] = (genome[int(pos)] + shift) % len(self.choices)
        return self.decode(genome)


@lru_cache(maxsize=1 << 17)
def _decode(space: str, genome: Genome) -> str:
    if space == "nb201":
        return nb201.ops_to_arch([nb201.OPS[g] for g in genome])
    return nats_sss.channels_to_arch(tuple(nats_sss.CHANNELS[g] for g in genome))


@lru_cache(maxsize=1 << 17)
def _encode(space: str, arch: str) -> Genome:
    # Memoised: searches re-encode the same few thousand strings many times.
    if space == "nb201":
        return tuple(nb201.OPS.index(op) for op in nb201.parse_ops(arch))
    return tuple(nats_sss.CHANNELS.index(c) for c in nats_sss.parse_channels(arch))


class TableSpace:
    """A search space that is a fixed table of architectures: NAS-Bench-101's pinned cells
    (``spaces.all_archs("nb101")``, 846 cells of MLFE's 2,000 rows), a subset of the space.

    Every move stays inside the table. A mutation is NAS-Bench-101's own (its REA: on the
    7x7 encoding of the cell, every possible edge flips with probability 1/7 and every
    operation changes with probability 1/5 to another one); a proposal that is invalid,
    equal to the parent or not a cell of the table is rejected and a new one drawn (about
    half the proposals land in the table, measured over 100 members x 50 draws). After
    ``max_tries`` rejections, which did not happen in that measurement, the child is a
    uniform draw from the other cells of the table, and ``fallbacks`` counts it.
    GA-rk's crossover and SA-rk's neighbourhood are defined for NB201-style genomes only.
    """

    def __init__(self, name: str, archs: Sequence[str], max_tries: int = 1000) -> None:
        self.name = name
        self.archs = tuple(archs)
        self.members = {a: i for i, a in enumerate(self.archs)}
        self.max_tries = max_tries
        self.fallbacks = 0

    @property
    def size(self) -> int:
        return len(self.archs)

    def canonical(self, arch: str) -> str:
        """The canonical form of ``arch`` (validates it; it may be outside the table)."""
        return space_module(self.name).parse_arch(arch)

    def is_valid(self, arch: str) -> bool:
        """Whether ``arch`` is a cell of the table."""
        try:
            return self.canonical(arch) in self.members
        except ValueError:
            return False

    def random(self, rng: np.random.Generator) -> str:
        return self.archs[int(rng.integers(self.size))]

    def arch_at(self, index: int) -> str:
        if not 0 <= index < self.size:
            raise ValueError(f"index {index} outside the {self.name} table (0..{self.size - 1})")
        return self.archs[index]

    def sample(self, rng: np.random.Generator, n: int) -> list[str]:
        if not 0 <= n <= self.size:
            raise ValueError(f"cannot draw {n} distinct architectures from the {self.name} "
                             f"table ({self.size})")
        return [self.archs[int(i)] for i in rng.choice(self.size, size=n, replace=False)]

    def mutate(self, arch: str, rng: np.random.Generator) -> str:
        """A cell of the table one NAS-Bench-101 mutation away from ``arch`` (see the class)."""
        matrix, ops = nb101_encoding(arch)
        for _ in range(self.max_tries):
            child = _nb101_proposal(matrix, ops, rng)
            if child is not None and child != arch and child in self.members:
                return child
        self.fallbacks += 1
        others = [a for a in self.archs if a != arch]
        return others[int(rng.integers(len(others)))]

    def crossover(self, first: str, second: str, rng: np.random.Generator):
        raise ValueError(f"GA-rk's crossover is not defined on the {self.name} table; its "
                         "searches are random search (with a score or trained), REA and AREA")

    def neighbour(self, arch: str, rng: np.random.Generator):
        raise ValueError(f"SA-rk's neighbourhood is not defined on the {self.name} table; its "
                         "searches are random search (with a score or trained), REA and AREA")


def nb101_encoding(arch: str) -> tuple[np.ndarray, list[str]]:
    """A cell as NAS-Bench-101's 7x7 matrix and 7 labels (NASLib's padding of smaller cells:
    the output moves to vertex 6, unused vertices have no edges and prune away)."""
    cell = nb101.parse_cell(arch)
    n = cell.num_vertices
    index = [*range(n - 1), nb101.MAX_VERTICES - 1]
    matrix = np.zeros((nb101.MAX_VERTICES, nb101.MAX_VERTICES), dtype=np.int64)
    ops = ["input", *[nb101.OPS[0]] * (nb101.MAX_VERTICES - 2), "output"]
    for i in range(n):
        ops[index[i]] = cell.ops[i]
        for j in range(n):
            matrix[index[i], index[j]] = cell.matrix[i][j]
    return matrix, ops


def _nb101_proposal(matrix: np.ndarray, ops: list[str], rng: np.random.Generator) -> str | None:
    """One NAS-Bench-101 mutation of an encoded cell: its canonical string, None if invalid."""
    n = nb101.MAX_VERTICES
    new = matrix.copy()
    flips = rng.random((n, n)) < 1 / n
    new[np.triu(flips, k=1)] ^= 1
    new_ops = list(ops)
    for v in range(1, n - 1):
        if rng.random() < 1 / (n - 2):
            others = [op for op in nb101.OPS if op != new_ops[v]]
            new_ops[v] = others[int(rng.integers(len(others)))]
    try:
        return nb101.arch_from_spec(new.tolist(), new_ops)
    except ArchError:
        return None


# What a search adds to a space: its architectures as genomes (NB101: its table). Which
# spaces exist, and the error for a name that is none of them, are zeroshot_nas.spaces' alone.
_GENOME_SPACES: dict[ModuleType, SearchSpace] = {
    nb201: SearchSpace("nb201", tuple(nb201.OPS), len(nb201.EDGES)),
    nats_sss: SearchSpace("nats_sss", tuple(nats_sss.CHANNELS), nats_sss.NUM_LAYERS),
}


@lru_cache(maxsize=1)
def _nb101_table() -> TableSpace:
    return TableSpace("nb101", nb101.all_archs())


def get_space(name: str) -> SearchSpace | TableSpace:
    """The search space called ``name`` (``nb201``, ``nats_sss`` or ``nb101``'s table)."""
    module = space_module(name)
    return _nb101_table() if module is nb101 else _GENOME_SPACES[module]
