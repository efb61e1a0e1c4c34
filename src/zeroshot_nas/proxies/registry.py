"""The proxy registry: one :class:`ProxySpec` per score, filled by the family modules.

Every module of this package is imported on first use (``pkgutil``), so adding a score is
one module that calls :func:`register` plus its test; nothing else has to be edited.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .engine import ArchContext

# What a score function returns: its value and a JSON-able dict of extra information.
ComputeFn = Callable[["ArchContext"], "tuple[float, dict[str, Any]]"]


@dataclass(frozen=True)
class ProxySpec:
    """Metadata of one training-free score and the function that computes it."""

    name: str
    family: str
    higher_is_better: bool
    bounded01: bool
    needs_labels: bool
    paper: str
    description: str
    requires: tuple[str, ...] = ()
    compute: ComputeFn | None = field(default=None, repr=False, compare=False)


_SPECS: dict[str, ProxySpec] = {}
# Modules that hold helpers or infrastructure, not scores; importing them is harmless but
# skipping them keeps discovery from importing the command-line layer.
_NOT_FAMILIES = {"registry", "engine", "protocol", "commands", "linalg"}
_discovered = False


def register(
    name: str,
    *,
    family: str,
    higher_is_better: bool,
    bounded01: bool = False,
    needs_labels: bool = False,
    paper: str,
    description: str,
    requires: tuple[str, ...] = (),
) -> Callable[[ComputeFn], ComputeFn]:
    """Decorator registering ``fn(ctx) -> (value, extra)`` as the score ``name``.

    ``requires`` names the parts of the engine's shared first-order pass the score reads
    (``codes``, ``pool``, ``J0``, ``ce``, ``fisher``), so that one forward pass can be planned
    for every requested score before any of them runs.
    """

    def decorate(fn: ComputeFn) -> ComputeFn:
        if name in _SPECS:
            raise ValueError(f"proxy {name!r} is registered twice ({fn.__module__})")
        _SPECS[name] = ProxySpec(
            name=name,
            family=family,
            higher_is_better=higher_is_better,
            bounded01=bounded01,
            needs_labels=needs_labels,
            paper=paper,
            description=description,
            requires=tuple(requires),
            compute=fn,
        )
        return fn

    return decorate


def discover() -> dict[str, ProxySpec]:
    """Import every family module of the package once; return the filled registry."""
    global _discovered
    if not _discovered:
        package = importlib.import_module(__package__)
        for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
            if info.name not in _NOT_FAMILIES and not info.name.startswith("_"):
                importlib.import_module(f"{__package__}.{info.name}")
        _discovered = True
    return _SPECS


class _Registry(dict):
    """A dict that discovers the family modules on first access (avoids import cycles)."""

    def _fill(self) -> None:
        if not dict.__len__(self):
            dict.update(self, discover())

    def __getitem__(self, key: str) -> ProxySpec:
        self._fill()
        return dict.__getitem__(self, key)

    def __contains__(self, key: object) -> bool:
        self._fill()
        return dict.__contains__(self, key)

    def __iter__(self):
        self._fill()
        return dict.__iter__(self)

    def __len__(self) -> int:
        self._fill()
        return dict.__len__(self)

    def keys(self):
        self._fill()
        return dict.keys(self)

    def values(self):
        self._fill()
        return dict.values(self)

    def items(self):
        self._fill()
        return dict.items(self)

    def get(self, key: str, default: Any = None) -> Any:
        self._fill()
        return dict.get(self, key, default)


REGISTRY: dict[str, ProxySpec] = _Registry()


def get_spec(name: str) -> ProxySpec:
    """The spec of score ``name``; ValueError listing the known names if it is unknown."""
    specs = discover()
    try:
        return specs[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown proxy {name!r}; known: {sorted(specs)}") from None


def resolve_names(names: str | list[str] | tuple[str, ...]) -> list[str]:
    """``"all"``, ``"a,b"`` or a list of names -> validated list (registry order for all)."""
    specs = discover()
    if isinstance(names, str):
        if names.strip() == "all":
            return list(specs)
        names = [n.strip() for n in names.split(",") if n.strip()]
    out: list[str] = []
    for name in names:
        get_spec(name)
        if name not in out:
            out.append(name)
    if not out:
        raise ValueError("no proxy names given")
    return out
