"""NASWOT (Mellor et al.): log|K| of the Hamming kernel of ReLU activation codes."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from .registry import register

if TYPE_CHECKING:
    import torch

    from .context import ArchContext


def naswot_from_kernel(k: torch.Tensor) -> tuple[float, dict[str, Any]]:
    """log|det K| via ``slogdet`` in float64 (the sign is dropped as in the reference).

    A singular K (two images with identical codes) has log|det| = -inf: reported as
    ``-inf``, never replaced (the references use NaN, 0, -1e8 or drop it).
    """
    import torch

    sign, logabsdet = torch.linalg.slogdet(k.to(torch.float64))
    value = float(logabsdet)
    if float(sign) == 0.0:
        value = -math.inf
    return value, {"sign": float(sign)}


@register(
    "naswot",
    family="naswot",
    higher_is_better=True,
    paper="nas-without-training",
    requires=("codes",),
    description="log|K|, K = Σ_layers c·cᵀ + (1−c)·(1−c)ᵀ over binary codes (input > 0) of "
    "every nn.ReLU; slogdet in float64; singular K → -inf",
)
def naswot(ctx: ArchContext) -> tuple[float, dict[str, Any]]:
    k, units = ctx.naswot_kernel()
    value, extra = naswot_from_kernel(k)
    extra["relu_units"] = units
    return value, extra
