"""Parameter and FLOP counts of a built network, the way the official NATS tables count them.

NATS-Bench obtained its numbers from xautodl's ``get_model_infos``: parameters are all
trainable tensors (BN affine weights included, running statistics not) divided by 1e6; FLOPs
are forward-hook counts on ``Conv2d`` and ``Linear`` only (kernel multiply-accumulates per
output element, plus one per output for a bias), per image, divided by 1e6. Its pooling hook
is computed but left out of the sum, so pooling, BN, ReLU and additions count nothing.
"""

from __future__ import annotations

import torch
from torch import nn

from .common import get_dataset


def count_params_m(net: nn.Module) -> float:
    """All parameters of ``net`` in millions."""
    return sum(p.numel() for p in net.parameters()) / 1e6


def count_flops(net: nn.Module, image_size: int | tuple[int, ...]) -> int:
    """FLOPs of one forward pass of a 3×image_size×image_size image (or of one image of the
    given (C, H, W) shape), counted by hooks.

    The network is run once in eval mode under ``no_grad`` on zeros placed like its
    parameters (a network built on the ``meta`` device works too); its BN statistics and its
    train/eval flags are left as they were.
    """
    total = 0

    def conv_hook(module: nn.Conv2d, inputs: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
        nonlocal total
        positions = out[0, 0].numel()
        per_position = (
            module.kernel_size[0]
            * module.kernel_size[1]
            * (module.in_channels // module.groups)
            * module.out_channels
        )
        total += per_position * positions
        if module.bias is not None:
            total += module.out_channels * positions

    def linear_hook(module: nn.Linear, inputs: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
        nonlocal total
        positions = out[0].numel() // module.out_features
        total += module.in_features * module.out_features * positions
        if module.bias is not None:
            total += module.out_features * positions

    first = next(net.parameters(), None)
    device = first.device if first is not None else torch.device("cpu")
    dtype = first.dtype if first is not None else torch.float32
    modes = {m: m.training for m in net.modules()}
    handles = []
    try:
        for m in net.modules():
            if isinstance(m, nn.Conv2d):
                handles.append(m.register_forward_hook(conv_hook))
            elif isinstance(m, nn.Linear):
                handles.append(m.register_forward_hook(linear_hook))
        net.eval()
        with torch.no_grad():
            shape = (3, image_size, image_size) if isinstance(image_size, int) else image_size
            net(torch.zeros(1, *shape, device=device, dtype=dtype))
    finally:
        for h in handles:
            h.remove()
        for m, training in modes.items():
            m.training = training
    return total


def count_flops_m(net: nn.Module, dataset: str) -> float:
    """FLOPs per image in millions on ``dataset``'s image size, as NATS counts them."""
    return count_flops(net, get_dataset(dataset).image_size) / 1e6
