"""Runs scores on one architecture: plans the shared passes from the registry, then calls
every requested score on one fused context (or one fresh context each, standalone)."""

from __future__ import annotations

import math
import time
import traceback
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

from .context import ArchContext
from .numerics import exact_cuda_numerics, resolve_device
from .protocol import Protocol, ScoreResult, status_of
from .registry import ENGINE_VERSION, get_spec, required_parts

MODES = ("fused", "standalone")
__all__ = ["ENGINE_VERSION", "MODES", "context_for", "run_score", "score_architecture"]


def context_for(
    space: str,
    arch: str,
    dataset: str,
    batch: tuple[torch.Tensor, torch.Tensor | None],
    names: Sequence[str],
    protocol: Protocol,
    fused: bool = True,
    network: nn.Module | None = None,
) -> ArchContext:
    """A context planned for the scores ``names`` (the first-order parts they declare);
    ``network`` replaces the space's seeded build of ``arch``."""
    ctx = ArchContext(space, arch, dataset, batch, required_parts(list(names)), protocol, fused,
                      network=network)
    ctx.pending = set(names)
    return ctx


def run_score(ctx: ArchContext, name: str) -> tuple[float, dict[str, Any], float]:
    """``(value, extra, own seconds)`` of one score on ``ctx``; a failure becomes NaN with the
    error and its traceback in ``extra``, never an exception."""
    spec = get_spec(name)
    ctx.current = name
    ctx.child_seconds = [0.0]
    t0 = time.perf_counter()
    try:
        value, extra = spec.compute(ctx)
        value = float(value)
    except Exception as err:  # noqa: BLE001 - every failure becomes a reported status
        value = math.nan
        extra = {"error": f"{type(err).__name__}: {err}", "traceback": traceback.format_exc()}
    own = time.perf_counter() - t0 - ctx.child_seconds[0]
    ctx.current = None
    ctx.finished(name)
    return value, extra, own


def score_architecture(
    space: str,
    arch: str,
    dataset: str,
    batch: tuple[torch.Tensor, torch.Tensor | None],
    names: Sequence[str],
    protocol: Protocol,
    mode: str = "fused",
    network: Callable[[], nn.Module] | None = None,
) -> list[ScoreResult]:
    """Compute the scores ``names`` of one architecture on one batch.

    ``batch`` is ``(x, y)`` as :func:`zeroshot_nas.data.images.draw_batch` returns it (``y``
    may be None when no requested score needs labels). ``network``, when given, makes the
    scored network (called once per context: once fused, once per score standalone) instead
    of the space's build of ``arch``. Every name yields one :class:`ScoreResult`; failures
    come back with status ``error``, never as exceptions.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    names = list(names)
    for name in names:
        get_spec(name)
    with exact_cuda_numerics(resolve_device(protocol.device)):
        if mode == "fused":
            ctx = context_for(space, arch, dataset, batch, names, protocol, fused=True,
                              network=network() if network else None)
            raw = {name: run_score(ctx, name) for name in second_order_first(names)}
            return [
                ScoreResult(name, value, _status(value, extra), ctx.seconds_of(name, own), extra)
                for name, (value, extra, own) in ((n, raw[n]) for n in names)
            ]
        results: list[ScoreResult] = []
        for name in names:
            t0 = time.perf_counter()
            ctx = context_for(space, arch, dataset, batch, [name], protocol, fused=False,
                              network=network() if network else None)
            value, extra, _ = run_score(ctx, name)
            seconds = time.perf_counter() - t0
            results.append(ScoreResult(name, value, _status(value, extra), seconds, extra))
            del ctx
        return results


def second_order_first(names: Sequence[str]) -> list[str]:
    """``names`` with the scores that read the retained cross-entropy graph first, so that the
    graph (the largest memory the fused engine holds) is released before any other pass."""
    return sorted(names, key=lambda name: "ce_graph" not in get_spec(name).requires)


def _status(value: float, extra: dict[str, Any]) -> str:
    return "error" if "error" in extra else status_of(value)
