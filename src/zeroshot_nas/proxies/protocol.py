"""The scoring protocol recorded with every score, and the per-score result type."""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

BN_MODES = ("train", "eval")
DTYPES = ("float32", "float64")
INITS = ("default", "kaiming")
STATUSES = ("ok", "nan", "+inf", "-inf", "error")
_DEVICE = re.compile(r"^(cpu|cuda)(:\d+)?$")


@dataclass(frozen=True)
class Protocol:
    """Everything besides the architecture that changes a score's value.

    ``seed`` fixes the initialisation, the image batch and every noise draw. ``ntk_batch_size``
    is the sub-batch (first images of the batch) on which the NTK is formed.
    """

    batch_size: int = 64
    bn_mode: str = "train"
    dtype: str = "float32"
    init: str = "default"
    seed: int = 0
    device: str = "cpu"
    ntk_batch_size: int = 16

    def __post_init__(self) -> None:
        if not isinstance(self.batch_size, int) or self.batch_size < 2:
            raise ValueError(f"batch_size must be an integer >= 2, got {self.batch_size!r}")
        if self.bn_mode not in BN_MODES:
            raise ValueError(f"bn_mode must be one of {BN_MODES}, got {self.bn_mode!r}")
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {DTYPES}, got {self.dtype!r}")
        if self.init not in INITS:
            raise ValueError(f"init must be one of {INITS}, got {self.init!r}")
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed!r}")
        if not isinstance(self.ntk_batch_size, int) or self.ntk_batch_size < 2:
            raise ValueError(f"ntk_batch_size must be an integer >= 2, got {self.ntk_batch_size!r}")
        if not isinstance(self.device, str) or not _DEVICE.match(self.device):
            raise ValueError(f"invalid device {self.device!r} (cpu, cuda or cuda:<n>)")

    @property
    def device_type(self) -> str:
        return self.device.partition(":")[0]

    @property
    def torch_dtype(self) -> torch.dtype:
        import torch

        return torch.float64 if self.dtype == "float64" else torch.float32

    def key(self) -> str:
        """Short stable hash of the fields that change values (the seed is kept apart: the
        cache lays seeds out as folders). The device type is included: CPU and CUDA kernels
        round differently, and the cache promises bit-identical values."""
        fields = asdict(self)
        fields.pop("seed")
        fields["device"] = self.device_type
        text = json.dumps(fields, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]


def status_of(value: float) -> str:
    """``ok`` for a finite value, else ``nan``/``+inf``/``-inf``."""
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "+inf" if value > 0 else "-inf"
    return "ok"


@dataclass
class ScoreResult:
    """One score of one architecture. ``value`` is never dropped or replaced: a non-finite
    value keeps its status; ``error`` carries NaN and the message in ``extra['error']``."""

    score: str
    value: float
    status: str
    seconds: float
    extra: dict[str, Any] = field(default_factory=dict)
