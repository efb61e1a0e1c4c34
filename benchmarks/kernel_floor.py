"""The kernel floor of the fused engine: how much faster could the suite get at most?

Every exact score needs its convolutions (forward, input and weight gradients, the double
backward's) and its layers' other kernels (train-mode BatchNorm, pooling, ReLU, the
classifier); engine work can remove what runs around them but not them, as long as the kernels
are PyTorch's. This script profiles (``torch.profiler``, CPU, one thread by default) the fused
whole suite (every score both engines register but ``ntk_rb``) and the fused seven of
zero-cost-nas on the same architectures and batch as ``proxy_speed.py --compare``, under this
checkout and under a git revision, in alternating subprocesses, and prints per set the median
profiled self seconds per architecture of every operator (both engines), of the layer kernels
and of the convolution kernels (this checkout), and the bounds ``before / after-kernels``: the
largest speed-up over ``before`` that this checkout's engine could reach if everything but
those kernels cost nothing. Every number comes from the profiler, so the two engines are
measured alike (its overhead per operator included). It also lists each pass's convolution
seconds: which exact pass holds them.

Usage: ``python benchmarks/kernel_floor.py [--compare fde67f5] [--archs 4] [--threads 1]
[--rounds 2]``. A study, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import proxy_speed  # noqa: E402  (its batch, architectures, sets and source trees)

# The kernels that do a convolution's arithmetic; the dispatchers above them
# (aten::convolution, aten::_convolution, aten::conv2d) are not counted.
CONV_KERNELS = {"aten::mkldnn_convolution", "aten::convolution_backward",
                "aten::_slow_conv2d_forward", "aten::_slow_conv2d_backward",
                "aten::thnn_conv2d", "aten::_nnpack_spatial_convolution"}
# The other kernels every layer's forward and first-order backward run (train-mode
# BatchNorm, pooling, ReLU, the classifier): with the convolutions, the "layer kernels".
# aten::mm also counts the scores' own Gram matrices (about 1% of the suite's seconds): the
# floor is that much higher, the bound that much lower, than the layers alone would give.
LAYER_KERNELS = CONV_KERNELS | {
    "aten::native_batch_norm", "aten::native_batch_norm_backward", "aten::avg_pool2d",
    "aten::avg_pool2d_backward", "aten::max_pool2d_with_indices",
    "aten::max_pool2d_with_indices_backward", "aten::clamp_min", "aten::threshold_backward",
    "aten::relu", "aten::addmm", "aten::mm"}
# Kernels run by a score outside any shared pass (its own code, the network's build).
PASS_EXTRA = "outside the shared passes"


def kernel_seconds(prof) -> dict[str, float]:
    """Self seconds of the convolution kernels, of the layer kernels and of every operator."""
    events = prof.key_averages()
    return {"conv": sum(e.self_cpu_time_total for e in events if e.key in CONV_KERNELS) / 1e6,
            "layer": sum(e.self_cpu_time_total for e in events if e.key in LAYER_KERNELS) / 1e6,
            "ops": sum(e.self_cpu_time_total for e in events) / 1e6}


def profile_fused(ctx, names: list[str]) -> dict:
    """Run ``names`` on ``ctx`` pass by pass under the profiler: per pass its convolution
    seconds (a pass is whatever a score's first call computes that no earlier score did)."""
    from torch.profiler import ProfilerActivity, profile

    from zeroshot_nas.proxies.runner import run_score

    per_pass: dict[str, float] = {}
    totals = {"conv": 0.0, "layer": 0.0, "ops": 0.0}
    for name in names:
        before = set(ctx.pass_seconds)
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            run_score(ctx, name)
        seconds = kernel_seconds(prof)
        totals = {k: totals[k] + seconds[k] for k in totals}
        new = [p for p in ctx.pass_seconds if p not in before]
        key = "+".join(new) if new else PASS_EXTRA
        per_pass[key] = per_pass.get(key, 0.0) + seconds["conv"]
    return {**totals, "passes": per_pass}


def child(args: argparse.Namespace) -> None:
    """Per architecture and set, the profiled kernel split of the fused set (JSON)."""
    from zeroshot_nas.proxies import Protocol, score_architecture
    from zeroshot_nas.proxies.runner import context_for

    batch, archs = proxy_speed.batch_and_archs(args)
    sets = json.loads(args.child)
    proto = Protocol(device="cpu")
    score_architecture("nb201", archs[0], "cifar10", batch, sets["suite"], proto)  # warm-up
    out: dict = {key: [] for key in sets}
    for arch in archs:
        for key, names in sets.items():
            ctx = context_for("nb201", arch, "cifar10", batch, names, proto, fused=True)
            out[key].append(profile_fused(ctx, names))
            del ctx
    print(json.dumps(out))


def run_tree(src: Path, args: argparse.Namespace, sets: dict) -> dict:
    return proxy_speed.run_in_tree(src, __file__, "--threads", str(args.threads), "--archs",
                                   str(args.archs), "--images", str(args.images),
                                   "--child", json.dumps(sets))


def medians(rows: list[dict]) -> dict:
    passes = {p for r in rows for p in r["passes"]}
    return {**{k: statistics.median(r[k] for r in rows) for k in ("ops", "layer", "conv")},
            "passes": {p: statistics.median(r["passes"].get(p, 0.0) for r in rows)
                       for p in passes}}


def report(result: dict, args: argparse.Namespace) -> None:
    print(f"before: {args.compare}; after: this checkout; {args.archs} archs, batch 64, "
          f"{args.threads} thread(s), {args.rounds} alternating rounds; medians per "
          "architecture of profiled self seconds")
    print("| set (fused) | before, all operators | after, all operators | ratio | after, "
          "layer kernels | after, convolutions | bound: before / after layer kernels | "
          "bound: before / after convolutions |")
    print("|---|---|---|---|---|---|---|---|")
    for key, engines in result.items():
        b, a = engines["before"], engines["after"]
        print(f"| {key} | {b['ops']:.2f} | {a['ops']:.2f} | {b['ops'] / a['ops']:.2f}x | "
              f"{a['layer']:.2f} | {a['conv']:.2f} | {b['ops'] / a['layer']:.2f}x | "
              f"{b['ops'] / a['conv']:.2f}x |")
    for key, engines in result.items():
        rows = sorted(engines["after"]["passes"].items(), key=lambda kv: -kv[1])
        print(f"\nconvolution kernel seconds per pass ({key}, after): "
              + ", ".join(f"{p} {s:.2f}" for p, s in rows if s >= 0.005))


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--compare", default="fde67f5", help="git revision or src folder")
    ap.add_argument("--archs", type=int, default=4)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=2, help="alternating rounds per engine")
    ap.add_argument("--images", type=Path, default=proxy_speed.NPZ)
    ap.add_argument("--out", type=Path, default=proxy_speed.REPO / "benchmarks" / "results"
                    / "kernel_floor.json")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    return ap.parse_args()


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    if args.child:
        return child(args)
    with tempfile.TemporaryDirectory() as tmp:
        trees = {"before": proxy_speed.source_tree(args.compare, Path(tmp)),
                 "after": proxy_speed.REPO / "src"}
        sets = {"suite": proxy_speed.scores_of_both(trees), "seven": proxy_speed.SEVEN}
        raw: dict = {k: {key: [] for key in sets} for k in trees}
        for r in range(args.rounds):
            for k in (list(trees) if r % 2 == 0 else list(trees)[::-1]):
                for key, rows in run_tree(trees[k], args, sets).items():
                    raw[k][key] += rows
                print(f"round {r + 1}/{args.rounds}: {k} done", file=sys.stderr, flush=True)
    result = {key: {k: medians(raw[k][key]) for k in trees} for key in sets}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"summary": result, "raw": raw, "scores": sets}, indent=1))
    report(result, args)


if __name__ == "__main__":
    main()
