"""NATS-Bench size space (SSS): 32,768 channel strings such as ``8:16:32:48:64``.

The network is xautodl's "infer.shape.tiny" (``DynamicShapeTinyNet``) with five layers:
cell, reduction block, cell, reduction block, cell, whose widths are the five channels; the
stem has the first width. Every cell uses the fixed NATS-SSS genotype (NATS index 9930, the
best topology on CIFAR-100 validation).
"""

from __future__ import annotations

import itertools

from . import nb201
from .common import ArchError

CHANNELS: tuple[int, ...] = tuple(range(8, 65, 8))
NUM_LAYERS = 5
NUM_ARCHS = len(CHANNELS) ** NUM_LAYERS
GENOTYPE = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"
LAYER_REDUCTIONS: tuple[bool, ...] = (False, True, False, True, False)

_GENOTYPE_OPS = nb201.parse_ops(GENOTYPE)


def _parse(text: object, sep: str, what: str) -> tuple[int, ...]:
    if not isinstance(text, str):
        raise ArchError(f"invalid NATS-SSS {what} {text!r}: expected a string")
    parts = text.strip().split(sep)
    if len(parts) != NUM_LAYERS:
        raise ArchError(
            f"invalid NATS-SSS {what} {text!r}: expected {NUM_LAYERS} channel counts "
            f"separated by {sep!r}, found {len(parts)}"
        )
    channels = []
    for part in parts:
        if not (part.isascii() and part.isdigit()) or int(part) not in CHANNELS:
            raise ArchError(
                f"invalid NATS-SSS {what} {text!r}: channel count {part!r} is not one of "
                f"{list(CHANNELS)}"
            )
        channels.append(int(part))
    return tuple(channels)


def parse_channels(arch: str) -> tuple[int, ...]:
    """The five channel counts of a string like ``8:16:32:48:64``."""
    return _parse(arch, ":", "arch string")


def channels_to_arch(channels: tuple[int, ...]) -> str:
    """Write five channel counts as the canonical ``a:b:c:d:e`` string."""
    return ":".join(str(c) for c in channels)


def parse_arch(arch: str) -> str:
    """Validate a channel string and return it in canonical form."""
    return channels_to_arch(parse_channels(arch))


def arch_id(arch: str) -> str:
    """Channels joined by ``-``, e.g. ``8-16-32-48-64``."""
    return "-".join(str(c) for c in parse_channels(arch))


def arch_from_id(ident: str) -> str:
    """Inverse of :func:`arch_id`."""
    return channels_to_arch(_parse(ident, "-", "arch id"))


def all_archs() -> list[str]:
    """All 32,768 channel strings in ``itertools.product(CHANNELS, repeat=5)`` order."""
    return [channels_to_arch(c) for c in itertools.product(CHANNELS, repeat=NUM_LAYERS)]


def cost(arch: str, num_classes: int, image_size: int) -> tuple[int, int]:
    """(params, FLOPs per image) of :func:`build_network`, counted without building it."""
    channels = parse_channels(arch)
    return nb201.network_cost(
        _GENOTYPE_OPS, channels[0], channels, LAYER_REDUCTIONS, num_classes, image_size
    )
