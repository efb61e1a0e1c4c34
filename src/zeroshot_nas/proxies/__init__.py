"""Training-free proxy scores: registry, protocol and the shared-pass engine.

``REGISTRY`` maps every score name to its :class:`ProxySpec`; each family module of this
package registers its scores and is discovered automatically.
"""

from .engine import ArchContext, score_architecture
from .protocol import Protocol, ScoreResult, status_of
from .registry import REGISTRY, ProxySpec, get_spec, resolve_names

__all__ = [
    "REGISTRY",
    "ArchContext",
    "Protocol",
    "ProxySpec",
    "ScoreResult",
    "get_spec",
    "resolve_names",
    "score_architecture",
    "status_of",
]
