"""The per-architecture context: one network, one batch, lazily computed shared passes.

Score functions ask an :class:`ArchContext` for what they need; :meth:`ArchContext.shared`
runs a pass the first time it is asked for and caches it. The one pass several families
read — the *first-order pass* — lives here: a forward with the hooks that NASWOT (ReLU
codes), NI (pooling inputs) and Fisher (layer outputs) need, then, from the same graph, the
input-gradient backward (Jacobian family) and the cross-entropy backward (gradient and
parameter families). It is planned once from the ``parts`` the requested scores declare,
which the runner passes in. Passes used by one family only live in that family's module and
go through :meth:`shared` like any other.

``fused`` contexts serve every requested score (channels_last on CPU for NI's forward-only
noisy pass); ``standalone`` contexts serve one score with its own passes, NCHW, as the
reference implementations run them. Each pass runs the same way whatever scores share it,
so a score's value does not depend on which others were requested with it.

Timing: a score's seconds are its own work plus, for every shared pass it used, that pass's
time divided by the number of scores that used it. Pass times are exclusive (a nested pass
is not counted twice), so the seconds of all scores add up to the context's total time.
"""

from __future__ import annotations

import contextlib
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .network import POOLING, build_initialised_network, weight_layers
from .numerics import resolve_device
from .protocol import Protocol


def channel_gradient(act: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
    """g_nk = Σ_spatial a⊙∂L/∂a of one layer output (float64, batch × channels): the
    derivative of the loss by a mask on output channel k of sample n (zero-cost-nas)."""
    prod = (act * grad).to(torch.float64)
    return prod.sum(dim=tuple(range(2, prod.dim()))) if prod.dim() > 2 else prod


def fisher_terms_of_calls(calls: list[tuple[int, torch.Tensor | None]],
                          n_layers: int) -> list[float]:
    """Σ_k 0.5·mean_n(g_nk²) of every layer, in :func:`weight_layers` order, from its calls
    ``(layer index, g_nk of the call (:func:`channel_gradient`) or None)`` in call order; a
    layer that was never called (or whose output does not reach the loss) gives 0.

    Each output is paired with the module that produced it: forward hooks fire in call
    order, which is not registration order (a ResNet block calls its downsample first and
    registers it last). A module called more than once has one mask per channel shared by
    its calls, so its g_nk is the sum over calls before squaring; the references keep one
    activation per module and cannot score such a network.
    """
    g: list[torch.Tensor | None] = [None] * n_layers
    for layer, term in calls:
        if term is not None:
            g[layer] = term if g[layer] is None else g[layer] + term
    return [0.0 if g_nk is None else float(0.5 * g_nk.pow(2).mean(0).sum()) for g_nk in g]


class FisherCalls:
    """Σ_spatial a⊙∂L/∂a of every Conv2d/Linear call (:func:`channel_gradient`), reduced as
    the cross-entropy backward reaches each output, so that the outputs' gradients are never
    held all at once (at batch 256 they are as large as the forward's activations).

    ``hook(index)`` is the forward hook of layer ``index`` of :func:`weight_layers`; the
    tensor hooks it leaves on the outputs reduce only while ``collecting`` (other backward
    passes through the same graph, the input gradient's, pass by). :meth:`terms` gives
    :func:`fisher_terms_of_calls`'s value, calls combined in call order as there."""

    def __init__(self) -> None:
        self.layers: list[int] = []
        self.outputs: list[torch.Tensor | None] = []
        self.reduced: list[torch.Tensor | None] = []
        self.collecting = False
        self.seconds = 0.0
        self._handles: list[Any] = []

    def hook(self, index: int) -> Callable[..., None]:
        def forward_hook(_module: nn.Module, _inputs: tuple, out: torch.Tensor) -> None:
            call = len(self.layers)
            self.layers.append(index)
            self.reduced.append(None)
            self.outputs.append(out if out.requires_grad else None)
            if out.requires_grad:
                self._handles.append(out.register_hook(lambda g, _c=call: self._reduce(_c, g)))
        return forward_hook

    def _reduce(self, call: int, grad: torch.Tensor) -> None:
        act = self.outputs[call] if self.collecting else None
        if act is None:
            return
        t0 = time.perf_counter()
        self.reduced[call] = channel_gradient(act.detach(), grad.detach())
        self.outputs[call] = None  # no longer needed: the graph keeps what backward needs
        self.seconds += time.perf_counter() - t0

    def terms(self, n_layers: int) -> list[float]:
        """:func:`fisher_terms_of_calls` of the reduced calls. The tensor hooks are removed
        (GraSP's double backward runs through the same graph) and the outputs released (they
        and the hooks would otherwise form a cycle)."""
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
        self.outputs.clear()
        return fisher_terms_of_calls(list(zip(self.layers, self.reduced, strict=True)), n_layers)


DOUBLE_BACKWARD = "double_backward"
FORWARD_OVER_FORWARD = "forward_over_forward"
# Peak memory of the fused engine when the cross-entropy backward keeps its graph for GraSP's
# double backward, as a function of S, the bytes the first-order forward saves for backward
# (measured below, docs/proxies.md "GraSP's Hessian product and memory"): the process and
# the batch take a base, the retained forward and create_graph backward graphs and the
# double backward add a multiple of S. Forward-over-forward adds nothing to the first-order
# pass's own peak.
SECOND_ORDER_BASE_MB = 600
DOUBLE_BACKWARD_PER_SAVED = 3.2


def second_order_plan(saved_bytes: int, mem_mb: int) -> dict[str, Any]:
    """How the fused engine takes GraSP's Hessian product: the double backward (faster on
    CPU) when its estimated peak fits ``mem_mb``, else forward-over-forward AD."""
    saved_mb = saved_bytes / 2**20
    peak = SECOND_ORDER_BASE_MB + DOUBLE_BACKWARD_PER_SAVED * saved_mb
    method = DOUBLE_BACKWARD if peak <= mem_mb else FORWARD_OVER_FORWARD
    return {"method": method, "saved_mb": round(saved_mb, 1),
            "double_backward_peak_mb": round(peak), "mem_mb": mem_mb}


class SavedBytes(torch.autograd.graph.saved_tensors_hooks):
    """Counts the bytes of every distinct storage autograd saves for backward while active."""

    def __init__(self) -> None:
        self.bytes = 0
        self._seen: set[int] = set()
        super().__init__(self._pack, lambda t: t)

    def __enter__(self) -> SavedBytes:
        super().__enter__()
        return self

    def _pack(self, t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        if storage.data_ptr() not in self._seen:
            self._seen.add(storage.data_ptr())
            self.bytes += storage.nbytes()
        return t


class _Clear:
    """A handle-like object that empties a dict when the hooks are removed."""

    def __init__(self, d: dict) -> None:
        self.d = d

    def remove(self) -> None:
        self.d.clear()


class ArchContext:
    """One architecture, one batch, one protocol: lazily computed, cached shared passes."""

    def __init__(
        self,
        space: str,
        arch: str,
        dataset: str,
        batch: tuple[torch.Tensor, torch.Tensor | None],
        parts: Iterable[str],
        protocol: Protocol,
        fused: bool = True,
        network: nn.Module | None = None,
    ) -> None:
        self.space, self.arch, self.dataset = space, arch, dataset
        # A network given by the caller (a hand-built one in a test, a user's own model)
        # replaces the space's seeded build.
        self._given_network = network
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
        self.requires: set[str] = set(parts)
        if self.y is None:
            self.requires -= {"ce", "fisher", "ce_graph"}
        self.current: str | None = None
        self.consumers: dict[str, set[str | None]] = defaultdict(set)
        self.pass_seconds: dict[str, float] = {}
        self._cache: dict[str, Any] = {}
        self.child_seconds = [0.0]
        self._frames: list[set[str]] = []
        self._deps: dict[str, set[str]] = {}
        # Scores not yet run on this context (set by the runner; None: not known, nothing is
        # released), the scores that read each value shared with ``readers``, and the values
        # dropped once those had run.
        self.pending: set[str] | None = None
        self._readers: dict[str, frozenset[str]] = {}
        self._released: set[str] = set()

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

    def shared(self, key: str, fn: Callable[[], Any],
               readers: Iterable[str] | None = None) -> Any:
        """Run ``fn`` once under ``key``; later calls return the cached value.

        The time recorded for ``key`` excludes nested shared passes, so that every second
        is counted once. ``readers``, when given, are the only scores that read the value
        (directly or through another shared value): it is dropped as soon as every one of
        them in this context has run (:meth:`finished`), so that a large value (a forward
        graph) does not stay in memory through the other scores' passes. (Its pages stay in
        the C heap for the next passes to reuse: handing them back to the system, glibc's
        ``malloc_trim``, lowered the batch-256 peak by 1% and cost 6-8% of the suite's time
        at batch 64, the next passes faulting the pages in again.)
        """
        if key in self._released:
            raise RuntimeError(f"shared value {key!r} was released after its readers "
                               f"{sorted(self._readers[key])} ran, and {self.current!r} reads "
                               "it too: name it among the readers")
        if readers is not None:
            self._readers[key] = frozenset(readers)
        self._use(key)
        if key in self._cache:
            return self._cache[key]
        self.child_seconds.append(0.0)
        self._frames.append(set())
        t0 = time.perf_counter()
        try:
            value = fn()
        finally:
            dt = time.perf_counter() - t0
            nested = self.child_seconds.pop()
            self.child_seconds[-1] += dt
            self._deps[key] = self._frames.pop() - {key}
        self._record(key, dt - nested)
        self._cache[key] = value
        return value

    def holds(self, key: str) -> bool:
        """Whether the shared value ``key`` is in memory (computed and not yet released)."""
        return key in self._cache

    def finished(self, name: str) -> None:
        """Score ``name`` has run: drop every shared value whose readers have all run."""
        if self.pending is None:
            return
        self.pending.discard(name)
        done = [key for key, readers in self._readers.items()
                if key in self._cache and not readers & self.pending]
        for key in done:
            del self._cache[key]
            self._released.add(key)

    def layout(self, x: torch.Tensor, gradients: bool) -> torch.Tensor:
        """The memory layout of a fused pass's input: channels_last on CPU for passes that
        never compute a gradient (``gradients=False``: NI's noisy forward), NCHW for every
        pass that may (the first-order pass, whatever its users, and GraSP's), unless the
        protocol's ``gradient_layout`` asks for channels_last: faster, less exact. A pass has
        one layout whatever scores share it, so a value never depends on its company.

        channels_last speeds up CPU forwards, but its float32 convolution and BatchNorm
        backward kernels lose precision: against float64 on 21 NB201 networks, fused
        grad_norm, snip and jacob_cov erred up to 7e-4, 8e-4 and 2e-3 with channels_last and
        6e-5, 5e-5 and 4e-5 with NCHW (``benchmarks/fused_precision.py``). On CUDA
        channels_last lost precision in forward and backward alike (H100, TF32 off: snip
        3.7e-2, jacob_cov 1.5e-3; NCHW 4e-5 and 8e-7), so CUDA stays NCHW. The CPU hotspot
        channels_last was for, average pooling, runs channels_last inside the network's
        pooling op (``spaces.cells.AvgPool3x3``).
        """
        fast = not gradients or self.protocol.gradient_layout == "channels_last"
        if self.fused and fast and x.dim() == 4 and self.device.type == "cpu":
            return x.contiguous(memory_format=torch.channels_last)
        return x

    def seconds_of(self, name: str, own: float) -> float:
        """Own work plus an equal share of every shared pass the score used."""
        total = own
        for key, users in self.consumers.items():
            if name in users:
                total += self.pass_seconds.get(key, 0.0) / len(users)
        return total

    # ----------------------------------------------------------------- the network
    def network(self) -> nn.Module:
        """The initialised network (built once per context)."""
        if self._given_network is not None:
            return self.shared("net", lambda: self._given_network)
        return self.shared(
            "net",
            lambda: build_initialised_network(self.space, self.arch, self.dataset, self.protocol),
        )

    def labels(self) -> torch.Tensor:
        if self.y is None:
            raise ValueError("this score needs labels, but the batch has none")
        return self.y

    # ---------------------------------------------------- the shared first-order pass
    def naswot_kernel(self) -> tuple[torch.Tensor, int]:
        """K = Σ_layers c cᵀ + (1-c)(1-c)ᵀ over the binary codes of every ReLU's input, and N_A."""
        k, units = self._main_part("codes", ("net", "forward", "codes"))["codes"]
        return k, units[0]

    def pool_features(self) -> list[torch.Tensor]:
        """Inputs of every pooling module on the clean batch, in call order."""
        return self._main_part("pool", ("net", "forward"))["pool"]

    def input_jacobian(self) -> torch.Tensor:
        """∂(Σ logits)/∂x of the clean batch."""
        return self._main_part("J0", ("net", "forward", "jacobian:0"))["J0"]

    def ce_grads(self) -> dict[str, torch.Tensor]:
        """∂(mean cross-entropy)/∂θ for every parameter (named_parameters order; unused → 0)."""
        self.labels()
        return self._main_part("ce", ("net", "forward", "ce_backward"))["ce"]

    def ce_graph(self) -> tuple[dict[str, torch.Tensor] | None, dict[str, Any]]:
        """∂L/∂θ (named_parameters names; unused parameters left out) still attached to the
        graph of their computation, for one second-order product, and how the engine decided.

        The graph is kept only when the estimated peak of a double backward fits the run's
        ``mem_mb`` (:func:`second_order_plan`); otherwise, or once it was handed out (it is
        released with it), the tensors are None.
        """
        self.labels()
        res = self._main_part("ce_graph", ("net", "forward", "ce_backward"))
        return res.pop("ce_graph", None), res["second_order"]

    def fisher_terms(self) -> list[float]:
        """Per Conv2d/Linear layer (``weight_layers`` order): Σ_channels
        0.5·mean_batch(Σ_spatial a⊙∂L/∂a)² (see :func:`fisher_terms_of_calls`)."""
        self.labels()
        parts = ("net", "forward", "ce_backward", "fisher_terms")
        return self._main_part("fisher", parts)["fisher"]

    def _main_part(self, part: str, passes: Iterable[str]) -> Any:
        if part not in self.requires:
            raise RuntimeError(f"score {self.current!r} did not declare that it requires {part!r}")
        res = self.shared("main", self._run_main)
        for p in passes:
            self._use(p)
        return res

    def _run_main(self) -> dict[str, Any]:
        net = self.network()
        req = self.requires
        need_j = "J0" in req
        need_ce = "ce" in req or "fisher" in req
        result: dict[str, Any] = {}
        handles: list[Any] = []
        hook_time = [0.0]
        if "codes" in req:
            result["codes"] = self._hook_codes(net, handles, hook_time)
        if "pool" in req:
            result["pool"] = self._hook_pools(net, handles)
        fisher = FisherCalls() if "fisher" in req else None
        if fisher is not None:
            for index, m in enumerate(weight_layers(net)):
                handles.append(m.register_forward_hook(fisher.hook(index)))
        # Always the gradient passes' layout, whatever is requested of this pass: a value must
        # not depend on the scores that share it (naswot alone ran channels_last, naswot
        # beside a gradient score NCHW, and the two rounded differently).
        x = self.layout(self.x, gradients=True).detach().requires_grad_(need_j)
        saved = SavedBytes() if "ce_graph" in req else contextlib.nullcontext()
        try:
            t0 = time.perf_counter()
            with torch.enable_grad() if need_j or need_ce else torch.inference_mode(), saved:
                out = net(x)
            fwd = time.perf_counter() - t0
        finally:
            for h in handles:
                h.remove()
        if "ce_graph" in req:
            result["second_order"] = second_order_plan(saved.bytes, self.protocol.mem_mb)
        self._record("forward", fwd - hook_time[0])
        self._record("codes", hook_time[0])
        parts = fwd
        if need_j:
            parts += self._input_gradient(out, x, result, retain=need_ce)
        if need_ce:
            parts += self._ce_backward(net, out, fisher, result)
        # The parts are recorded as passes of their own (each with its own consumers); "main"
        # itself keeps only the bookkeeping around them.
        self.child_seconds[-1] += parts
        return result

    def _hook_codes(self, net: nn.Module, handles: list, hook_time: list[float]) -> tuple:
        k = torch.zeros(self.x.shape[0], self.x.shape[0], dtype=torch.float64, device=self.device)
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
        handles.append(_Clear(seen))
        return k, units

    @staticmethod
    def _hook_pools(net: nn.Module, handles: list) -> list[torch.Tensor]:
        pools: list[torch.Tensor] = []
        for m in net.modules():
            if isinstance(m, POOLING):
                handles.append(
                    m.register_forward_pre_hook(lambda _m, inp, _p=pools: _p.append(inp[0].detach()))
                )
        return pools

    def _input_gradient(self, out: torch.Tensor, x: torch.Tensor, result: dict, retain: bool) -> float:
        t0 = time.perf_counter()
        (gx,) = torch.autograd.grad(out.sum(), x, retain_graph=retain)
        result["J0"] = gx.detach().contiguous()
        dt = time.perf_counter() - t0
        self._record("jacobian:0", dt)
        return dt

    def _ce_backward(self, net: nn.Module, out: torch.Tensor, fisher: FisherCalls | None,
                     result: dict) -> float:
        t0 = time.perf_counter()
        loss = F.cross_entropy(out, self.labels())
        params = [p for _, p in net.named_parameters()]
        keep = result.get("second_order", {}).get("method") == DOUBLE_BACKWARD
        if fisher is not None:
            fisher.collecting = True
        try:
            with torch.enable_grad():
                grads = torch.autograd.grad(loss, params, allow_unused=True, create_graph=keep)
        finally:
            if fisher is not None:
                fisher.collecting = False
        names = [n for n, _ in net.named_parameters()]
        result["ce"] = {
            n: (torch.zeros_like(p) if g is None else g.detach())
            for n, p, g in zip(names, params, grads, strict=True)
        }
        if keep:
            result["ce_graph"] = {n: g for n, g in zip(names, grads, strict=True)
                                  if g is not None}
        if fisher is None:
            dt = time.perf_counter() - t0
            self._record("ce_backward", dt)
            return dt
        t1 = time.perf_counter()
        result["fisher"] = fisher.terms(len(weight_layers(net)))
        fisher_dt = fisher.seconds + time.perf_counter() - t1
        dt = t1 - t0 - fisher.seconds
        self._record("ce_backward", dt)
        self._record("fisher_terms", fisher_dt)
        return dt + fisher_dt
