"""Training-free proxy scores: registry, protocol, the per-architecture context and runner.

``REGISTRY`` maps every score name to its :class:`ProxySpec`; each family module of this
package registers its scores and is discovered when the package is imported. Importing the
package (and reading the registry) does not import torch: the context and the runner, which
do, load on first use of ``ArchContext`` or ``score_architecture``.
"""

from __future__ import annotations

from typing import Any

from .protocol import Protocol, ScoreResult, status_of
from .registry import (
    REGISTRY,
    ProxySpec,
    combinations,
    defined_on,
    discover,
    expand_all,
    get_spec,
    resolve_names,
)

discover()

_LAZY = {
    "ArchContext": ("context", "ArchContext"),
    "score_architecture": ("runner", "score_architecture"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(f"{__name__}.{module}"), attr)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "REGISTRY",
    "ArchContext",
    "Protocol",
    "ProxySpec",
    "defined_on",
    "expand_all",
    "ScoreResult",
    "combinations",
    "get_spec",
    "resolve_names",
    "score_architecture",
    "status_of",
]
