"""GraSP's θᵀHg computed three exact ways: time at batch 64 and peak memory at batch 256.

Each method starts from nothing (network built): it includes whatever first-order pass it
needs, so the rows compare what a fused engine would pay for grasp on top of, or instead
of, its shared forward+backward (row ``first_order``).

* ``double_backward``: create_graph backward, then a backward of Σ g_fixed·g (the reference;
  the fused engine's method when its estimated peak fits the run's ``mem_mb``)
* ``forward_over_reverse``: weights as dual tensors with tangent θ; backward gives g and Hθ
* ``forward_over_forward``: first-order g, then nested jvp along θ and g (the fused engine's
  method where memory binds)

Usage: ``python benchmarks/grasp_methods.py [--archs 4] [--threads 2]``; the peak memory of
each method runs in its own process on the largest NB201 cell (``333333``) at batch 256.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.autograd.forward_ad as fwAD
import torch.nn.functional as F
from torch.func import functional_call

from zeroshot_nas import spaces
from zeroshot_nas.data.images import draw_batch
from zeroshot_nas.proxies import Protocol
from zeroshot_nas.proxies.gradient import mixed_second_derivative
from zeroshot_nas.proxies.network import build_initialised_network, weight_layers, weight_names

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("ZEROSHOT_NAS_SHARED_DATA", REPO.parent / "shared" / "data"))
NPZ = SHARED_DATA / "images" / "cifar10.npz"
METHODS = ("first_order", "double_backward", "forward_over_reverse", "forward_over_forward")


def method_functions(net: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> dict:
    weights = [m.weight for m in weight_layers(net)]
    params = list(net.parameters())
    keys = weight_names(net)
    x_cl = x.contiguous(memory_format=torch.channels_last)

    def first_order() -> float:
        torch.autograd.grad(F.cross_entropy(net(x_cl), y), params)
        return float("nan")

    def double_backward() -> float:
        grads = torch.autograd.grad(F.cross_entropy(net(x), y), params, create_graph=True)
        grad_of = {id(p): g for p, g in zip(params, grads, strict=True)}
        z = sum((grad_of[id(w)].detach() * grad_of[id(w)]).sum() for w in weights)
        hg = torch.autograd.grad(z, weights)
        return float(sum((w.detach() * h).sum() for w, h in zip(weights, hg, strict=True)))

    def forward_over_reverse() -> float:
        leaves = {n: p.detach().requires_grad_(True) for n, p in net.named_parameters()}
        with fwAD.dual_level():
            state = {
                n: fwAD.make_dual(p, p.detach()) if n in keys else p for n, p in leaves.items()
            }
            loss = F.cross_entropy(functional_call(net, state, (x,)), y)
            grads = torch.autograd.grad(loss, [leaves[k] for k in keys])
            return float(
                sum((fwAD.unpack_dual(g).primal * fwAD.unpack_dual(g).tangent).sum() for g in grads)
            )

    def forward_over_forward() -> float:
        grads = torch.autograd.grad(F.cross_entropy(net(x_cl), y), weights)
        g = dict(zip(keys, grads, strict=True))
        theta = {k: w.detach() for k, w in zip(keys, weights, strict=True)}
        return mixed_second_derivative(net, lambda out: F.cross_entropy(out, y), x_cl, theta, g)

    return {
        "first_order": first_order,
        "double_backward": double_backward,
        "forward_over_reverse": forward_over_reverse,
        "forward_over_forward": forward_over_forward,
    }


def batch_of(size: int) -> tuple[torch.Tensor, torch.Tensor]:
    x, y = draw_batch(NPZ, "cifar10", size, 0, labelled=True)
    return torch.as_tensor(x), torch.as_tensor(y)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--archs", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--peak-child", metavar="METHOD", help=argparse.SUPPRESS)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.peak_child:
        x, y = batch_of(256)
        net = build_initialised_network(
            "nb201", spaces.arch_from_id("nb201", "333333"), "cifar10", Protocol(batch_size=256)
        )
        method_functions(net, x, y)[args.peak_child]()
        print(
            json.dumps({"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})
        )
        return
    x, y = batch_of(64)
    every = spaces.all_archs("nb201")
    rng = np.random.default_rng(0)
    archs = [every[i] for i in rng.choice(len(every), args.archs, replace=False)]
    seconds: dict[str, list[float]] = {m: [] for m in METHODS}
    values: dict[str, list[float]] = {m: [] for m in METHODS}
    for arch in archs:
        net = build_initialised_network("nb201", arch, "cifar10", Protocol())
        for name, fn in method_functions(net, x, y).items():
            fn()  # warm-up: oneDNN builds kernels per shape on first use
            best = float("inf")
            for _ in range(2):
                t0 = time.perf_counter()
                value = fn()
                best = min(best, time.perf_counter() - t0)
            seconds[name].append(best)
            values[name].append(value)
    print(
        f"{len(archs)} archs, batch 64, {args.threads} threads; seconds per arch (median, best of 2)"
    )
    print("| method | seconds | peak RSS MB, batch 256, arch 333333 |\n|---|---|---|")
    for name in METHODS:
        child = subprocess.run(
            [sys.executable, __file__, "--threads", str(args.threads), "--peak-child", name],
            capture_output=True,
            text=True,
            check=True,
        )
        peak = json.loads(child.stdout.strip().splitlines()[-1])["peak_rss_mb"]
        print(f"| {name} | {statistics.median(seconds[name]):.3f} | {peak:.0f} |")
    print("\nθᵀHg per arch (float32):")
    for name in METHODS[1:]:
        print(f"  {name}: {[round(v, 5) for v in values[name]]}")


if __name__ == "__main__":
    main()
