"""Precision of float32 scores against float64 on the same weights and batch.

For a seeded sample of real NB201 architectures (``np.sort(default_rng(2024).choice(15625,
20))``, plus the worst cases named with ``--extra``), CIFAR-10 images, batch 64, seed 0:
every score in float64 (the reference), in float32 fused and in float32 standalone; the relative error of each float32 value, per score median and maximum. In
the same run it times the fused seven zero-cost-nas scores and the cheap set.

Usage: ``python benchmarks/fused_precision.py [--images data/images/cifar10.npz]
[--archs 20] [--extra 2824] [--threads 2] [--out FILE.json]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from zeroshot_nas import spaces
from zeroshot_nas.data.images import draw_batch
from zeroshot_nas.proxies import REGISTRY, Protocol, score_architecture

REPO = Path(__file__).resolve().parents[1]
SEVEN = ["grad_norm", "snip", "grasp", "fisher", "jacob_cov", "synflow", "naswot"]
# Scores served by the shared first-order pass and the synflow pass alone.
CHEAP = ["naswot", "ni", "jacob_cov", "js", "jsc", "snip", "grad_norm", "plain", "fisher",
         "pjs", "pjsc", "wpjs", "wpjsi", "synflow", "logsynflow", "ssnr", "ssnr_layerwise"]
# Exact integers or float64 by construction: not a float32 question.
SKIP = {"params", "flops"}


def relative(a: float, b: float) -> float:
    if not (np.isfinite(a) and np.isfinite(b)):
        return 0.0 if (np.isnan(a) and np.isnan(b)) or a == b else float("inf")
    return abs(a - b) / max(abs(b), 1e-300)


def values(arch, batch, names, protocol, mode):
    return {r.score: r.value for r in score_architecture(
        "nb201", arch, "cifar10", batch, names, protocol, mode)}


def timed(arch, batch, names) -> float:
    t0 = time.perf_counter()
    score_architecture("nb201", arch, "cifar10", batch, names, Protocol())
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=Path, default=REPO / "data" / "images" / "cifar10.npz")
    parser.add_argument("--archs", type=int, default=20)
    parser.add_argument("--extra", type=int, nargs="*", default=[2824])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--modes", nargs="+", default=["fused", "standalone"],
                        choices=["fused", "standalone"], help="float32 modes to compare")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    x, y = draw_batch(args.images, "cifar10", 64, 0, labelled=True)
    batch = (torch.as_tensor(x), torch.as_tensor(y))
    sample = np.sort(np.random.default_rng(2024).choice(15625, args.archs, replace=False))
    indices = [*map(int, sample), *args.extra]
    archs = spaces.all_archs("nb201")
    names = [n for n in REGISTRY if n not in SKIP]
    errors = {mode: {n: [] for n in names} for mode in args.modes}
    times = {"seven": [], "cheap": []}
    for i in indices:
        arch = archs[i]
        # Fused float64 equals standalone float64 to 1e-9 (tests/test_proxies_engine.py) and
        # costs a third of it.
        ref = values(arch, batch, names, Protocol(dtype="float64"), "fused")
        for mode in errors:
            got = values(arch, batch, names, Protocol(), mode)
            for n in names:
                errors[mode][n].append(relative(got[n], ref[n]))
        times["seven"].append(timed(arch, batch, SEVEN))
        times["cheap"].append(timed(arch, batch, CHEAP))
        print(f"arch {i} done", flush=True)
    report = {
        "archs": indices,
        "errors": {mode: {n: {"median": statistics.median(v), "max": max(v),
                              "worst_arch": indices[int(np.argmax(v))]}
                          for n, v in per.items()} for mode, per in errors.items()},
        "seconds_per_arch": {k: statistics.median(v) for k, v in times.items()},
    }
    print(f"{'score':15s}" + "".join(f" {m + ' median':>17s} {m + ' max':>14s}" for m in args.modes))
    for n in names:
        cells = [report["errors"][m][n] for m in args.modes]
        print(f"{n:15s}" + "".join(f" {c['median']:17.2e} {c['max']:14.2e}" for c in cells)
              + f"  (worst: arch {cells[0]['worst_arch']})")
    print("median fused seconds per arch:", report["seconds_per_arch"])
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
