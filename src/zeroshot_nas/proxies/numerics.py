"""Seeds, devices and the CUDA numerics policy of scoring.

One protocol seed fixes everything random: every draw comes from its own generator, seeded
by :func:`derived_seed` for a named purpose, so adding a draw never shifts another and the
global RNG is left untouched.
"""

from __future__ import annotations

import hashlib
from contextlib import contextmanager

import torch


def derived_seed(seed: int, purpose: str) -> int:
    """A stable 63-bit seed for one purpose (noise, re-init), independent of other purposes."""
    digest = hashlib.sha256(f"{seed}:{purpose}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def randn_like_seeded(x: torch.Tensor, seed: int, purpose: str) -> torch.Tensor:
    """Standard normal noise shaped like ``x``, drawn on the CPU (same on every device)."""
    gen = torch.Generator(device="cpu").manual_seed(derived_seed(seed, purpose))
    return torch.randn(x.shape, generator=gen, dtype=x.dtype).to(x.device)


@contextmanager
def torch_threads(threads: int):
    """torch's CPU thread count set to ``threads`` for the duration, then restored."""
    saved = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(saved)


def numerics_environment(device: torch.device) -> str:
    """What, besides the configuration, decides the last bits of a score: the torch build
    and the kernels it dispatches to on ``device`` (the CPU's vector instruction set, or the
    CUDA device's name), e.g. ``torch 2.13.0+cpu, cpu AVX512``."""
    if device.type == "cuda":
        where = f"cuda {torch.cuda.get_device_name(device)}"
    else:
        where = f"cpu {torch.backends.cpu.get_cpu_capability()}"
    return f"torch {torch.__version__}, {where}"


def resolve_device(device: str) -> torch.device:
    """``auto`` → CUDA when available, else CPU."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


@contextmanager
def exact_cuda_numerics(device: torch.device):
    """On CUDA, for the duration: no TF32 in convolutions or matmuls, deterministic cuDNN.

    PyTorch lets cuDNN convolutions use TF32 (10-bit mantissa) by default, so a "float32"
    score would really be computed at about 1e-3 precision, and cuDNN may pick a different,
    non-deterministic algorithm on every run. The previous settings are restored.
    """
    if device.type != "cuda":
        yield
        return
    saved = (
        torch.backends.cudnn.allow_tf32,
        torch.backends.cuda.matmul.allow_tf32,
        torch.backends.cudnn.deterministic,
        torch.backends.cudnn.benchmark,
    )
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    try:
        yield
    finally:
        (
            torch.backends.cudnn.allow_tf32,
            torch.backends.cuda.matmul.allow_tf32,
            torch.backends.cudnn.deterministic,
            torch.backends.cudnn.benchmark,
        ) = saved
