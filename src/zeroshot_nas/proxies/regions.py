"""TE-NAS's number of linear regions (``linear_regions``).

TE-NAS (Chen et al., ICLR 2021; ``VITA-Group/TENAS`` ``lib/procedures/linear_region_counter.py``
and its use in ``prune_tenas.py``) counts the linear regions of a *cell*: the cell alone with
one channel and no stem, followed by BatchNorm and ReLU (its "thin" network: C=1, N=1,
depth 1, ``use_stem=False``), fed 3 batches of 1,000 random 3×3 crops of one random channel
of training images. A sample's linear region is its activation pattern, the signs of every
ReLU output (ReLUs with 4-D input, as their hook requires); the score is the number of
distinct patterns among the 3,000 samples. Their ``calc_LR`` gets that number as
Σ_i 1/#{j: pattern_j = pattern_i} in float16, which is the count up to float16 rounding of
class sizes above 2,048; we count distinct rows exactly.

Why the cell and not the whole network: on the full NB201 network every image of a batch
has its own pattern (64 of 64 for nearly every architecture, measured), so the count carries
no information; TE-NAS's small inputs and thin cell keep it far from that ceiling.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .registry import register

if TYPE_CHECKING:
    import torch
    from torch import nn

    from .context import ArchContext

# TE-NAS: Linear_Region_Collector(input_size=(1000, 1, 3, 3), sample_batch=3).
CROPS_PER_BATCH = 1000
CROP_BATCHES = 3
CROP_SIZE = 3
SOURCE = "VITA-Group/TENAS@9df78ffd98573035375b12e19b9007578cc4155d lib/procedures/linear_region_counter.py"


def thin_cell_network(ctx: ArchContext) -> nn.Module:
    """The architecture's cell alone, one channel, then BatchNorm and ReLU (TE-NAS's thin
    network; its global pooling and classifier follow the last ReLU and cannot change a
    pattern), seeded and initialised by the protocol."""
    from torch import nn

    from zeroshot_nas.spaces.cells import InferCell

    from .network import seeded_network

    net = ctx.network()
    cells = [m for m in net.modules() if isinstance(m, InferCell)]
    if not cells:
        raise ValueError(f"linear_regions counts the regions of an NB201 cell, and this "
                         f"network ({type(net).__name__}) has none")
    ops = cells[0].ops

    def build() -> nn.Module:
        return nn.Sequential(InferCell(ops, 1, 1), nn.BatchNorm2d(1), nn.ReLU(inplace=False))

    return seeded_network(build, ctx.protocol, purpose="linear_regions-net")


def random_crops(x: torch.Tensor, n: int, seed: int) -> torch.Tensor:
    """``n`` random 3×3 crops of one random channel each (image, position and channel drawn
    from a generator of ``seed``), shape (n, 1, 3, 3): TE-NAS's RandomCrop(3) then
    RandChannel(1) of normalised training images."""
    import torch

    b, c, h, w = x.shape
    gen = torch.Generator().manual_seed(seed)
    image = torch.randint(b, (n,), generator=gen)
    channel = torch.randint(c, (n,), generator=gen)
    top = torch.randint(h - CROP_SIZE + 1, (n,), generator=gen)
    left = torch.randint(w - CROP_SIZE + 1, (n,), generator=gen)
    offsets = torch.arange(CROP_SIZE)
    rows = (top[:, None] + offsets)[:, :, None]
    cols = (left[:, None] + offsets)[:, None, :]
    index = (image[:, None, None].to(x.device), channel[:, None, None].to(x.device),
             rows.to(x.device), cols.to(x.device))
    return x[index].unsqueeze(1).contiguous()


def activation_patterns(net: nn.Module, inputs: torch.Tensor) -> torch.Tensor:
    """Binary pattern (ReLU output > 0) of every ReLU with a 4-D input, concatenated per
    sample in call order, shape (samples, units)."""
    import torch
    from torch import nn

    codes: list[torch.Tensor] = []

    def hook(_m: nn.Module, inp: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
        if inp[0].dim() == 4:
            codes.append((out > 0).reshape(out.shape[0], -1))

    handles = [m.register_forward_hook(hook) for m in net.modules() if isinstance(m, nn.ReLU)]
    try:
        with torch.inference_mode():
            net(inputs)
    finally:
        for h in handles:
            h.remove()
    return torch.cat(codes, dim=1)


def count_patterns(codes: torch.Tensor) -> int:
    """The number of distinct rows of a binary matrix."""
    import torch

    return int(torch.unique(codes, dim=0).shape[0])


def _run_linear_regions(ctx: ArchContext) -> tuple[int, int]:
    import torch

    from .numerics import derived_seed

    net = thin_cell_network(ctx)
    crops = random_crops(ctx.x, CROPS_PER_BATCH * CROP_BATCHES,
                         derived_seed(ctx.protocol.seed, "linear_regions-crops"))
    # One forward per batch of 1,000, as TE-NAS: train-mode BatchNorm normalises each batch
    # with its own statistics.
    codes = torch.cat([activation_patterns(net, chunk)
                       for chunk in crops.split(CROPS_PER_BATCH)])
    return count_patterns(codes), int(codes.shape[1])


@register(
    "linear_regions",
    family="regions",
    higher_is_better=True,
    paper="TE-NAS (Chen et al., ICLR 2021)",
    description="distinct ReLU activation patterns of the cell alone (1 channel, no stem, "
    "then BN+ReLU) over 3×1,000 random 3×3 one-channel crops of the batch's images",
    source=SOURCE,
    needs_space=True,
)
def linear_regions(ctx: ArchContext) -> tuple[float, dict[str, Any]]:
    regions, units = ctx.shared("linear_regions", lambda: _run_linear_regions(ctx))
    return float(regions), {"units": units, "samples": CROPS_PER_BATCH * CROP_BATCHES}
