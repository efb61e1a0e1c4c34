"""What a configuration's scoring costs on this machine: seconds per architecture, scaled up.

For each experiment of a configuration file (validated, the schema's defaults filled in) and
each of its data sets, it scores ``--archs`` architectures drawn (numpy seed 0) from the
experiment's own sample with the experiment's protocol and proxies, fused, through the same
function a scoring job calls (``scoring.score_archs``, a fresh cache in a temporary folder),
after one warm-up architecture (CUDA context, kernel selection). It prints per data set the
wall seconds per architecture, the four costliest scores, and the job-hours of the
experiment's whole size on that data set (its architectures × that data set's seeds), one job
at a time on this device; the last line adds them up.

Only the image size matters for the cost, so ``--images DIR`` (``<dataset>.npz``, a prepared
sample or the mirror's ``images/``) serves a preset that reads the official files.

    python benchmarks/preset_cost.py workflow/presets/full.yaml --images data/images \\
        [--archs 10] [--experiments full] [--datasets cifar10] [--out cost.json]

On a shared machine absolute times move; say so with the numbers.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from zeroshot_nas.config import experiment_proxies, read_yaml, validate_config
from zeroshot_nas.pipeline.plan import PROTOCOL_KEYS, sample_settings, seeds_of
from zeroshot_nas.proxies import Protocol
from zeroshot_nas.proxies.numerics import resolve_device
from zeroshot_nas.scoring import score_archs
from zeroshot_nas.spaces.sampling import sample_from_settings


def experiment_cost(name: str, e: dict, images: Path, n_archs: int, datasets):
    """Yield one row per data set of experiment ``e``: seconds per architecture and job-hours."""
    sample = sample_from_settings(sample_settings(e))
    picked = np.random.default_rng(0).choice(len(sample), size=min(n_archs + 1, len(sample)),
                                             replace=False)
    warm, *timed = [sample[i] for i in picked]
    timed = timed or [warm]  # a one-architecture sample: time it again, warm
    settings = {k: e[k] for k in PROTOCOL_KEYS}
    device = resolve_device(settings["device"]).type
    proxies = list(experiment_proxies(e))
    for dataset in [d for d in e["datasets"] if not datasets or d in datasets]:
        seed = seeds_of(e, dataset)[0]
        protocol = Protocol.from_experiment(settings, seed=seed, device=device)
        npz = images / f"{dataset}.npz"
        with tempfile.TemporaryDirectory() as cache:
            try:
                score_archs(e["space"], dataset, seed, [warm], proxies, protocol, npz, cache,
                            None, progress=False)
            except (FileNotFoundError, ValueError) as err:  # no images, or too few of them
                yield {"dataset": dataset, "skipped": str(err)}
                continue
            start = time.perf_counter()
            table = score_archs(e["space"], dataset, seed, timed, proxies, protocol, npz, cache,
                                None, progress=False)
            wall = time.perf_counter() - start
        per_arch = table.groupby("arch_id")["seconds"].sum()
        per_score = table.groupby("score")["seconds"].mean().sort_values(ascending=False)
        n_seeds = len(seeds_of(e, dataset))
        yield {
            "experiment": name, "dataset": dataset, "device": device,
            "batch_size": e["batch_size"], "threads": e["threads"], "n_timed": len(timed),
            "scores": len(proxies),
            "wall_s_per_arch": wall / len(timed),
            "median_s_per_arch": float(statistics.median(per_arch)),
            "max_s_per_arch": float(per_arch.max()),
            "top_scores_s": {k: round(float(v), 3) for k, v in per_score.head(4).items()},
            "size": len(sample), "seeds": n_seeds,
            "job_hours": wall / len(timed) * len(sample) * n_seeds / 3600,
        }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("config", type=Path)
    ap.add_argument("--images", type=Path, required=True, help="folder of <dataset>.npz")
    ap.add_argument("--archs", type=int, default=10, help="architectures timed per data set")
    ap.add_argument("--experiments", nargs="*", help="only these experiments")
    ap.add_argument("--datasets", nargs="*", help="only these data sets")
    ap.add_argument("--out", type=Path, help="write the rows as JSON here too")
    args = ap.parse_args()
    if args.archs < 1:
        ap.error(f"--archs must be at least 1, got {args.archs}")
    raw = read_yaml(args.config)
    # The timed images are --images whatever the file reads (only their size matters).
    raw.setdefault("data", {})["images"] = {"sample_dir": str(args.images)}
    config = validate_config(raw)
    named = {"--experiments": (args.experiments, config["experiments"]),
             "--datasets": (args.datasets, {d for e in config["experiments"].values()
                                            for d in e["datasets"]})}
    for option, (given, known) in named.items():
        unknown = sorted(set(given or ()) - set(known))
        if unknown:
            ap.error(f"{option}: {', '.join(unknown)} not in {args.config} "
                     f"(it has {', '.join(sorted(known))})")
    rows = []
    for name, e in config["experiments"].items():
        if args.experiments and name not in args.experiments:
            continue
        for row in experiment_cost(name, e, args.images, args.archs, args.datasets):
            if "skipped" in row:
                print(f"{name} {row['dataset']}: not timed ({row['skipped']})", flush=True)
                continue
            rows.append(row)
            print(f"{name} {row['dataset']} ({row['device']}, batch {row['batch_size']}, "
                  f"{row['threads']} CPU thread(s), {row['scores']} scores): {row['wall_s_per_arch']:.2f} s per architecture "
                  f"(median {row['median_s_per_arch']:.2f}, max {row['max_s_per_arch']:.2f} of "
                  f"{row['n_timed']}; costliest {row['top_scores_s']}) -> {row['size']} × "
                  f"{row['seeds']} seeds = {row['job_hours']:.1f} job-hours", flush=True)
    total = sum(r["job_hours"] for r in rows)
    gpu = torch.cuda.get_device_name() if torch.cuda.is_available() else "no GPU"
    print(f"all: {total:.1f} job-hours of scoring, one job at a time ({gpu}, "
          f"torch {torch.__version__})")
    if args.out:
        args.out.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
