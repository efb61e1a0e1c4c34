"""The shared-pass engine: every pass an architecture's scores need runs once, lazily.

An :class:`ArchContext` holds one network and one batch. Score functions ask it for what
they need (ReLU codes, input Jacobians, cross-entropy gradients, the float64 all-ones pass,
...); the first request runs the pass and caches it, later requests reuse it.

* ``fused`` mode: one context for all requested scores. The first-order pass is planned
  from every score's ``requires`` before anything runs: one forward (channels_last on CPU) with
  the hooks that NASWOT, NI and Fisher need, then from the same graph the input-gradient
  backward (Jacobian family, epe_nas) and the cross-entropy backward (SNIP, grad_norm,
  Fisher, plain, PJS family). GraSP's θᵀHg is then the mixed second directional derivative
  of the loss along θ and g, computed by nested forward-mode AD (no graph is stored, so its
  memory does not grow with depth). Passes without gradients run under ``inference_mode``.
* ``standalone`` mode: a fresh context (own network build, own passes, NCHW) per score, as
  the reference implementations run them: the speed baseline and exact per-score times.

Timing (``ScoreResult.seconds``): a score's own work plus, for every shared pass it used,
that pass's time divided by the number of requested scores that used it (the network build
is such a pass). Pass times are exclusive (a nested pass is not counted twice). In
standalone mode this is simply the wall time of the score.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import math
import time
import traceback
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, jvp

from .protocol import Protocol, ScoreResult, status_of
from .registry import get_spec

MODES = ("fused", "standalone")
POOLING = (nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.MaxPool2d, nn.AdaptiveMaxPool2d)
BN_TYPES = (nn.modules.batchnorm._BatchNorm,)
NOISE_LEVELS = (0.1, 10.0, 100.0)


def derived_seed(seed: int, purpose: str) -> int:
    """A stable 63-bit seed for one purpose (noise, re-init), independent of other purposes."""
    digest = hashlib.sha256(f"{seed}:{purpose}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def randn_like_seeded(x: torch.Tensor, seed: int, purpose: str) -> torch.Tensor:
    """Standard normal noise shaped like ``x``, drawn on the CPU (same on every device)."""
    gen = torch.Generator(device="cpu").manual_seed(derived_seed(seed, purpose))
    return torch.randn(x.shape, generator=gen, dtype=x.dtype).to(x.device)


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


def resolve_device(device: str) -> torch.device:
    """``auto`` → CUDA when available, else CPU."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


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


def mixed_second_derivative(
    net: nn.Module,
    loss_of_output: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    u: dict[str, torch.Tensor],
    v: dict[str, torch.Tensor],
) -> float:
    """uᵀ H v for the Hessian H of ``loss_of_output(net(x))`` in the parameters named by
    ``u`` and ``v`` (the same keys), by forward-over-forward AD.

    Nothing is stored for a backward pass, so memory stays at a few activations however deep
    the network is; double backward keeps the forward and the create_graph backward alive.
    """
    fixed = {n: p.detach() for n, p in net.named_parameters()}
    point = {n: fixed[n] for n in u}

    def loss(params: dict[str, torch.Tensor]) -> torch.Tensor:
        return loss_of_output(functional_call(net, {**fixed, **params}, (x,)))

    def along_u(params: dict[str, torch.Tensor]) -> torch.Tensor:
        return jvp(loss, (params,), (u,))[1]

    with torch.no_grad(), elementary_batchnorm(net):
        _, mixed = jvp(along_u, (point,), (v,))
    return float(mixed)


def fisher_term(act: torch.Tensor, grad: torch.Tensor | None) -> float:
    """Fisher of one layer (zero-cost-nas): Σ_k 0.5·mean_n(g_nk²), g_nk = Σ_spatial a⊙∂L/∂a."""
    if grad is None:
        return 0.0
    prod = (act * grad).to(torch.float64)
    g_nk = prod.sum(dim=tuple(range(2, prod.dim()))) if prod.dim() > 2 else prod
    return float(0.5 * g_nk.pow(2).mean(0).sum())


class _Clear:
    """A handle-like object that empties a dict when the hooks are removed."""

    def __init__(self, d: dict) -> None:
        self.d = d

    def remove(self) -> None:
        self.d.clear()


def build_initialised_network(space: str, arch: str, dataset: str, protocol: Protocol) -> nn.Module:
    """The network of ``arch`` initialised from ``protocol.seed`` (global RNG untouched)."""
    from zeroshot_nas import spaces

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(protocol.seed)
        net = spaces.build_network(space, arch, dataset)
    if protocol.init == "kaiming":
        gen = torch.Generator().manual_seed(derived_seed(protocol.seed, "kaiming"))
        with torch.no_grad():
            for m in net.modules():
                if isinstance(m, (nn.Conv2d, nn.Linear)):
                    nn.init.kaiming_normal_(m.weight, nonlinearity="relu", generator=gen)
                    if m.bias is not None:
                        m.bias.zero_()
                elif isinstance(m, BN_TYPES) and m.affine:
                    m.weight.fill_(1.0)
                    m.bias.zero_()
    device = resolve_device(protocol.device)
    net = net.to(device=device, dtype=protocol.torch_dtype)
    net.train(protocol.bn_mode == "train")
    return net


class ArchContext:
    """One architecture, one batch, one protocol: lazily computed, cached shared passes."""

    def __init__(
        self,
        space: str,
        arch: str,
        dataset: str,
        batch: tuple[torch.Tensor, torch.Tensor | None],
        names: Sequence[str],
        protocol: Protocol,
        fused: bool = True,
    ) -> None:
        self.space, self.arch, self.dataset = space, arch, dataset
        self.protocol = protocol
        self.fused = fused
        self.device = resolve_device(protocol.device)
        x, y = batch
        if x.dim() != 4:
            raise ValueError(f"batch images must be N×C×H×W, got shape {tuple(x.shape)}")
        self.x = x.to(device=self.device, dtype=protocol.torch_dtype)
        self.y = None if y is None else y.to(self.device, torch.int64)
        if self.y is not None and (self.y < 0).any():
            raise ValueError("batch labels contain -1 (unlabelled images); draw a labelled batch")
        self.requires: set[str] = set()
        for name in names:
            self.requires.update(get_spec(name).requires)
        if self.y is None:
            self.requires -= {"ce", "fisher"}
        self.current: str | None = None
        self.consumers: dict[str, set[str | None]] = defaultdict(set)
        self.pass_seconds: dict[str, float] = {}
        self._cache: dict[str, Any] = {}
        self._child = [0.0]
        self._frames: list[set[str]] = []
        self._deps: dict[str, set[str]] = {}

    # -------------------------------------------------------------- pass bookkeeping
    def _use(self, key: str) -> None:
        # A score reading a cached derived value also used everything that value was built
        # from (e.g. js reads the shared eigen-statistics, which read the forward pass).
        self.consumers[key].add(self.current)
        if self._frames:
            self._frames[-1].add(key)
        for dep in self._deps.get(key, ()):
            if self.current not in self.consumers[dep]:
                self._use(dep)

    def _record(self, key: str, seconds: float) -> None:
        self.pass_seconds[key] = self.pass_seconds.get(key, 0.0) + seconds

    def shared(self, key: str, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` once under ``key``; later calls return the cached value.

        The time recorded for ``key`` excludes nested shared passes, so that every second
        is counted once.
        """
        self._use(key)
        if key in self._cache:
            return self._cache[key]
        self._child.append(0.0)
        self._frames.append(set())
        t0 = time.perf_counter()
        try:
            value = fn()
        finally:
            dt = time.perf_counter() - t0
            nested = self._child.pop()
            self._child[-1] += dt
            self._deps[key] = self._frames.pop() - {key}
        self._record(key, dt - nested)
        self._cache[key] = value
        return value

    def _layout(self, x: torch.Tensor) -> torch.Tensor:
        # channels_last speeds up the fused passes on CPU (avg-pool above all). On CUDA its
        # float32 kernels lost precision (H100, TF32 off: snip 3.7e-2, jacob_cov 1.5e-3
        # relative to float64, NCHW 4e-5 and 8e-7), so CUDA stays NCHW.
        if self.fused and x.dim() == 4 and self.device.type == "cpu":
            return x.contiguous(memory_format=torch.channels_last)
        return x

    # ----------------------------------------------------------------- the network
    def network(self) -> nn.Module:
        """The initialised network (built once per context)."""
        return self.shared(
            "net",
            lambda: build_initialised_network(self.space, self.arch, self.dataset, self.protocol),
        )

    def labels(self) -> torch.Tensor:
        if self.y is None:
            raise ValueError("this score needs labels, but the batch has none")
        return self.y

    # ---------------------------------------------------- the shared first-order pass
    def _main(self) -> dict[str, Any]:
        return self.shared("main", self._run_main)

    def _run_main(self) -> dict[str, Any]:
        net = self.network()
        req = self.requires
        need_j = "J0" in req
        need_ce = "ce" in req or "fisher" in req
        graph = need_j or need_ce
        result: dict[str, Any] = {}
        handles = []
        hook_time = [0.0]
        if "codes" in req:
            k = torch.zeros(
                self.x.shape[0], self.x.shape[0], dtype=torch.float64, device=self.device
            )
            units = [0]
            # Several ReLUs read the same tensor (a cell node feeds up to three ops): their
            # kernels are equal, so each distinct input is coded once. The entries hold the
            # tensors, so no address can be reused while the forward runs.
            seen: dict[tuple, tuple[torch.Tensor, torch.Tensor]] = {}

            def code_hook(module: nn.Module, inputs: tuple[torch.Tensor, ...]) -> None:
                t0 = time.perf_counter()
                inp = inputs[0].detach()
                key = (inp.data_ptr(), tuple(inp.shape), inp.stride())
                if key not in seen:
                    flat = inp
                    if flat.dim() == 4 and flat.is_contiguous(memory_format=torch.channels_last):
                        flat = flat.permute(0, 2, 3, 1)  # a view: dot products ignore order
                    c = (flat > 0).reshape(flat.shape[0], -1).to(torch.float32)
                    # K_l = c cᵀ + (1-c)(1-c)ᵀ = N_l - a_i - a_j + 2 c cᵀ, a = row sums; the
                    # float32 products of 0/1 codes are exact integers (< 2^24 per layer).
                    a = c.sum(1, dtype=torch.float64)
                    cc = (c @ c.T).to(torch.float64)
                    seen[key] = (inp, 2.0 * cc - a[:, None] - a[None, :] + c.shape[1])
                k.add_(seen[key][1])
                units[0] += inp[0].numel()
                hook_time[0] += time.perf_counter() - t0

            for m in net.modules():
                if isinstance(m, nn.ReLU):
                    handles.append(m.register_forward_pre_hook(code_hook))
            result["codes"] = (k, units)
            handles.append(_Clear(seen))
        if "pool" in req:
            pools: list[torch.Tensor] = []
            for m in net.modules():
                if isinstance(m, POOLING):
                    handles.append(
                        m.register_forward_pre_hook(
                            lambda _m, inp, _p=pools: _p.append(inp[0].detach())
                        )
                    )
            result["pool"] = pools
        acts: list[torch.Tensor] = []
        if "fisher" in req:
            for m in weight_layers(net):
                handles.append(m.register_forward_hook(lambda _m, _i, out, _a=acts: _a.append(out)))
        x = self._layout(self.x).detach().requires_grad_(need_j)
        try:
            t0 = time.perf_counter()
            with torch.enable_grad() if graph else torch.inference_mode():
                out = net(x)
            fwd = time.perf_counter() - t0
        finally:
            for h in handles:
                h.remove()
        self._record("forward", fwd - hook_time[0])
        self._record("codes", hook_time[0])
        parts = fwd
        if need_j:
            t0 = time.perf_counter()
            (gx,) = torch.autograd.grad(out.sum(), x, retain_graph=need_ce)
            result["J0"] = gx.detach().contiguous()
            dt = time.perf_counter() - t0
            self._record("jacobian:0", dt)
            parts += dt
        if need_ce:
            t0 = time.perf_counter()
            loss = F.cross_entropy(out, self.labels())
            params = [p for _, p in net.named_parameters()]
            with torch.enable_grad():
                grads = torch.autograd.grad(loss, params + acts, allow_unused=True)
            names = [n for n, _ in net.named_parameters()]
            result["ce"] = {
                n: (torch.zeros_like(p) if g is None else g.detach())
                for n, p, g in zip(names, params, grads[: len(params)], strict=True)
            }
            dt = time.perf_counter() - t0
            self._record("ce_backward", dt)
            parts += dt
            if acts:
                # Reduced here, so that no layer output outlives the pass (memory at batch 256).
                t0 = time.perf_counter()
                result["fisher"] = [
                    fisher_term(a.detach(), None if g is None else g.detach())
                    for a, g in zip(acts, grads[len(params) :], strict=True)
                ]
                acts.clear()
                dt = time.perf_counter() - t0
                self._record("fisher_terms", dt)
                parts += dt
        # The parts are recorded as passes of their own (each with its own consumers); "main"
        # itself keeps only the bookkeeping around them.
        self._child[-1] += parts
        return result

    def _main_part(self, part: str, passes: Iterable[str]) -> Any:
        if part not in self.requires:
            raise RuntimeError(f"score {self.current!r} did not declare that it requires {part!r}")
        res = self._main()
        for p in passes:
            self._use(p)
        return res

    def naswot_kernel(self) -> tuple[torch.Tensor, int]:
        """K = Σ_layers c cᵀ + (1-c)(1-c)ᵀ over the binary codes of every ReLU's input, and N_A."""
        k, units = self._main_part("codes", ("net", "forward", "codes"))["codes"]
        return k, units[0]

    def pool_features(self) -> list[torch.Tensor]:
        """Inputs of every pooling module on the clean batch, in call order."""
        return self._main_part("pool", ("net", "forward"))["pool"]

    def jacobian(self, level: float = 0.0) -> torch.Tensor:
        """∂(Σ logits)/∂x for the clean batch (level 0) or ``x + level·var(x)·ε``."""
        if level == 0:
            return self._main_part("J0", ("net", "forward", "jacobian:0"))["J0"]
        self.network()
        return self.shared(f"jacobian:{level:g}", lambda: self._noisy_jacobian(level))

    def _noisy_jacobian(self, level: float) -> torch.Tensor:
        net = self.network()
        eps = randn_like_seeded(self.x, self.protocol.seed, "js-noise")
        noisy = self.x + level * self.x.var() * eps
        x = self._layout(noisy).detach().requires_grad_(True)
        with torch.enable_grad():
            out = net(x)
            (gx,) = torch.autograd.grad(out.sum(), x)
        return gx.detach().contiguous()

    def ce_grads(self) -> dict[str, torch.Tensor]:
        """∂(mean cross-entropy)/∂θ for every parameter (named_parameters order; unused → 0)."""
        self.labels()
        return self._main_part("ce", ("net", "forward", "ce_backward"))["ce"]

    def fisher_terms(self) -> list[float]:
        """Per Conv2d/Linear layer: Σ_channels 0.5·mean_batch(Σ_spatial a⊙∂L/∂a)²."""
        self.labels()
        parts = ("net", "forward", "ce_backward", "fisher_terms")
        return self._main_part("fisher", parts)["fisher"]

    # ------------------------------------------------------------ independent passes
    def noisy_pool_features(self) -> list[torch.Tensor]:
        """Inputs of every pooling module for ``x + z``, z ~ N(0, 1) (noise immunity)."""
        return self.shared("noisy_forward", self._run_noisy_pool)

    def _run_noisy_pool(self) -> list[torch.Tensor]:
        net = self.network()
        z = randn_like_seeded(self.x, self.protocol.seed, "ni-noise")
        pools: list[torch.Tensor] = []
        handles = [
            m.register_forward_pre_hook(lambda _m, inp: pools.append(inp[0].detach()))
            for m in net.modules()
            if isinstance(m, POOLING)
        ]
        try:
            with torch.inference_mode():
                net(self._layout(self.x + z))
        finally:
            for h in handles:
                h.remove()
        return pools

    def grasp_curvature(self) -> float:
        """θᵀHg summed over every Conv2d/Linear weight θ, g = ∂L/∂θ and H the Hessian of the
        mean cross-entropy L in those weights (GraSP = −θᵀHg).

        Fused: g from the shared cross-entropy backward, θᵀHg as the mixed second directional
        derivative along θ and g (forward-over-forward). Standalone: the
        reference's two passes, first-order g then a create_graph backward and a double
        backward for H g.
        """
        if self.fused:
            grads = self.ce_grads()
            return self.shared("grasp", lambda: self._run_grasp_forward_mode(grads))
        return self.shared("grasp", self._run_grasp)

    def _run_grasp_forward_mode(self, grads: dict[str, torch.Tensor]) -> float:
        net = self.network()
        params = dict(net.named_parameters())
        keys = weight_names(net)
        theta = {k: params[k].detach() for k in keys}
        g = {k: grads[k] for k in keys}
        y = self.labels()
        return mixed_second_derivative(
            net, lambda out: F.cross_entropy(out, y), self._layout(self.x), theta, g
        )

    def _run_grasp(self) -> float:
        net = self.network()
        y = self.labels()
        weights = [m.weight for m in weight_layers(net)]
        with torch.enable_grad():
            # The reference's two passes: first-order gradients, then a fresh forward with
            # create_graph for the Hessian-gradient product.
            fixed = torch.autograd.grad(
                F.cross_entropy(net(self.x), y), weights, allow_unused=True
            )
            g = torch.autograd.grad(
                F.cross_entropy(net(self.x), y), weights, create_graph=True, allow_unused=True
            )
            terms = [
                (f.detach() * gi).sum()
                for f, gi in zip(fixed, g, strict=True)
                if f is not None and gi is not None and gi.requires_grad
            ]
            if not terms:
                return 0.0
            hg = torch.autograd.grad(sum(terms), weights, allow_unused=True)
        return float(
            sum(
                (w.detach() * h).sum().to(torch.float64)
                for w, h in zip(weights, hg, strict=True)
                if h is not None
            )
        )

    def synflow_layers(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """(|θ|, ∂R/∂θ) in float64 for every Conv2d/Linear weight, R = Σ net(1) with |θ| and
        BatchNorm bypassed. The network's own weights are never modified."""
        return self.shared("synflow", self._run_synflow)

    def _run_synflow(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        net = self.network()
        # Substituted float64 |θ| tensors (functional_call) leave the network untouched, which
        # is the reference's "abs, then restore signs" without the round trip.
        params = {
            n: p.detach().to(torch.float64).abs().requires_grad_(True)
            for n, p in net.named_parameters()
        }
        buffers = {
            n: b.detach().to(torch.float64) if b.is_floating_point() else b.clone()
            for n, b in net.named_buffers()
        }
        keys = weight_names(net)
        ones = torch.ones((1, *self.x.shape[1:]), dtype=torch.float64, device=self.device)
        with torch.enable_grad(), bypass_batchnorm(net):
            out = functional_call(net, {**params, **buffers}, (ones,))
            grads = torch.autograd.grad(out.sum(), [params[k] for k in keys], allow_unused=True)
        return [
            (params[k].detach(), torch.zeros_like(params[k]) if g is None else g.detach())
            for k, g in zip(keys, grads, strict=True)
        ]

    def ntk_eigenvalues(self) -> torch.Tensor:
        """Eigenvalues (ascending, float64) of the empirical NTK G Gᵀ on the first
        ``ntk_batch_size`` images; G = per-sample ∂(Σ logits)/∂(all ``weight`` tensors)."""
        return self.shared("ntk", self._run_ntk)

    def _run_ntk(self) -> torch.Tensor:
        net = self.network()
        n = min(self.protocol.ntk_batch_size, self.x.shape[0])
        weights = [p for name, p in net.named_parameters() if name.endswith("weight")]
        with torch.enable_grad():
            out = net(self.x[:n])
            # Row i of the batched cotangent selects sample i's logits: one vmapped backward
            # gives every per-sample gradient (batch statistics couple samples in train-mode
            # BN exactly as in the per-sample loop of the reference).
            eye = torch.eye(n, dtype=out.dtype, device=out.device)
            cot = eye[:, :, None].expand(n, n, out.shape[1])
            grads = torch.autograd.grad(
                out, weights, grad_outputs=cot, is_grads_batched=True, allow_unused=True
            )
        g = torch.cat(
            [gi.reshape(n, -1).to(torch.float64) for gi in grads if gi is not None], dim=1
        )
        return torch.linalg.eigvalsh(g @ g.T)

    def zen_parts(self) -> tuple[float, float]:
        """(log E‖f(x) − f(x + 0.01ε)‖₁, Σ_BN log √mean(running_var)) of the Zen score."""
        return self.shared("zen", self._run_zen)

    def _run_zen(self) -> tuple[float, float]:
        net = copy.deepcopy(self.network())
        gen = torch.Generator().manual_seed(derived_seed(self.protocol.seed, "zen-init"))
        with torch.no_grad():
            for m in net.modules():
                if isinstance(m, (nn.Conv2d, nn.Linear)):
                    w = torch.randn(m.weight.shape, generator=gen, dtype=torch.float64)
                    m.weight.copy_(w)
                    if m.bias is not None:
                        m.bias.zero_()
                elif isinstance(m, BN_TYPES):
                    if m.affine:
                        m.weight.fill_(1.0)
                        m.bias.zero_()
                    m.reset_running_stats()
        # Zen is defined with batch statistics (its BN term reads the running variance the
        # two forwards leave behind), so it always runs in train mode.
        net.train()
        x1 = randn_like_seeded(self.x, self.protocol.seed, "zen-x")
        x2 = randn_like_seeded(self.x, self.protocol.seed, "zen-x2")
        gap = [m for m in net.modules() if isinstance(m, nn.AdaptiveAvgPool2d)][-1]
        feats: list[torch.Tensor] = []
        h = gap.register_forward_pre_hook(lambda _m, inp: feats.append(inp[0].detach()))
        try:
            with torch.no_grad():
                net(x1)
                net(x1 + 0.01 * x2)
        finally:
            h.remove()
        diff = (feats[0] - feats[1]).abs().to(torch.float64).sum(dim=(1, 2, 3)).mean()
        log_bn = 0.0
        for m in net.modules():
            if isinstance(m, BN_TYPES):
                log_bn += math.log(math.sqrt(float(m.running_var.to(torch.float64).mean())))
        return float(torch.log(diff)), log_bn

    # ------------------------------------------------------------------ timing
    def seconds_of(self, name: str, own: float) -> float:
        """Own work plus an equal share of every shared pass the score used."""
        total = own
        for key, users in self.consumers.items():
            if name in users:
                total += self.pass_seconds.get(key, 0.0) / len(users)
        return total


def _run_score(ctx: ArchContext, name: str) -> tuple[float, dict[str, Any], float, str | None]:
    spec = get_spec(name)
    ctx.current = name
    ctx._child = [0.0]
    t0 = time.perf_counter()
    error = None
    try:
        value, extra = spec.compute(ctx)
        value = float(value)
    except Exception as err:  # noqa: BLE001 - every failure becomes a reported status
        value, extra = math.nan, {"error": f"{type(err).__name__}: {err}"}
        error = traceback.format_exc(limit=3)
    own = time.perf_counter() - t0 - ctx._child[0]
    ctx.current = None
    return value, extra, own, error


def score_architecture(
    space: str,
    arch: str,
    dataset: str,
    batch: tuple[torch.Tensor, torch.Tensor | None],
    names: Sequence[str],
    protocol: Protocol,
    mode: str = "fused",
) -> list[ScoreResult]:
    """Compute the scores ``names`` of one architecture on one batch.

    ``batch`` is ``(x, y)`` as :func:`zeroshot_nas.data.images.draw_batch` returns it (``y``
    may be None when no requested score needs labels). Every name yields one
    :class:`ScoreResult`; failures come back with status ``error``, never as exceptions.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    names = list(names)
    for name in names:
        get_spec(name)
    with exact_cuda_numerics(resolve_device(protocol.device)):
        if mode == "fused":
            ctx = ArchContext(space, arch, dataset, batch, names, protocol, fused=True)
            raw = [(name, *_run_score(ctx, name)) for name in names]
            return [
                ScoreResult(name, value, _status(value, extra), ctx.seconds_of(name, own), extra)
                for name, value, extra, own, _ in raw
            ]
        results: list[ScoreResult] = []
        for name in names:
            t0 = time.perf_counter()
            ctx = ArchContext(space, arch, dataset, batch, [name], protocol, fused=False)
            value, extra, _, _ = _run_score(ctx, name)
            seconds = time.perf_counter() - t0
            results.append(ScoreResult(name, value, _status(value, extra), seconds, extra))
            del ctx
        return results


def _status(value: float, extra: dict[str, Any]) -> str:
    return "error" if "error" in extra else status_of(value)
