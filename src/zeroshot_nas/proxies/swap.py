"""SWAP (Peng et al., ICLR 2024): sample-wise activation patterns.

Every ReLU output position of a forward pass over a few images is one neuron; its pattern is
the sign of its value on each image (a bit per image). SWAP is the number of distinct
patterns; the regularised score multiplies it by exp(−(P − μ)²/σ), P the parameter count.
As the authors' ``SWAP`` class, only ReLUs fed a 4-D tensor are hooked, and a ReLU called
several times contributes a neuron per call; since identical neurons share a pattern, ReLUs
reading the same tensor change nothing.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from .registry import register

if TYPE_CHECKING:
    import torch

    from .context import ArchContext

SWAP_SOURCE = "pym1024/SWAP@f6049f7c979b0cfc9ac5a13666fedb79dfe3cce8 src/metrics/swap.py"
# The authors' correlation script scores 16 images (its --input_samples default); we take the
# first 16 of the run's batch (fewer if the batch is smaller).
SWAP_SAMPLES = 16
# The regularisation's centre and width, with P in millions of parameters (see docs/proxies.md,
# "Which source each score follows": the repository calls SWAP without μ and σ).
SWAP_MU = 1.5
SWAP_SIGMA = 1.5
# Bits packed into one int64 per neuron; 63 keeps every packed value non-negative.
_BITS = 63


def pack_patterns(active: torch.Tensor) -> torch.Tensor:
    """Neurons × ⌈images/63⌉ int64 codes of a boolean ``images × neurons`` activity matrix:
    two neurons get the same row exactly when their patterns are equal."""
    import torch

    n = active.shape[0]
    chunks = []
    for lo in range(0, n, _BITS):
        bits = active[lo:lo + _BITS].to(torch.int64)
        weights = torch.pow(2, torch.arange(bits.shape[0], dtype=torch.int64)).to(bits.device)
        chunks.append((bits * weights[:, None]).sum(dim=0))
    return torch.stack(chunks, dim=1)


def distinct_patterns(ctx: ArchContext) -> int:
    """Distinct ReLU sign patterns over the first ``SWAP_SAMPLES`` images of the batch."""
    return ctx.shared("swap_patterns", lambda: _run_patterns(ctx))


def _run_patterns(ctx: ArchContext) -> int:
    import torch
    from torch import nn

    net = ctx.network()
    x = ctx.x[:SWAP_SAMPLES]
    codes: list[torch.Tensor] = []

    def hook(_module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        if inputs[0].dim() == 4:
            codes.append(pack_patterns((output > 0).reshape(x.shape[0], -1)))

    handles = [m.register_forward_hook(hook) for m in net.modules() if isinstance(m, nn.ReLU)]
    try:
        with torch.inference_mode():
            net(x)
    finally:
        for h in handles:
            h.remove()
    if not codes:
        raise ValueError("swap: the network has no nn.ReLU fed a 4-D tensor (no neurons)")
    return count_distinct_rows(torch.cat(codes))


def count_distinct_rows(codes: torch.Tensor) -> int:
    """Distinct rows of an int64 matrix. One column (up to 63 images, the usual case) is a
    1-D sort; ``torch.unique(dim=0)`` would take seconds on a million rows."""
    import numpy as np
    import torch

    if codes.shape[1] == 1:
        return int(torch.unique(codes[:, 0]).numel())
    return int(np.unique(codes.cpu().numpy(), axis=0).shape[0])


def regular_factor(params_millions: float) -> float:
    """exp(−(P − μ)²/σ), the authors' size regularisation (P in millions)."""
    return math.exp(-((params_millions - SWAP_MU) ** 2) / SWAP_SIGMA)


def parameter_millions(ctx: ArchContext) -> float:
    """Parameters of the network in millions, leaving out auxiliary heads as the reference
    counts them (names containing "auxiliary")."""
    net = ctx.network()
    return sum(p.numel() for name, p in net.named_parameters() if "auxiliary" not in name) / 1e6


@register(
    "swap",
    family="swap",
    higher_is_better=True,
    paper="SWAP (ICLR 2024)",
    source=SWAP_SOURCE,
    description=f"distinct sign patterns of the ReLU outputs (one bit per image) over the "
    f"first {SWAP_SAMPLES} images of the batch",
)
def swap(ctx: ArchContext) -> tuple[float, dict[str, Any]]:
    return float(distinct_patterns(ctx)), {"images": min(SWAP_SAMPLES, ctx.x.shape[0])}


@register(
    "swap_reg",
    family="swap",
    higher_is_better=True,
    paper="SWAP (ICLR 2024)",
    source=SWAP_SOURCE,
    description=f"swap · exp(−(P − μ)²/σ), P the parameters in millions, μ = {SWAP_MU}, "
    f"σ = {SWAP_SIGMA}",
)
def swap_reg(ctx: ArchContext) -> tuple[float, dict[str, Any]]:
    params = parameter_millions(ctx)
    factor = regular_factor(params)
    return distinct_patterns(ctx) * factor, {"params_m": params, "regular_factor": factor}
