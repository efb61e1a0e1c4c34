"""Seconds per NAS-Bench-101 architecture of every score, on this machine.

For a seeded sample of NB101 cells (``spaces.all_archs("nb101")``) plus the largest one (most
FLOPs), CIFAR-10 at the given batch size, it times every registered score standalone (its
own network build and passes: the reference way, exact per-score time) and the whole suite
fused (one context, shared passes: what a scoring job pays), and prints medians per
architecture. Times are CPU seconds of this process (with one thread, what the work costs
on one core even when other jobs share the machine) beside wall seconds. The measured costs size the ``nb101`` preset.

Usage: ``python benchmarks/nb101_cost.py --images data/images/cifar10.npz [--archs 3]
[--threads 1] [--batch-size 64] [--scores a,b] [--no-largest] [--out FILE.json]``. On a shared machine absolute times move;
say so with the numbers.
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
from zeroshot_nas.proxies import Protocol, resolve_names, score_architecture


def chosen_archs(n: int, seed: int, largest: bool = True) -> list[str]:
    archs = spaces.all_archs("nb101")
    rng = np.random.default_rng(seed)
    picked = [archs[i] for i in rng.choice(len(archs), size=n, replace=False)]
    biggest = max(archs, key=lambda a: spaces.flops_m("nb101", a, "cifar10"))
    return [*picked, biggest] if largest and biggest not in picked else picked


def _cpu_and_wall(fn):
    c0, w0 = time.process_time(), time.perf_counter()
    out = fn()
    return out, time.process_time() - c0, time.perf_counter() - w0


def time_arch(arch: str, batch, names: list[str], protocol: Protocol) -> dict:
    """Fused whole suite, then every score standalone; CPU seconds (this process, robust to
    a shared machine with one thread) and wall seconds."""
    fused, fused_cpu, fused_wall = _cpu_and_wall(
        lambda: score_architecture("nb101", arch, "cifar10", batch, names, protocol, "fused"))
    standalone_cpu, standalone_wall = {}, {}
    for name in names:
        _, standalone_cpu[name], standalone_wall[name] = _cpu_and_wall(
            lambda name=name: score_architecture("nb101", arch, "cifar10", batch, [name],
                                                 protocol, "standalone"))
    return {
        "arch": arch,
        "flops_m": spaces.flops_m("nb101", arch, "cifar10"),
        "params_m": spaces.params_m("nb101", arch, "cifar10"),
        "fused_cpu": fused_cpu,
        "fused_wall": fused_wall,
        "fused_share_wall": {r.score: r.seconds for r in fused},
        "standalone_cpu": standalone_cpu,
        "standalone_wall": standalone_wall,
        "status": {r.score: r.status for r in fused},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=Path, required=True, help="cifar10 images (.npz)")
    ap.add_argument("--archs", type=int, default=3, help="seeded sample (plus the largest)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--scores", default="all", help="comma-separated names or 'all'")
    ap.add_argument("--no-largest", action="store_true",
                    help="leave out the largest cell (slow scores on a shared machine)")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    names = resolve_names(args.scores)
    x, y = draw_batch(args.images, "cifar10", args.batch_size, 0, labelled=True)
    batch = (torch.as_tensor(x), torch.as_tensor(y))
    protocol = Protocol(batch_size=args.batch_size)
    rows = []
    for arch in chosen_archs(args.archs, args.seed, not args.no_largest):
        rows.append(time_arch(arch, batch, names, protocol))
        r = rows[-1]
        print(f"{spaces.arch_id('nb101', arch)} {r['flops_m']:.0f} MFLOPs: fused suite "
              f"{r['fused_cpu']:.1f} CPU s ({r['fused_wall']:.1f} wall), standalone sum "
              f"{sum(r['standalone_cpu'].values()):.1f} CPU s", flush=True)
    med = {n: statistics.median(r["standalone_cpu"][n] for r in rows) for n in names}
    print("median standalone CPU seconds per architecture:")
    for n in sorted(med, key=med.get, reverse=True):
        print(f"  {n:16s} {med[n]:8.2f}")
    print(f"median fused whole suite: {statistics.median(r['fused_cpu'] for r in rows):.1f} "
          "CPU s")
    if args.out:
        args.out.write_text(json.dumps({"threads": args.threads, "batch_size": args.batch_size,
                                        "torch": torch.__version__, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
