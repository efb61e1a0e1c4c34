"""Protocol study: are RB Table 1's grasp and ntk rows on CIFAR off because of the sample drawn?

rb-cpu scores grasp and ntk (which rb-space does not) on a uniform sample of 100 architectures
(rb-sample). On that sample, snip and fisher, scored over the whole space too, sit 0.11 to
0.16 above their whole-space Kendall tau at batch 64, as at the authors' batch: the draw, not
the batch, lifts the gradient scores. This script scores ``--scores`` (default grasp, ntk,
snip, fisher) on another uniform sample (``--archs``, ``--sample-seed``; one initialisation,
the pipeline's batch ``draw_batch(images, dataset, --batch, seed 0)``) and prints, per score,
Kendall's tau-b with test accuracy (non-finite ranked last, the statistics' ``kept_worst``)
with its 95% percentile-bootstrap interval. With ``--whole results/rb-space/scores.parquet``
it adds, for every score that table holds, the whole space's tau and the tau of the whole
space's own values restricted to this sample: how far this draw sits from the population.

    python benchmarks/rb_sample_draw.py --dataset cifar10 --images data/images/cifar10.npz \\
        --benchmark data/benchmarks/nb201.parquet --whole results/rb-space/scores.parquet

A study, not a test: it prints numbers and asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import pandas as pd
import torch

from zeroshot_nas.data.images import draw_batch
from zeroshot_nas.proxies import REGISTRY, Protocol
from zeroshot_nas.proxies.runner import score_architecture
from zeroshot_nas.spaces.sampling import sample_architectures
from zeroshot_nas.stats.bootstrap import bootstrap_correlation
from zeroshot_nas.stats.core import apply_nonfinite_policy


def kendall_with_interval(values, accuracy, higher_is_better: bool) -> dict:
    """tau-b of the score (non-finite ranked last) with accuracy, and its 95% interval."""
    ranked = apply_nonfinite_policy(np.asarray(values, float), higher_is_better, "kept_worst")
    tau, low, high = bootstrap_correlation(ranked.values, np.asarray(accuracy), "kendall")
    return {"kendall": round(tau, 3), "ci95": [round(low, 3), round(high, 3)],
            "n": int(len(values)), "n_nonfinite": ranked.n_nonfinite}


def score_sample(archs, dataset, images, scores, batch_size) -> pd.DataFrame:
    """One fused context per architecture: the values of ``scores``, one row per architecture."""
    batch = tuple(map(torch.as_tensor, draw_batch(images, dataset, batch_size, 0,
                                                   labelled=True)))
    protocol = Protocol(batch_size=batch_size, seed=0)
    rows = []
    for arch in archs:
        results = score_architecture("nb201", arch, dataset, batch, scores, protocol)
        rows.append({"arch": arch, **{r.score: r.value for r in results}})
    return pd.DataFrame(rows).set_index("arch")


def whole_space_rows(path: str, dataset: str, values: pd.DataFrame, accuracy) -> dict:
    """Whole-space tau of each score of ``values`` the table holds (seed 0), of the table's
    values on ``values``' architectures, and the largest relative difference between the
    table's values and ``values`` (small: the same protocol and batch; float32 sums computed on
    another CPU's kernels differ in their last digits)."""
    table = pd.read_parquet(path, columns=["arch", "dataset", "seed", "score", "value",
                                           "test_acc"])
    table = table[(table.dataset == dataset) & (table.seed == 0)]
    out = {}
    archs = values.index
    for name in values.columns:
        own = table[table.score == name].set_index("arch")
        if own.empty:
            continue
        hib = REGISTRY[name].higher_is_better
        out[name] = {"whole_space": kendall_with_interval(own.value, own.test_acc, hib),
                     "whole_space_values_on_this_sample": kendall_with_interval(
                         own.value.loc[archs], accuracy, hib),
                     "max_relative_difference_to_this_run": float(
                         ((own.value.loc[archs] - values[name]).abs()
                          / values[name].abs().clip(lower=1e-30)).max())}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", choices=["cifar10", "cifar100", "ImageNet16-120"],
                        required=True)
    parser.add_argument("--images", required=True, help="the data set's prepared images (.npz)")
    parser.add_argument("--benchmark", required=True, help="data/benchmarks/nb201.parquet")
    parser.add_argument("--whole", help="a whole-space scores table (results/rb-space/scores.parquet)")
    parser.add_argument("--scores", nargs="+", default=["grasp", "ntk", "snip", "fisher"])
    parser.add_argument("--archs", type=int, default=300)
    parser.add_argument("--sample-seed", type=int, default=1)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", help="CSV of every architecture's values")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    archs = sample_architectures("nb201", args.archs, args.sample_seed)
    table = pd.read_parquet(args.benchmark)
    accuracy = table[table.dataset == args.dataset].set_index("arch").test_acc.loc[archs]
    started = time.process_time()
    values = score_sample(archs, args.dataset, args.images, args.scores, args.batch)
    report = {"dataset": args.dataset, "archs": len(archs), "sample_seed": args.sample_seed,
              "batch": args.batch, "cpu_seconds": round(time.process_time() - started, 1),
              "this_sample": {name: kendall_with_interval(values[name], accuracy.to_numpy(),
                                                          REGISTRY[name].higher_is_better)
                              for name in args.scores}}
    if args.whole:
        report["whole"] = whole_space_rows(args.whole, args.dataset, values, accuracy.to_numpy())
    if args.out:
        values.assign(test_acc=accuracy).to_csv(args.out)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
