"""Protocol study: does GradSign's printed NB201 correlation depend on how the batch is drawn?

GradSign's authors (cmu-catalyst/GradSign@26412be, zero-cost-nas pipeline ``build.py``) score
every architecture on its own batch of 128 training images, drawn by a shuffled loader with
RandomCrop(32, padding 4) and a horizontal flip; the pipeline scores every architecture on one
fixed, unaugmented batch of 64. This script scores the same architectures with our ``gradsign``
under three batch protocols, one initialisation each (seed 0), and prints Spearman's rho with
CIFAR-10 test accuracy (200 epochs) with a 95% percentile bootstrap interval, and against the
validation accuracy (``valid_acc``: NAS-Bench-201's ``cifar10-valid`` networks, trained on the
25k train split; GradSign's ``build.py`` reads the test accuracy of these same networks):

* ``fixed-64``: the pipeline's batch (``draw_batch(..., 64, seed 0)``);
* ``fixed-128``: one fixed batch of 128, no augmentation;
* ``fresh-128-aug``: for every architecture its own batch of 128 drawn from the image sample,
  randomly cropped (zero padding 4, as torchvision's RandomCrop pads) and flipped.

    python benchmarks/gradsign_batches.py --images data/images/cifar10.npz \\
        --benchmark data/benchmarks/nb201.parquet --archs 100

A study, not a test: it prints numbers and asserts nothing.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import pandas as pd
import torch

from zeroshot_nas.data.images import draw_batch, load_sample, normalise
from zeroshot_nas.proxies import Protocol
from zeroshot_nas.proxies.runner import score_architecture
from zeroshot_nas.spaces.sampling import sample_architectures
from zeroshot_nas.stats.bootstrap import bootstrap_correlation


def crop_and_flip(x: np.ndarray, rng: np.random.Generator, pad: int = 4) -> np.ndarray:
    """RandomCrop(32, padding=4) then RandomHorizontalFlip on uint8 N x H x W x 3 images."""
    n, h, w, _ = x.shape
    padded = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    out = np.empty_like(x)
    for i in range(n):
        top, left = rng.integers(0, 2 * pad + 1, size=2)
        img = padded[i, top:top + h, left:left + w]
        out[i] = img[:, ::-1] if rng.random() < 0.5 else img
    return out


def fresh_batches(npz: str, n_archs: int, size: int, seed: int):
    """One augmented labelled batch per architecture, drawn in order from one generator."""
    images = load_sample("cifar10", npz)
    pool = np.flatnonzero(images.y >= 0)
    rng = np.random.default_rng(seed)
    for _ in range(n_archs):
        chosen = rng.choice(pool, size=size, replace=False)
        x = normalise(crop_and_flip(images.x[chosen], rng), "cifar10")
        yield torch.as_tensor(x), torch.as_tensor(images.y[chosen].astype(np.int64))


def gradsign_values(archs: list[str], batches, batch_size: int) -> list[float]:
    protocol = Protocol(batch_size=batch_size, seed=0)
    values = []
    for arch, batch in zip(archs, batches, strict=True):
        (result,) = score_architecture("nb201", arch, "cifar10", batch, ["gradsign"], protocol)
        values.append(result.value)
    return values


# protocol -> batch size
ARMS = {"fixed-64": 64, "fixed-128": 128, "fresh-128-aug": 128}


def arm_batches(name: str, npz: str, n_archs: int):
    """The batch each architecture is scored on under protocol ``name`` (see the docstring)."""
    if name == "fresh-128-aug":
        return fresh_batches(npz, n_archs, ARMS[name], seed=42)
    return [tuple(map(torch.as_tensor, draw_batch(npz, "cifar10", ARMS[name], 0)))] * n_archs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", required=True, help="prepared cifar10 images (.npz)")
    parser.add_argument("--benchmark", required=True, help="data/benchmarks/nb201.parquet")
    parser.add_argument("--archs", type=int, default=100)
    parser.add_argument("--sample-seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--arms", nargs="+", choices=ARMS, default=list(ARMS))
    parser.add_argument("--out", help="CSV of every architecture's value per arm")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    archs = sample_architectures("nb201", args.archs, args.sample_seed)  # modern-cifar10's
    table = pd.read_parquet(args.benchmark)
    rows = table[table["dataset"] == "cifar10"].set_index("arch").loc[archs]
    report, values = {}, {}
    for name in args.arms:
        values[name] = np.asarray(gradsign_values(archs, arm_batches(name, args.images, len(archs)),
                                                  ARMS[name]))
        report[name] = {}
        for key in ("test_acc", "valid_acc"):
            rho, low, high = bootstrap_correlation(values[name], rows[key].to_numpy(), "spearman")
            report[name][key] = {"spearman": round(rho, 3), "ci95": [round(low, 3), round(high, 3)]}
        print(name, report[name], flush=True)
    if args.out:
        pd.DataFrame(values, index=pd.Index(archs, name="arch")).to_csv(args.out)
    print(json.dumps({"archs": len(archs), "sample_seed": args.sample_seed, **report}, indent=1))


if __name__ == "__main__":
    main()
