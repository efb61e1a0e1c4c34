"""MeCo (Jiang et al., NeurIPS 2023): minimum eigenvalues of channel correlations.

One image goes through the network alone (a batch of one, as the authors' NAS-Bench-201
script feeds it); for the output of every module, the Pearson correlation matrix of its
channels (each channel's values over the spatial positions are one variable) has a smallest
eigenvalue, and MeCo is their sum. As in the authors' code every module is hooked, the
containers included, so a tensor returned by a child and by its parent counts twice;
correlations of constant channels (0/0) are set to 0, as theirs are.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from .registry import register

if TYPE_CHECKING:
    import torch

    from .context import ArchContext

MECO_SOURCE = ("HamsterMimi/MeCo@0d830dd2f639f9d1ba3b5831a65df768d70fc93b "
               "correlation/NAS_Bench_201.py")


def channel_correlation(feature: torch.Tensor) -> torch.Tensor:
    """float64 Pearson correlation of the rows of ``feature`` (channels × positions), with
    the NaN/inf entries of constant rows set to 0 (the reference's policy)."""
    import torch

    corr = torch.corrcoef(feature.reshape(feature.shape[0], -1).to(torch.float64))
    return torch.nan_to_num(corr, nan=0.0, posinf=0.0, neginf=0.0)


def module_minima(ctx: ArchContext) -> tuple[list[float], int]:
    """λ_min of the channel correlation of every tensor a module outputs on the batch's first
    image (grouped by channel count, so each group is one batched ``eigvalsh``), and the
    number of outputs left out (not a tensor, no channel axis or a single channel: no
    correlation matrix)."""
    return ctx.shared("meco", lambda: _run_meco(ctx))


def _run_meco(ctx: ArchContext) -> tuple[list[float], int]:
    import torch

    net = ctx.network()
    by_size: dict[int, list[torch.Tensor]] = defaultdict(list)
    minima: list[float] = []
    skipped = [0]

    def hook(_module: Any, _inputs: Any, output: Any) -> None:
        if not isinstance(output, torch.Tensor) or output.dim() < 2 or output.shape[1] < 2:
            skipped[0] += 1
        elif output[0, 0].numel() < 2:
            # One value per channel (logits, pooled features): every correlation is 0/0,
            # set to 0, so the smallest eigenvalue is 0.
            minima.append(0.0)
        else:
            # Computed at once: a later in-place op may overwrite the output's storage.
            corr = channel_correlation(output[0].detach())
            by_size[corr.shape[0]].append(corr)

    handles = [m.register_forward_hook(hook) for m in net.modules()]
    try:
        with torch.inference_mode():
            net(ctx.x[:1])
    finally:
        for h in handles:
            h.remove()
    for mats in by_size.values():
        minima.extend(float(v) for v in torch.linalg.eigvalsh(torch.stack(mats))[:, 0])
    return minima, skipped[0]


@register(
    "meco",
    family="meco",
    higher_is_better=True,
    paper="MeCo (NeurIPS 2023)",
    source=MECO_SOURCE,
    description="Σ over every module's output of λ_min of the channel correlation matrix of "
    "the batch's first image (forwarded alone); constant channels' correlations set to 0",
)
def meco(ctx: ArchContext) -> tuple[float, dict[str, Any]]:
    minima, skipped = module_minima(ctx)
    return float(sum(minima)), {"outputs": len(minima), "outputs_skipped": skipped}
