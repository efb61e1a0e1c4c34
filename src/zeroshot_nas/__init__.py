"""zeroshot-nas: reproducible training-free neural architecture search.

``zeroshot_nas.score_model(model, images, labels, scores=[...])`` scores any PyTorch model on
one batch (:mod:`zeroshot_nas.api`); importing the package loads no torch until it is called.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["score_model"]


def __getattr__(name: str) -> Any:
    if name == "score_model":
        from zeroshot_nas.api import score_model

        return score_model
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
