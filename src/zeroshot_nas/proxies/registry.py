"""The proxy registry: one :class:`ProxySpec` per score, filled by the family modules.

Every module of this package that is not infrastructure is a *family*: it calls
:func:`register` for its scores. :func:`discover` imports each family once, so adding a score
is one module plus its test; nothing else is edited. The registry and the families import
without torch (families import it inside their functions), so reading score metadata — as
the workflow does when it validates a configuration — stays light. The runner imports the
registry, never the reverse.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .context import ArchContext

# What a score function returns: its value and a JSON-able dict of extra information.
ComputeFn = Callable[["ArchContext"], "tuple[float, dict[str, Any]]"]
PACKAGE = __name__.rpartition(".")[0]
# Infrastructure modules, not families: discovery skips them.
INFRASTRUCTURE = {
    "registry", "protocol", "context", "runner", "network", "numerics", "linalg", "commands",
}
# The version of the shared passes' numerics (network build, memory layouts, pass planning):
# bump it when a change alters any score's value, so that no cached value of the old code is
# served (each score's own definition has its version in the registry). Kept here, torch-free,
# because the workflow tracks it as a parameter of the scoring jobs.
# 3: the first-order pass runs in one layout whatever scores share it (a forward-only pass
# was channels_last, so naswot alone differed from naswot beside a gradient score).
ENGINE_VERSION = 3
# Parts of the shared first-order pass a score may declare in ``requires``. ``ce_graph``: the
# cross-entropy backward records its own graph (``create_graph``) when the run's memory budget
# allows it, so that a Hessian-vector product can differentiate it once more (grasp).
FIRST_ORDER_PARTS = ("codes", "pool", "J0", "ce", "fisher", "ce_graph")


@dataclass(frozen=True)
class ProxySpec:
    """Metadata of one training-free score and the function that computes it.

    ``version`` is the score's definition version: bump it whenever the maths (or a pass it
    reads) changes, so that cached values of the old definition are recomputed. ``source``
    names the code a score follows (``owner/repo@commit path``, or the paper's text), and
    ``needs_space`` marks a score that reads the search space's own description of the
    architecture (its cell or arch string), not only the network: it cannot score an
    arbitrary model. ``heavy`` marks a score whose cost per architecture is tens of
    forward+backward passes or more (e.g. one backward of the whole batch per image): ``all``
    leaves it out, so that the default run stays minutes; naming it (``[all, ntk_rb]``) runs it.
    """

    name: str
    family: str
    higher_is_better: bool
    bounded01: bool
    needs_labels: bool
    paper: str
    description: str
    requires: tuple[str, ...] = ()
    version: int = 1
    source: str = ""
    needs_space: bool = False
    heavy: bool = False
    compute: ComputeFn | None = field(default=None, repr=False, compare=False)


REGISTRY: dict[str, ProxySpec] = {}


@dataclass(frozen=True)
class CombinationSpec:
    """A score defined over a whole sample of architectures from registered scores, its
    ``parts`` (e.g. AZ-NAS's sum of log-ranks). It has no per-architecture value: the
    statistics compute it wherever all its parts were scored. ``method`` names the
    aggregation in :mod:`zeroshot_nas.stats.core`; larger values are better."""

    name: str
    parts: tuple[str, ...]
    method: str
    paper: str
    description: str
    source: str = ""


COMBINATIONS: dict[str, CombinationSpec] = {}
COMBINATION_METHODS = ("log_rank_sum",)


def register(
    name: str,
    *,
    family: str,
    higher_is_better: bool,
    paper: str,
    description: str,
    bounded01: bool = False,
    needs_labels: bool = False,
    requires: tuple[str, ...] = (),
    version: int = 1,
    source: str = "",
    needs_space: bool = False,
    heavy: bool = False,
) -> Callable[[ComputeFn], ComputeFn]:
    """Decorator registering ``fn(ctx) -> (value, extra)`` as the score ``name``.

    ``requires`` names the parts of the shared first-order pass the score reads (see
    :data:`FIRST_ORDER_PARTS`), so that one forward pass can be planned for every requested
    score before any of them runs.
    """
    unknown = set(requires) - set(FIRST_ORDER_PARTS)
    if unknown:
        raise ValueError(f"proxy {name!r} requires unknown pass parts {sorted(unknown)}; "
                         f"known: {FIRST_ORDER_PARTS}")

    def decorate(fn: ComputeFn) -> ComputeFn:
        if name in REGISTRY:
            raise ValueError(f"proxy {name!r} is registered twice ({fn.__module__})")
        REGISTRY[name] = ProxySpec(
            name=name,
            family=family,
            higher_is_better=higher_is_better,
            bounded01=bounded01,
            needs_labels=needs_labels,
            paper=paper,
            description=description,
            requires=tuple(requires),
            version=version,
            source=source,
            needs_space=needs_space,
            heavy=heavy,
            compute=fn,
        )
        return fn

    return decorate


def register_combination(name: str, *, parts: tuple[str, ...], method: str, paper: str,
                         description: str, source: str = "") -> CombinationSpec:
    """Register the sample-level score ``name`` aggregated from the scores ``parts``."""
    if method not in COMBINATION_METHODS:
        raise ValueError(f"combination {name!r}: unknown method {method!r}; "
                         f"known: {COMBINATION_METHODS}")
    if name in COMBINATIONS or name in REGISTRY:
        raise ValueError(f"combination {name!r} is registered twice")
    spec = CombinationSpec(name, tuple(parts), method, paper, description, source)
    COMBINATIONS[name] = spec
    return spec


def combinations() -> dict[str, CombinationSpec]:
    """Every registered combination (after discovering the families that define them)."""
    discover()
    return COMBINATIONS


def discover() -> dict[str, ProxySpec]:
    """Import every family module of the package not imported yet; return the registry."""
    package = sys.modules.get(PACKAGE) or importlib.import_module(PACKAGE)
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        module = f"{PACKAGE}.{info.name}"
        if info.name in INFRASTRUCTURE or info.name.startswith("_") or module in sys.modules:
            continue
        importlib.import_module(module)
    return REGISTRY


def get_spec(name: str) -> ProxySpec:
    """The spec of score ``name``; ValueError listing the known names if it is unknown."""
    if name not in REGISTRY:
        discover()
    try:
        return REGISTRY[name]
    except (KeyError, TypeError):
        if name in COMBINATIONS:
            combo = COMBINATIONS[name]
            raise ValueError(
                f"{name!r} is not scored per architecture: it combines {', '.join(combo.parts)} "
                f"over the architectures compared; score those parts and the statistics add "
                f"{name}") from None
        raise ValueError(f"unknown proxy {name!r}; known: {sorted(REGISTRY)}") from None


ALL = "all"


def expand_all(names: str | list[str] | tuple[str, ...], candidates: list[str]) -> list[str]:
    """``names`` with ``"all"`` (alone, or as an item of a list) replaced by every score of
    ``candidates`` that is not ``heavy``, in their order; duplicates dropped."""
    specs = discover()
    everyday = [n for n in candidates if not (n in specs and specs[n].heavy)]
    items = [ALL] if names == ALL else list(names)
    out: list[str] = []
    for name in items:
        for expanded in everyday if name == ALL else [name]:
            if expanded not in out:
                out.append(expanded)
    return out


def resolve_names(names: str | list[str] | tuple[str, ...]) -> list[str]:
    """``"all"``, ``"a,b"`` or a list of names (which may hold ``"all"``) -> validated list;
    ``all`` is every registered score that is not ``heavy``, in registry order."""
    specs = discover()
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    out = expand_all(names, list(specs))
    for name in out:
        get_spec(name)
    if not out:
        raise ValueError("no proxy names given")
    return out


def definitions(names: list[str] | tuple[str, ...]) -> dict[str, dict[str, int]]:
    """What the values of the scores ``names`` are computed with, by code: each score's
    definition version and the engine's. The workflow tracks it, the cache records it."""
    return {name: {"score": get_spec(name).version, "engine": ENGINE_VERSION} for name in names}


def required_parts(names: list[str] | tuple[str, ...]) -> set[str]:
    """The parts of the shared first-order pass the scores ``names`` read."""
    return {part for name in names for part in get_spec(name).requires}


# Spaces whose cells are not NB201-style edge lists: a score that reads the space's own
# description of a cell (``needs_space``) is not defined on their networks.
GRAPH_CELL_SPACES = ("nb101",)


def defined_on(name: str, space: str) -> bool:
    """Whether score ``name`` is defined on ``space``'s networks (every score that needs only
    the network is; a ``needs_space`` score is not on NAS-Bench-101's graph cells)."""
    return not (space in GRAPH_CELL_SPACES and get_spec(name).needs_space)
