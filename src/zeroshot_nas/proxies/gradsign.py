"""GradSign (Zhang & Jia, ICLR 2022): agreement of the per-sample gradient signs.

For every Conv2d/Linear weight entry θ, the signs of ∂L_i/∂θ over the images i of the batch
are summed and GradSign = Σ_θ |Σ_i sign(∂L_i/∂θ)|: large where the samples' loss surfaces
agree on the direction. As in the authors' code, each image's gradient comes from a forward
and backward of that image alone (a batch of one), so train-mode BatchNorm normalises every
image by its own statistics; that is the definition's per-sample gradient, and no batched
method gives it more cheaply here (measured in docs/proxies.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .registry import register

if TYPE_CHECKING:
    import torch

    from .context import ArchContext

GRADSIGN_SOURCE = ("cmu-catalyst/GradSign@26412be8000a19c1a1147b2bb9399a7d1003eaf1 "
                   "zero-cost-nas-code/foresight/pruners/measures/grad_conflict.py")


def sign_sums(ctx: ArchContext) -> list[torch.Tensor]:
    """Per Conv2d/Linear weight (forward order), Σ_i sign(∂L_i/∂θ) over the batch's images,
    L_i the cross-entropy of image i forwarded alone. An unused weight counts 0, and so does
    an entry whose gradient is NaN for some image (the reference's ``nansum`` drops it)."""
    return ctx.shared("gradsign_signs", lambda: _run_sign_sums(ctx))


def _run_sign_sums(ctx: ArchContext) -> list[torch.Tensor]:
    import torch
    import torch.nn.functional as F

    from .network import weight_layers

    net = ctx.network()
    y = ctx.labels()
    weights = [m.weight for m in weight_layers(net)]
    # Signs are -1, 0 or 1, so the sums are exact small integers in int32.
    totals = [torch.zeros(w.shape, dtype=torch.int32, device=w.device) for w in weights]
    nans = [torch.zeros(w.shape, dtype=torch.bool, device=w.device) for w in weights]
    with torch.enable_grad():
        for i in range(ctx.x.shape[0]):
            loss = F.cross_entropy(net(ctx.x[i:i + 1]), y[i:i + 1])
            grads = torch.autograd.grad(loss, weights, allow_unused=True)
            for total, nan, g in zip(totals, nans, grads, strict=True):
                if g is not None:
                    total.add_(torch.sign(g).nan_to_num_(0.0).to(torch.int32))
                    nan.logical_or_(g.isnan())
    return [total.masked_fill_(nan, 0) for total, nan in zip(totals, nans, strict=True)]


@register(
    "gradsign",
    family="gradsign",
    higher_is_better=True,
    needs_labels=True,
    paper="GradSign (ICLR 2022)",
    source=GRADSIGN_SOURCE,
    description="Σ over Conv2d/Linear weight entries of |Σ_i sign(∂L_i/∂θ)|, L_i the "
    "cross-entropy of image i forwarded alone (per-sample gradients, one backward each)",
)
def gradsign(ctx: ArchContext) -> tuple[float, dict[str, Any]]:
    totals = sign_sums(ctx)
    value = sum(int(t.abs().sum()) for t in totals)
    entries = sum(t.numel() for t in totals)
    return float(value), {"entries": entries, "images": int(ctx.x.shape[0])}
