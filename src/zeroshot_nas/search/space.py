"""Search-space moves for the search algorithms: random architecture, mutation, crossover and
the simulated-annealing neighbourhood, for the NB201 topology space and the NATS size space.

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

from zeroshot_nas.spaces import nats_sss, nb201, space_module

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


# What a search adds to a space: its architectures as genomes. Which spaces exist, and the
# error for a name that is none of them, are zeroshot_nas.spaces' alone.
_GENOME_SPACES: dict[ModuleType, SearchSpace] = {
    nb201: SearchSpace("nb201", tuple(nb201.OPS), len(nb201.EDGES)),
    nats_sss: SearchSpace("nats_sss", tuple(nats_sss.CHANNELS), nats_sss.NUM_LAYERS),
}


def get_space(name: str) -> SearchSpace:
    """The search space called ``name`` (``nb201`` or ``nats_sss``)."""
    return _GENOME_SPACES[space_module(name)]
