"""The scoring protocol recorded with every score, and the per-score result type."""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any

from zeroshot_nas.config import MAX_SEED, schema_choices, schema_default

if TYPE_CHECKING:
    import torch

BN_MODES = schema_choices("experiment", "bn_mode")
DTYPES = schema_choices("experiment", "dtype")
INITS = schema_choices("experiment", "init")
KAIMING_MODES = schema_choices("experiment", "kaiming_mode")
GRADIENT_LAYOUTS = schema_choices("experiment", "gradient_layout")
STATUSES = ("ok", "nan", "+inf", "-inf", "error")
_DEVICE = re.compile(r"^(cpu|cuda)(:\d+)?$")


def _default(key: str):
    return field(default=schema_default("experiment", key))


@dataclass(frozen=True)
class Protocol:
    """Everything besides the architecture that changes a score's value; defaults come from
    the workflow schema (``workflow/schemas/config.schema.yaml``).

    ``seed`` fixes the initialisation, the image batch and every noise draw. ``ntk_batch_size``
    is the sub-batch (first images of the batch) on which the NTK is formed.
    ``kaiming_mode`` is the fan of ``init: kaiming`` (no effect with the default init).
    ``gradient_layout`` is the memory layout of the fused gradient passes on CPU.
    ``threads`` is the number of torch CPU threads scores are computed with: the kernels
    split their sums by thread, so another count changes the last bits of some scores
    (synflow, jacob_cov, ...).
    ``mem_mb`` is the memory budget of a scoring job: the fused engine takes GraSP's Hessian
    product by the faster double backward when its estimated peak fits it, else by
    forward-over-forward AD (the two agree within the stated tolerance; each grasp value
    records its method). Not part of the cache key.
    """

    batch_size: int = _default("batch_size")
    bn_mode: str = _default("bn_mode")
    dtype: str = _default("dtype")
    init: str = _default("init")
    seed: int = 0
    device: str = "cpu"
    ntk_batch_size: int = _default("ntk_batch_size")
    kaiming_mode: str = _default("kaiming_mode")
    gradient_layout: str = _default("gradient_layout")
    threads: int = _default("threads")
    mem_mb: int = _default("mem_mb")

    @classmethod
    def from_experiment(cls, experiment: Mapping[str, Any], seed: int = 0,
                        device: str | None = None) -> Protocol:
        """The protocol of a validated experiment section (``device`` resolves ``auto``)."""
        values = {f.name: experiment[f.name] for f in fields(cls)
                  if f.name not in ("seed", "device") and f.name in experiment}
        return cls(**values, seed=seed, device=device or experiment.get("device", "cpu"))

    def __post_init__(self) -> None:
        if not isinstance(self.batch_size, int) or self.batch_size < 2:
            raise ValueError(f"batch_size must be an integer >= 2, got {self.batch_size!r}")
        if self.bn_mode not in BN_MODES:
            raise ValueError(f"bn_mode must be one of {BN_MODES}, got {self.bn_mode!r}")
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {DTYPES}, got {self.dtype!r}")
        if self.init not in INITS:
            raise ValueError(f"init must be one of {INITS}, got {self.init!r}")
        if self.kaiming_mode not in KAIMING_MODES:
            raise ValueError(f"kaiming_mode must be one of {KAIMING_MODES}, "
                             f"got {self.kaiming_mode!r}")
        if self.gradient_layout not in GRADIENT_LAYOUTS:
            raise ValueError(f"gradient_layout must be one of {GRADIENT_LAYOUTS}, "
                             f"got {self.gradient_layout!r}")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) \
                or not 0 <= self.seed <= MAX_SEED:
            raise ValueError(f"seed must be an integer from 0 to {MAX_SEED}, got {self.seed!r}")
        if not isinstance(self.threads, int) or self.threads < 1:
            raise ValueError(f"threads must be an integer >= 1, got {self.threads!r}")
        if not isinstance(self.ntk_batch_size, int) or self.ntk_batch_size < 2:
            raise ValueError(f"ntk_batch_size must be an integer >= 2, got {self.ntk_batch_size!r}")
        if not isinstance(self.mem_mb, int) or self.mem_mb < 1:
            raise ValueError(f"mem_mb must be a positive integer, got {self.mem_mb!r}")
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
        values = asdict(self)
        values.pop("seed")
        # a resource, not a definition: it only picks between two exact methods of grasp
        values.pop("mem_mb")
        values["device"] = self.device_type
        if self.init != "kaiming":
            values.pop("kaiming_mode")  # no effect: protocols that differ only here share values
        if self.gradient_layout == "nchw" or self.device_type != "cpu":
            # the layout every key had before the option existed (caches stay valid); CUDA
            # always runs NCHW
            values.pop("gradient_layout")
        if self.threads == 1:
            values.pop("threads")  # the key of every run before threads were keyed
        text = json.dumps(values, sort_keys=True)
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
