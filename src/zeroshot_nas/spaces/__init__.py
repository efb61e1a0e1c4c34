"""Search spaces: NAS-Bench-201 / NATS topology space (``nb201``), NATS size space
(``nats_sss``) and NAS-Bench-101 cells (``nb101``, CIFAR-10 only): arch strings and ids,
networks, and parameter/FLOP counts.

``params_m`` and ``flops_m`` count analytically (no network is built) and agree exactly with
``count_params_m``/``count_flops_m`` on the built network; the tests prove it.
"""

from __future__ import annotations

from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING, Any

from . import nats_sss, nb101, nb201
from .common import DATASETS, ArchError, DatasetSpec, get_dataset

if TYPE_CHECKING:
    from torch import nn

# Arch strings, ids and analytic costs import without torch; building and counting a
# network (torch) load on first use.
_COUNTING = ("count_flops", "count_flops_m", "count_params_m")


def __getattr__(name: str) -> Any:
    if name in _COUNTING:
        from . import counting

        return getattr(counting, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "DATASETS",
    "SPACES",
    "ArchError",
    "DatasetSpec",
    "all_archs",
    "arch_from_id",
    "arch_id",
    "build_network",
    "check_dataset",
    "space_datasets",
    "space_module",
    "count_flops",
    "count_flops_m",
    "count_params_m",
    "flops_m",
    "get_dataset",
    "has_path",
    "parse_arch",
    "params_m",
]

SPACES: dict[str, ModuleType] = {"nb201": nb201, "nats_sss": nats_sss, "nb101": nb101}


def space_module(space: str) -> ModuleType:
    """The module of a search space by name; ValueError naming the known spaces."""
    try:
        return SPACES[space]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown search space {space!r}; expected one of {list(SPACES)}"
        ) from None


def space_datasets(space: str) -> tuple[str, ...]:
    """The data sets ``space`` has networks (and accuracies) for: NB101 only CIFAR-10."""
    return tuple(getattr(space_module(space), "DATASETS", DATASETS))


def check_dataset(space: str, dataset: str) -> None:
    """ValueError naming the data set when ``space`` has no network for it."""
    get_dataset(dataset)
    allowed = space_datasets(space)
    if dataset not in allowed:
        raise ValueError(f"data set {dataset!r} is not defined for the {space} space (its "
                         f"benchmark trained on {', '.join(allowed)} only)")


def parse_arch(space: str, arch: str) -> str:
    """Validate ``arch`` in ``space`` and return its canonical string (ArchError if bad)."""
    return space_module(space).parse_arch(arch)


def has_path(space: str, arch: str) -> bool:
    """Whether ``arch``'s output depends on its input: a NAS-Bench-201 cell can cut every
    path (edges ``none``, :func:`nb201.has_path`); every architecture of the other spaces
    has one. ValueError for an unknown space, :class:`ArchError` for a bad NB201 string."""
    space_module(space)
    return nb201.has_path(arch) if space == "nb201" else True


def arch_id(space: str, arch: str) -> str:
    """Filesystem-safe id: NB201 six op digits (``333133``), SSS ``8-16-32-48-64``, NB101
    ``<vertices>-<edge bits hex>-<op letters>``."""
    return space_module(space).arch_id(arch)


def arch_from_id(space: str, ident: str) -> str:
    """The canonical arch string of an id made by :func:`arch_id`."""
    return space_module(space).arch_from_id(ident)


def all_archs(space: str) -> list[str]:
    """Every arch of ``space`` in ``itertools.product`` order (NB201 of OPS, SSS of CHANNELS);
    for NB101 the distinct cells of its 2,000-architecture table (a subset of the space)."""
    return space_module(space).all_archs()


def build_network(space: str, arch: str, dataset: str) -> nn.Module:
    """A freshly initialised network for ``arch``; ``forward`` returns (batch, classes) logits.

    Build under ``with torch.device("meta"):`` to get shapes and counts without allocating.
    """
    from .cells import BUILDERS

    check_dataset(space, dataset)
    return BUILDERS[space](arch, get_dataset(dataset).num_classes)


@cache
def _cost(space: str, arch: str, dataset: str) -> tuple[int, int]:
    check_dataset(space, dataset)
    spec = get_dataset(dataset)
    return space_module(space).cost(arch, spec.num_classes, spec.image_size)


def params_m(space: str, arch: str, dataset: str) -> float:
    """Parameters (millions) of ``build_network(space, arch, dataset)``, without building it."""
    return _cost(space, arch, dataset)[0] / 1e6


def flops_m(space: str, arch: str, dataset: str) -> float:
    """FLOPs per image (millions, NATS convention) of the network, without building it."""
    return _cost(space, arch, dataset)[1] / 1e6
