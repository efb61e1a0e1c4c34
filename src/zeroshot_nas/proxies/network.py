"""The scored network: its seeded build, the layers scores sum over, and temporary
replacements of its BatchNorm forwards that several families need."""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextlib import contextmanager

import torch
from torch import nn

from .numerics import derived_seed, resolve_device
from .protocol import Protocol

POOLING = (nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.MaxPool2d, nn.AdaptiveMaxPool2d)
BN_TYPES = (nn.modules.batchnorm._BatchNorm,)


def build_initialised_network(space: str, arch: str, dataset: str, protocol: Protocol) -> nn.Module:
    """The network of ``arch`` initialised from ``protocol.seed`` (global RNG untouched)."""
    from zeroshot_nas import spaces

    return seeded_network(lambda: spaces.build_network(space, arch, dataset), protocol)


def seeded_network(build: Callable[[], nn.Module], protocol: Protocol,
                   purpose: str | None = None) -> nn.Module:
    """``build()`` under the protocol's seed (or the seed derived from it for ``purpose``, for
    a network other than the scored one), initialised, placed and moded as the protocol says;
    the global RNG is left untouched."""
    seed = protocol.seed if purpose is None else derived_seed(protocol.seed, purpose)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = build()
    if protocol.init == "kaiming":
        gen = torch.Generator().manual_seed(derived_seed(protocol.seed, "kaiming"))
        with torch.no_grad():
            for m in net.modules():
                if isinstance(m, (nn.Conv2d, nn.Linear)):
                    nn.init.kaiming_normal_(
                        m.weight, mode=protocol.kaiming_mode, nonlinearity="relu", generator=gen
                    )
                    if m.bias is not None:
                        m.bias.zero_()
                elif isinstance(m, BN_TYPES) and m.affine:
                    m.weight.fill_(1.0)
                    m.bias.zero_()
    device = resolve_device(protocol.device)
    net = net.to(device=device, dtype=protocol.torch_dtype)
    net.train(protocol.bn_mode == "train")
    return net


def weight_layers(net: nn.Module) -> list[nn.Module]:
    """Conv2d and Linear modules in registration (= forward) order: the layers whose weights
    the saliency scores sum over, as the zero-cost-nas reference does."""
    return [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


def weight_names(net: nn.Module) -> list[str]:
    """``named_parameters`` names of the :func:`weight_layers` weights, in the same order."""
    name_of = {id(p): n for n, p in net.named_parameters()}
    return [name_of[id(m.weight)] for m in weight_layers(net)]


@contextmanager
def replaced_batchnorm(net: nn.Module, forward_of: Callable[[nn.Module], Callable]):
    """Every BatchNorm runs ``forward_of(module)`` instead of its forward for the duration."""
    bns = [m for m in net.modules() if isinstance(m, BN_TYPES)]
    for m in bns:
        m.forward = forward_of(m)  # instance attribute shadows the class method
    try:
        yield
    finally:
        for m in bns:
            del m.forward


def bypass_batchnorm(net: nn.Module):
    """Every BatchNorm is the identity for the duration (synflow)."""
    return replaced_batchnorm(net, lambda _bn: _identity)


def _identity(x: torch.Tensor) -> torch.Tensor:
    return x


def _elementary_batchnorm(bn: nn.modules.batchnorm._BatchNorm, x: torch.Tensor) -> torch.Tensor:
    """BatchNorm with batch (train) or running (eval) statistics, from elementary ops, no
    running-statistics update."""
    shape = (1, -1) + (1,) * (x.dim() - 2)
    if bn.training or not bn.track_running_stats:
        dims = (0, *range(2, x.dim()))
        var, mean = torch.var_mean(x, dims, correction=0, keepdim=True)
    else:
        mean, var = bn.running_mean.view(shape), bn.running_var.view(shape)
    out = (x - mean) * torch.rsqrt(var + bn.eps)
    if bn.affine:
        out = out * bn.weight.view(shape) + bn.bias.view(shape)
    return out


def elementary_batchnorm(net: nn.Module):
    """Every BatchNorm computed from elementary ops for the duration.

    PyTorch's fused ``batch_norm`` has no correct second-order forward-mode derivative with
    batch statistics: nested ``jvp`` through it differs from double backward (checked in
    float64 in the tests), while var_mean/rsqrt/mul nest exactly.
    """
    return replaced_batchnorm(net, lambda bn: functools.partial(_elementary_batchnorm, bn))
