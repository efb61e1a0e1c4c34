"""Score any PyTorch model on one batch of images: the library entry point for networks that
are not in a bundled search space.

    table = zeroshot_nas.score_model(model, images, labels, scores=["naswot", "snip"])

The model is scored as given (its own weights; ``seed`` fixes only the scores' random draws:
noise, random crops, random cotangents) on a copy, so the caller's model is never changed.
Scores that read a search space's cell (``needs_space`` in the registry: ``linear_regions``
and the AZ-NAS parts) are refused by name, as are label-using scores without labels.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    import torch
    from torch import nn

COLUMNS = ("score", "value", "status", "seconds", "higher_is_better", "extra")


def applicable_scores(labelled: bool) -> list[str]:
    """Every registered score that can score any network (with labels, or without)."""
    from zeroshot_nas.proxies import discover

    return [name for name, spec in discover().items()
            if not spec.needs_space and (labelled or not spec.needs_labels)]


def check_scores(names: Sequence[str], labelled: bool) -> list[str]:
    """The validated names; ValueError naming every score that cannot score this input."""
    from zeroshot_nas.proxies import get_spec, resolve_names

    names = resolve_names(list(names))
    cell = [n for n in names if get_spec(n).needs_space]
    if cell:
        raise ValueError(
            f"score(s) {', '.join(cell)} read a search space's cell structure, which an arbitrary "
            "model does not have; score NB201/NATS architectures with "
            "zeroshot_nas.proxies.score_architecture for them")
    unlabelled = [n for n in names if get_spec(n).needs_labels and not labelled]
    if unlabelled:
        raise ValueError(f"score(s) {', '.join(unlabelled)} need labels: pass labels=")
    return names


def _batch(images: Any, labels: Any) -> tuple[torch.Tensor, torch.Tensor | None]:
    import torch

    x = torch.as_tensor(images)
    if x.dim() != 4 or not x.is_floating_point():
        raise ValueError(f"images must be a floating N×C×H×W batch, got dtype {x.dtype} and "
                         f"shape {tuple(x.shape)}")
    if labels is None:
        return x, None
    y = torch.as_tensor(labels)
    if y.shape != (x.shape[0],) or y.is_floating_point():
        raise ValueError(f"labels must be {x.shape[0]} integer class indices, one per image; "
                         f"got dtype {y.dtype} and shape {tuple(y.shape)}")
    return x, y.to(torch.int64)


def score_model(
    model: nn.Module,
    images: Any,
    labels: Any = None,
    scores: Sequence[str] | None = None,
    *,
    seed: int = 0,
    mode: str = "fused",
    dtype: str = "float32",
    bn_mode: str = "train",
    device: str = "cpu",
    ntk_batch_size: int = 16,
) -> pd.DataFrame:
    """Training-free scores of ``model`` on one batch, one row per score.

    ``images``: a floating N×C×H×W tensor or array (N ≥ 2, normalised as the model expects);
    ``labels``: N integer class indices, or None (then only label-free scores apply).
    ``scores``: registry names (``zeroshot-nas list-proxies``); None scores every one that
    applies. ``mode``: ``fused`` shares passes between scores, ``standalone`` gives each score
    its own copy and passes (exact per-score seconds). ``dtype``, ``bn_mode`` and ``device``
    as in the pipeline's protocol; the NTK uses the first ``ntk_batch_size`` images.

    Returns a DataFrame with the columns ``score``, ``value`` (NaN/±inf kept, never
    dropped), ``status`` (``ok``, ``nan``, ``+inf``, ``-inf`` or ``error`` with the message
    in ``extra["error"]``), ``seconds``, ``higher_is_better`` and ``extra``.
    """
    import pandas as pd

    from zeroshot_nas.proxies import Protocol, get_spec
    from zeroshot_nas.proxies.runner import score_architecture

    x, y = _batch(images, labels)
    names = check_scores(applicable_scores(y is not None) if scores is None else scores,
                         y is not None)
    protocol = Protocol(batch_size=int(x.shape[0]), bn_mode=bn_mode, dtype=dtype, seed=seed,
                        device=device, ntk_batch_size=min(ntk_batch_size, int(x.shape[0])))

    def network() -> nn.Module:
        net = copy.deepcopy(model).to(device=protocol.device, dtype=protocol.torch_dtype)
        net.requires_grad_(True)  # gradient scores differentiate every parameter
        return net.train(protocol.bn_mode == "train")

    results = score_architecture("model", type(model).__name__, None, (x, y), names, protocol,
                                 mode=mode, network=network)
    return pd.DataFrame(
        [(r.score, r.value, r.status, r.seconds, get_spec(r.score).higher_is_better, r.extra)
         for r in results],
        columns=list(COLUMNS),
    )
