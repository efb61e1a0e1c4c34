"""Proxy speed benchmark: standalone vs fused, against one forward+backward pass.

For the same architectures in the same run, at batch 64 on real CIFAR-10 images:
  * seconds of each score run standalone (own network build and passes, NCHW),
  * seconds of the seven zero-cost-nas scores fused, and of the whole suite except ntk fused,
  * seconds of one forward+backward (cross-entropy, NCHW and channels_last), network built,
and, in a separate process, the peak resident memory of the fused whole suite at batch 256.

Usage: ``python benchmarks/proxy_speed.py [--archs 4] [--threads 2] [--device cpu|cuda]
[--out FILE.json]``; ``--scores ntk grasp`` times only those scores, each standalone (the
quick before/after of one changed pass: run it under both versions, same architectures), and
with ``--fused-share`` also their shares of the fused whole suite.
On CUDA the peak is the allocator's (``max_memory_allocated``).
Numbers are medians over the architectures; on a machine shared with other jobs the
absolute times move, the same-run ratios much less.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from zeroshot_nas import spaces
from zeroshot_nas.data.images import draw_batch
from zeroshot_nas.proxies import REGISTRY, Protocol, score_architecture
from zeroshot_nas.proxies.network import build_initialised_network
from zeroshot_nas.proxies.runner import context_for, run_score

REPO = Path(__file__).resolve().parents[1]
# The prepared images of a run (`data/images/cifar10.npz`, made by the workflow's data stage).
NPZ = REPO / "data" / "images" / "cifar10.npz"
SEVEN = ["grad_norm", "snip", "grasp", "fisher", "jacob_cov", "synflow", "naswot"]
# Scores served by the shared first-order pass and the synflow pass alone.
CHEAP = ["naswot", "jacob_cov", "js", "jsc", "snip", "grad_norm", "plain", "fisher", "pjs",
         "pjsc", "wpjs", "wpjsi", "synflow", "logsynflow", "ssnr", "ssnr_layerwise"]
NOISE = ["sns", "snsc", "lns", "lnsc", "mnjs", "mnjsc"]


def forward_backward(arch: str, batch, channels_last: bool, protocol: Protocol) -> float:
    net = build_initialised_network("nb201", arch, "cifar10", protocol)
    x, y = (t.to(protocol.device) for t in batch)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    sync(protocol.device)
    t0 = time.perf_counter()
    F.cross_entropy(net(x), y).backward()
    sync(protocol.device)
    return time.perf_counter() - t0


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def peak_memory_child(arch: str, batch_size: int, device: str) -> None:
    x, y = draw_batch(NPZ, "cifar10", batch_size, 0, labelled=True)
    names = list(REGISTRY)
    res = score_architecture(
        "nb201",
        arch,
        "cifar10",
        (torch.as_tensor(x), torch.as_tensor(y)),
        names,
        Protocol(batch_size=batch_size, device=device),
    )
    bad = [r.score for r in res if r.status == "error"]
    if device.startswith("cuda"):
        peak_mb = torch.cuda.max_memory_allocated() / 2**20
    else:
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"peak_rss_mb": peak_mb, "errors": bad}))


def batch_and_archs(args: argparse.Namespace) -> tuple[tuple[torch.Tensor, torch.Tensor], list]:
    """The one CIFAR-10 batch of 64 and the `args.archs` NB201 architectures (numpy seed 0)
    every mode times: the same inputs, so runs of two versions compare."""
    x, y = draw_batch(args.images, "cifar10", 64, 0, labelled=True)
    every = spaces.all_archs("nb201")
    picks = np.random.default_rng(0).choice(len(every), args.archs, replace=False)
    return (torch.as_tensor(x), torch.as_tensor(y)), [every[i] for i in picks]


def fused_sets(args: argparse.Namespace) -> None:
    """Median seconds per architecture of each fused set under each CPU gradient layout,
    interleaved in one run (same architectures, same batch), printed as JSON with ratios."""
    batch, archs = batch_and_archs(args)
    sets = {"seven": SEVEN, "cheap": CHEAP, "noise": NOISE,
            "all": [n for n in REGISTRY if n != "zen"]}
    layouts = ["nchw", "channels_last"] if args.device == "cpu" else ["nchw"]
    protocols = {lay: Protocol(device=args.device, gradient_layout=lay) for lay in layouts}
    for proto in protocols.values():  # warm-up
        score_architecture("nb201", archs[0], "cifar10", batch, sets["all"], proto)
    times = {(lay, key): [] for lay in layouts for key in sets}
    for arch in archs:
        for key, names in sets.items():
            for lay, proto in protocols.items():
                times[lay, key].append(timed(lambda a=arch, n=names, p=proto: score_architecture(
                    "nb201", a, "cifar10", batch, n, p)))
    medians = {f"{lay}/{key}": statistics.median(v) for (lay, key), v in times.items()}
    if "channels_last" in layouts:
        medians.update({f"nchw_over_channels_last/{key}":
                        medians[f"nchw/{key}"] / medians[f"channels_last/{key}"] for key in sets})
    print(json.dumps(medians, indent=1))


def standalone_scores(args: argparse.Namespace) -> None:
    """Median standalone seconds per architecture of each named score (own network build and
    passes), printed as JSON: the quick before/after of one pass under two versions."""
    unknown = [n for n in args.scores if n not in REGISTRY]
    if unknown:
        raise SystemExit(f"unknown score(s) {unknown}; known: {sorted(REGISTRY)}")
    batch, archs = batch_and_archs(args)
    proto = Protocol(device=args.device)
    score_architecture("nb201", archs[0], "cifar10", batch, args.scores, proto,
                       mode="standalone")  # warm-up
    per: dict[str, list[float]] = {n: [] for n in args.scores}
    fused: dict[str, list[float]] = {n: [] for n in [*args.scores, "suite", "fwd_bwd_nchw"]}
    for arch in archs:
        for r in score_architecture("nb201", arch, "cifar10", batch, args.scores, proto,
                                    mode="standalone"):
            per[r.score].append(r.seconds)
        if args.fused_share:
            fused["fwd_bwd_nchw"].append(forward_backward(arch, batch, False, proto))
            suite = score_architecture("nb201", arch, "cifar10", batch, list(REGISTRY), proto)
            fused["suite"].append(sum(r.seconds for r in suite))
            for r in suite:
                if r.score in per:
                    fused[r.score].append(r.seconds)
    out = {"archs": len(archs), "threads": args.threads, "device": args.device,
           "median_standalone_seconds": {k: statistics.median(v) for k, v in per.items()}}
    if args.fused_share:
        out["median_seconds_fused_in_whole_suite"] = {k: statistics.median(v)
                                                      for k, v in fused.items()}
    print(json.dumps(out, indent=1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--archs", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cpu")
    ap.add_argument(
        "--out", type=Path, default=REPO / "benchmarks" / "results" / "proxy_speed.json"
    )
    ap.add_argument("--images", type=Path, default=NPZ, help="prepared cifar10 images (.npz)")
    ap.add_argument("--fused-sets", action="store_true",
                    help="only time the fused sets (seven, cheap, noise family, whole suite): "
                    "the quick comparison of two versions of the engine")
    ap.add_argument("--scores", nargs="+", metavar="NAME",
                    help="only time these scores, each standalone, and print JSON")
    ap.add_argument("--fused-share", action="store_true",
                    help="with --scores: also each score's seconds fused within the whole "
                    "suite, the suite's total and one forward+backward, same architectures")
    ap.add_argument("--peak-child", nargs=2, metavar=("ARCH", "BATCH"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.peak_child:
        peak_memory_child(args.peak_child[0], int(args.peak_child[1]), args.device)
        return
    if args.fused_sets:
        fused_sets(args)
        return
    if args.scores:
        standalone_scores(args)
        return
    proto = Protocol(device=args.device)
    batch, archs = batch_and_archs(args)
    suite = [n for n in REGISTRY if n != "ntk"]
    # Warm-up: oneDNN builds kernels per shape on first use.
    score_architecture("nb201", archs[0], "cifar10", batch, list(REGISTRY), proto)
    per: dict[str, list[float]] = {n: [] for n in REGISTRY}
    rows: dict[str, list[float]] = {
        k: []
        for k in (
            "fwd_bwd_nchw",
            "fwd_bwd_channels_last",
            "seven_standalone",
            "seven_fused",
            "suite_standalone",
            "suite_fused_no_ntk",
            "all_fused",
        )
    }
    for arch in archs:
        rows["fwd_bwd_nchw"].append(forward_backward(arch, batch, False, proto))
        rows["fwd_bwd_channels_last"].append(forward_backward(arch, batch, True, proto))
        alone = score_architecture(
            "nb201", arch, "cifar10", batch, list(REGISTRY), proto, mode="standalone"
        )
        for r in alone:
            per[r.score].append(r.seconds)
        rows["seven_standalone"].append(sum(r.seconds for r in alone if r.score in SEVEN))
        rows["suite_standalone"].append(sum(r.seconds for r in alone if r.score != "ntk"))
        rows["seven_fused"].append(
            timed(
                lambda a=arch: score_architecture("nb201", a, "cifar10", batch, SEVEN, proto)
            )
        )
        rows["suite_fused_no_ntk"].append(
            timed(
                lambda a=arch: score_architecture("nb201", a, "cifar10", batch, suite, proto)
            )
        )
        rows["all_fused"].append(
            timed(
                lambda a=arch: score_architecture(
                    "nb201", a, "cifar10", batch, list(REGISTRY), proto
                )
            )
        )
    # Where the fused seven spend their time: exclusive seconds per shared pass.
    passes: dict[str, list[float]] = {}
    for arch in archs:
        ctx = context_for("nb201", arch, "cifar10", batch, SEVEN, proto, fused=True)
        for name in SEVEN:
            run_score(ctx, name)
        for key, sec in ctx.pass_seconds.items():
            passes.setdefault(key, []).append(sec)
    med = {k: statistics.median(v) for k, v in rows.items()}
    ratios_seven = [
        s / f for s, f in zip(rows["seven_standalone"], rows["seven_fused"], strict=True)
    ]
    ratios_suite = [
        s / f for s, f in zip(rows["suite_fused_no_ntk"], rows["fwd_bwd_nchw"], strict=True)
    ]
    big = spaces.arch_from_id("nb201", "333333")
    child = subprocess.run(
        [sys.executable, __file__, "--threads", str(args.threads), "--device", args.device]
        + ["--peak-child", big, "256"],
        capture_output=True,
        text=True,
        check=True,
    )
    peak = json.loads(child.stdout.strip().splitlines()[-1])
    result = {
        "archs": archs,
        "threads": args.threads,
        "device": args.device,
        "batch_size": 64,
        "median_seconds": med,
        "median_standalone_seconds_per_score": {k: statistics.median(v) for k, v in per.items()},
        "median_fused_seven_pass_seconds": {k: statistics.median(v) for k, v in passes.items()},
        "seven_speedup_fused_vs_standalone": statistics.median(ratios_seven),
        "suite_no_ntk_over_fwd_bwd": statistics.median(ratios_suite),
        "peak_rss_mb_batch256_all_scores_fused": peak["peak_rss_mb"],
        "peak_child_errors": peak["errors"],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(f"{len(archs)} archs, batch 64, {args.threads} threads (medians, seconds per arch)")
    print("| measure | seconds |\n|---|---|")
    for k, v in med.items():
        print(f"| {k} | {v:.3f} |")
    print("\n| score (standalone) | seconds |\n|---|---|")
    for k, v in result["median_standalone_seconds_per_score"].items():
        print(f"| {k} | {v:.3f} |")
    print("\n| fused seven: pass | seconds |\n|---|---|")
    for k, v in result["median_fused_seven_pass_seconds"].items():
        print(f"| {k} | {v:.3f} |")
    print(
        f"\nseven scores fused vs standalone: {result['seven_speedup_fused_vs_standalone']:.2f}x "
        "(target >= 4)"
    )
    print(
        f"suite except ntk / one fwd+bwd (NCHW): {result['suite_no_ntk_over_fwd_bwd']:.2f}x "
        "(target <= 12)"
    )
    print(
        f"peak RSS, all scores fused, batch 256, arch 333333: {peak['peak_rss_mb']:.0f} MB "
        "(target < 4096)"
    )


if __name__ == "__main__":
    main()
