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

``--compare REV`` times two versions of the engine side by side: this checkout's ``src`` and
``src`` of the git revision (or source folder) ``REV``, each in its own subprocess with its own
``PYTHONPATH``, the two alternating round by round on the same architectures and batch. It
prints the before/after table (median wall and process-CPU seconds per architecture for the
whole suite, the fused seven and each family's set, exclusive seconds per shared pass) with
ratios, and the largest relative difference of every score between the two versions.
The whole-suite row is every score both versions register but ntk_rb (timed alone). Example (the issue-21 table):
``python benchmarks/proxy_speed.py --compare fde67f5 --threads 1 --archs 4 --rounds 3``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tarfile
import tempfile
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
DEFAULT_OUT = REPO / "benchmarks" / "results" / "proxy_speed.json"
SEVEN = ["grad_norm", "snip", "grasp", "fisher", "jacob_cov", "synflow", "naswot"]
# Scores served by the shared first-order pass and the synflow pass alone.
CHEAP = ["naswot", "jacob_cov", "js", "jsc", "snip", "grad_norm", "plain", "fisher", "pjs",
         "pjsc", "wpjs", "wpjsi", "synflow", "logsynflow", "ssnr", "ssnr_layerwise"]
NOISE = ["sns", "snsc", "lns", "lnsc", "mnjs", "mnjsc"]
# The sets --compare times (besides the whole suite), each fused on its own context.
# ntk_rb is one backward pass through the whole batch per image (a batch of 64 costs about 64
# forward+backwards, batch 256 hours): it is timed on its own (`--scores ntk_rb`), never as part
# of the suite, whose timings and batch-256 peak it would swamp.
SUITE = [n for n in REGISTRY if n != "ntk_rb"]
COMPARE_SETS = {"seven": SEVEN, "grasp": ["grasp"], "ntk": ["ntk"], "noise": NOISE,
                "zen": ["zen"]}


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
    names = SUITE
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
            "all": [n for n in SUITE if n != "zen"]}
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
            suite = score_architecture("nb201", arch, "cifar10", batch, SUITE, proto)
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


def compare_child(args: argparse.Namespace) -> None:
    """One round of --compare in the engine on ``PYTHONPATH``: per architecture, the wall and
    CPU seconds of the whole suite (``args.names``, one fused context, with its exclusive pass
    seconds) and of every set of COMPARE_SETS; the values of the whole suite. JSON on stdout."""
    batch, archs = batch_and_archs(args)
    names = args.names.split(",")
    proto = Protocol(device=args.device)
    score_architecture("nb201", archs[0], "cifar10", batch, names, proto)  # warm-up
    sets = {k: COMPARE_SETS[k] for k in args.sets}
    out: dict = {"sets": {k: [] for k in ["all", *sets]}, "passes": [], "values": {}}
    for arch in archs:
        ctx = context_for("nb201", arch, "cifar10", batch, names, proto, fused=True)
        wall, cpu = time.perf_counter(), time.process_time()
        values = {name: run_score(ctx, name)[0] for name in names}
        out["sets"]["all"].append([time.perf_counter() - wall, time.process_time() - cpu])
        out["passes"].append(dict(ctx.pass_seconds))
        out["values"][arch] = values
        del ctx
        for key, subset in sets.items():
            wall, cpu = time.perf_counter(), time.process_time()
            score_architecture("nb201", arch, "cifar10", batch, subset, proto)
            out["sets"][key].append([time.perf_counter() - wall, time.process_time() - cpu])
    print(json.dumps(out))


def source_tree(rev: str, workdir: Path) -> Path:
    """The ``src`` folder of ``rev``: a folder holding ``zeroshot_nas`` as given, else the git
    revision exported (``git archive``) into ``workdir`` with the files the package reads
    beside it (the configuration schema, the source registry)."""
    given = Path(rev)
    if (given / "zeroshot_nas").is_dir():
        return given.resolve()
    if (given / "src" / "zeroshot_nas").is_dir():
        return (given / "src").resolve()
    archive = workdir / "src.tar"
    with archive.open("wb") as fh:
        subprocess.run(["git", "-C", str(REPO), "archive", rev, "src", "workflow/schemas", "data"],
                       stdout=fh, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(workdir, filter="data")
    return workdir / "src"


def run_in_tree(src: Path, script: str, *options: str):
    """Run ``script`` with ``options`` in this interpreter on the engine in ``src``
    (``PYTHONPATH``); the JSON of its last line of output."""
    done = subprocess.run([sys.executable, script, *options],
                          env=dict(os.environ, PYTHONPATH=str(src)), capture_output=True,
                          text=True)
    if done.returncode != 0:
        raise SystemExit(f"child run in {src} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_child(src: Path, args: argparse.Namespace, *extra: str) -> dict:
    return run_in_tree(src, __file__, "--threads", str(args.threads), "--archs", str(args.archs),
                       "--device", args.device, "--images", str(args.images), "--sets",
                       *args.sets, *extra)


def scores_of_both(trees: dict[str, Path]) -> list[str]:
    """The scores both engines register (``trees``: before, after), in the after's order."""
    registries = {k: run_in_tree(src, __file__, "--list-child") for k, src in trees.items()}
    return [n for n in registries["after"] if n in registries["before"]]


def compare(args: argparse.Namespace) -> None:
    """The before/after table of two engines (see the module docstring), printed as Markdown
    and written with every raw time to ``args.out``."""
    with tempfile.TemporaryDirectory() as tmp:
        trees = {"before": source_tree(args.compare, Path(tmp)), "after": REPO / "src"}
        names = scores_of_both(trees)
        runs: dict[str, list[dict]] = {k: [] for k in trees}
        for r in range(args.rounds):
            order = list(trees) if r % 2 == 0 else list(trees)[::-1]
            for key in order:
                runs[key].append(run_child(trees[key], args, "--compare-child", ",".join(names)))
                print(f"round {r + 1}/{args.rounds}: {key} done", file=sys.stderr, flush=True)
    table = compare_table(runs)
    table |= {"before": args.compare, "threads": args.threads, "archs": args.archs,
              "rounds": args.rounds, "scores": names,
              "value_differences": value_differences(runs)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"summary": table, "runs": runs}, indent=1))
    print_compare(table)


def compare_table(runs: dict[str, list[dict]]) -> dict:
    """Median seconds per architecture of every set (wall, CPU) and pass, per engine."""
    table: dict = {"sets": {}, "passes": {}}
    for key, rounds in runs.items():
        for name in rounds[0]["sets"]:
            per = [t for run in rounds for t in run["sets"][name]]
            table["sets"].setdefault(name, {})[key] = {
                "wall": statistics.median(w for w, _ in per),
                "cpu": statistics.median(c for _, c in per)}
        passes = {p for run in rounds for arch in run["passes"] for p in arch}
        for p in passes:
            table["passes"].setdefault(p, {})[key] = statistics.median(
                arch.get(p, 0.0) for run in rounds for arch in run["passes"])
    return table


def value_differences(runs: dict[str, list[dict]]) -> dict[str, float]:
    """Per score, the largest relative difference between the engines on the same archs
    (both non-finite the same way counts as equal; a finite/non-finite mismatch is inf)."""
    worst: dict[str, float] = {}
    before, after = runs["before"][0]["values"], runs["after"][0]["values"]
    for arch, values in after.items():
        for name, a in values.items():
            b = before[arch][name]
            if math.isfinite(a) and math.isfinite(b):
                rel = abs(a - b) / max(abs(b), 1e-300)
            else:
                rel = 0.0 if (math.isnan(a) and math.isnan(b)) or a == b else math.inf
            worst[name] = max(worst.get(name, 0.0), rel)
    return worst


def print_compare(table: dict) -> None:
    print(f"before: {table['before']}; after: this checkout; {table['archs']} archs, batch 64, "
          f"{table['threads']} thread(s), {table['rounds']} alternating rounds; medians per "
          "architecture")
    print("| set (fused) | before wall | after wall | ratio | before CPU | after CPU | ratio |")
    print("|---|---|---|---|---|---|---|")
    for name, row in table["sets"].items():
        b, a = row["before"], row["after"]
        print(f"| {name} | {b['wall']:.3f} | {a['wall']:.3f} | {b['wall'] / a['wall']:.2f}x "
              f"| {b['cpu']:.3f} | {a['cpu']:.3f} | {b['cpu'] / a['cpu']:.2f}x |")
    print("\n| pass (whole suite, exclusive s) | before | after |\n|---|---|---|")
    rows = sorted(table["passes"].items(), key=lambda kv: -max(kv[1].values()))
    for name, row in rows:
        if max(row.values()) >= 0.005:
            print(f"| {name} | {row.get('before', 0.0):.3f} | {row.get('after', 0.0):.3f} |")
    print("\nlargest relative difference of each score, after vs before:")
    print(", ".join(f"{k} {v:.1e}" for k, v in table["value_differences"].items()))


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--archs", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--images", type=Path, default=NPZ, help="prepared cifar10 images (.npz)")
    ap.add_argument("--fused-sets", action="store_true",
                    help="only time the fused sets (seven, cheap, noise family, whole suite): "
                    "the quick comparison of two versions of the engine")
    ap.add_argument("--scores", nargs="+", metavar="NAME",
                    help="only time these scores, each standalone, and print JSON")
    ap.add_argument("--fused-share", action="store_true",
                    help="with --scores: also each score's seconds fused within the whole "
                    "suite, the suite's total and one forward+backward, same architectures")
    ap.add_argument("--compare", metavar="REV",
                    help="time this checkout against the git revision (or src folder) REV, "
                    "alternating subprocesses; prints the before/after table")
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds of --compare")
    ap.add_argument("--sets", nargs="*", default=list(COMPARE_SETS), choices=list(COMPARE_SETS),
                    help="sets --compare times besides the whole suite")
    ap.add_argument("--peak-child", nargs=2, metavar=("ARCH", "BATCH"), help=argparse.SUPPRESS)
    ap.add_argument("--compare-child", dest="names", help=argparse.SUPPRESS)
    ap.add_argument("--list-child", action="store_true", help=argparse.SUPPRESS)
    return ap.parse_args()


def time_fused_and_standalone(args: argparse.Namespace) -> dict:
    """Each measure of the full benchmark, per architecture, on the same architectures."""
    proto = Protocol(device=args.device)
    batch, archs = batch_and_archs(args)
    suite = [n for n in SUITE if n != "ntk"]
    # Warm-up: oneDNN builds kernels per shape on first use.
    score_architecture("nb201", archs[0], "cifar10", batch, SUITE, proto)
    per: dict[str, list[float]] = {n: [] for n in SUITE}
    rows: dict[str, list[float]] = {
        k: []
        for k in ("fwd_bwd_nchw", "fwd_bwd_channels_last", "seven_standalone", "seven_fused",
                  "suite_standalone", "suite_fused_no_ntk", "all_fused")
    }

    def fused(names: list[str], arch: str) -> float:
        return timed(lambda: score_architecture("nb201", arch, "cifar10", batch, names, proto))

    for arch in archs:
        rows["fwd_bwd_nchw"].append(forward_backward(arch, batch, False, proto))
        rows["fwd_bwd_channels_last"].append(forward_backward(arch, batch, True, proto))
        alone = score_architecture(
            "nb201", arch, "cifar10", batch, SUITE, proto, mode="standalone"
        )
        for r in alone:
            per[r.score].append(r.seconds)
        rows["seven_standalone"].append(sum(r.seconds for r in alone if r.score in SEVEN))
        rows["suite_standalone"].append(sum(r.seconds for r in alone if r.score != "ntk"))
        rows["seven_fused"].append(fused(SEVEN, arch))
        rows["suite_fused_no_ntk"].append(fused(suite, arch))
        rows["all_fused"].append(fused(SUITE, arch))
    # Where the fused seven spend their time: exclusive seconds per shared pass.
    passes: dict[str, list[float]] = {}
    for arch in archs:
        ctx = context_for("nb201", arch, "cifar10", batch, SEVEN, proto, fused=True)
        for name in SEVEN:
            run_score(ctx, name)
        for key, sec in ctx.pass_seconds.items():
            passes.setdefault(key, []).append(sec)
    return {"archs": archs, "rows": rows, "per": per, "passes": passes}


def peak_memory(args: argparse.Namespace) -> dict:
    """The fused whole suite's peak at batch 256 on the largest cell, in its own process."""
    big = spaces.arch_from_id("nb201", "333333")
    child = subprocess.run(
        [sys.executable, __file__, "--threads", str(args.threads), "--device", args.device]
        + ["--peak-child", big, "256"],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(child.stdout.strip().splitlines()[-1])


def full_benchmark(args: argparse.Namespace) -> None:
    timings = time_fused_and_standalone(args)
    rows, per, passes = timings["rows"], timings["per"], timings["passes"]
    med = {k: statistics.median(v) for k, v in rows.items()}
    ratios_seven = [
        s / f for s, f in zip(rows["seven_standalone"], rows["seven_fused"], strict=True)
    ]
    ratios_suite = [
        s / f for s, f in zip(rows["suite_fused_no_ntk"], rows["fwd_bwd_nchw"], strict=True)
    ]
    peak = peak_memory(args)
    result = {
        "archs": timings["archs"],
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
    print_full_benchmark(result, args.threads)


def print_full_benchmark(result: dict, threads: int) -> None:
    print(f"{len(result['archs'])} archs, batch 64, {threads} threads "
          "(medians, seconds per arch)")
    for title, key in (("measure", "median_seconds"),
                       ("score (standalone)", "median_standalone_seconds_per_score"),
                       ("fused seven: pass", "median_fused_seven_pass_seconds")):
        print(f"\n| {title} | seconds |\n|---|---|")
        for k, v in result[key].items():
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
        "peak RSS, all scores fused, batch 256, arch 333333: "
        f"{result['peak_rss_mb_batch256_all_scores_fused']:.0f} MB (target < 4096)"
    )


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    if args.list_child:
        print(json.dumps(SUITE))
    elif args.names:
        compare_child(args)
    elif args.compare:
        if args.out == DEFAULT_OUT:
            args.out = REPO / "benchmarks" / "results" / "proxy_speed_compare.json"
        compare(args)
    elif args.peak_child:
        peak_memory_child(args.peak_child[0], int(args.peak_child[1]), args.device)
    elif args.fused_sets:
        fused_sets(args)
    elif args.scores:
        standalone_scores(args)
    else:
        full_benchmark(args)


if __name__ == "__main__":
    main()
