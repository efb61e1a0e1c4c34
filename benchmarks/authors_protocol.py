"""Protocol study: a score under its authors' initialisation and input against the pipeline's
protocol (``--score vkdnw``: why ``vkdnw_single`` sits below VKDNW's printed NB201 Spearman and
``vkdnw``'s entropy alone carries no signal in the pipeline; ``--score az_nas``: the same two
differences in AZ-NAS's code).

VKDNW's ``compute_nas_score`` (ondratybl/VKDNW@6901b65, ``NB201/ZeroShotProxy/
compute_vkdnw_score.py``) re-initialises the network itself (``init_model(model,
'kaiming_norm_fanin')``: Kaiming normal, fan_in, on Conv2d/Linear weights) and, as their NB201
script runs it (``tss_general_.py``: vkdnw is not among its ``real_input_metrics``), scores a
batch of Gaussian noise ``torch.randn(batch, 3, H, W)``. The pipeline scores the protocol's
network (PyTorch's default init) on the real batch. This script scores the same architectures
under the four combinations, one initialisation each (seed 0), batch 64, on ``--dataset``.
AZ-NAS's ``compute_az_nas_score`` (cvlab-yonsei/AZ-NAS@5e6683a) does the same (Kaiming normal
fan_in re-initialisation, Gaussian input):

* ``default/real``: the pipeline's protocol;
* ``kaiming/real``: ``Protocol(init="kaiming", kaiming_mode="fan_in")``, the real batch;
* ``default/gaussian`` and ``kaiming/gaussian``: a standard normal batch of the same shape
  (``torch.Generator`` seed 0) instead of the images, as their script.

It prints Spearman's rho with test accuracy, each with a 95% paired percentile bootstrap
interval and its difference from ``default/real`` on the same resamples: for vkdnw of
``vkdnw`` (the entropy) and ``vkdnw_single`` (the number of parameter tensors, ties broken by
the entropy), and the entropy's mean Spearman within groups of equal tensor count (what breaks
the ties); for az_nas of its three parts and of ``az_nas`` (their log-rank sum with FLOPs over
the architectures scored, as the pipeline's statistics compute it).

    python benchmarks/authors_protocol.py --score vkdnw --dataset cifar10 \\
        --images data/images/cifar10.npz --benchmark data/benchmarks/nb201.parquet --archs 100

A study, not a test: it prints numbers and asserts nothing.
"""

from __future__ import annotations

import argparse
import math

import numpy as np
import pandas as pd
import torch
from scipy import stats

from zeroshot_nas.data.images import draw_batch
from zeroshot_nas.proxies import Protocol
from zeroshot_nas.proxies.runner import score_architecture
from zeroshot_nas.spaces.sampling import sample_architectures
from zeroshot_nas.stats.bootstrap import rank_correlation_rows
from zeroshot_nas.stats.core import log_rank_sum

# arm -> (init, input)
ARMS = {"default/real": ("default", "real"), "kaiming/real": ("kaiming", "real"),
        "default/gaussian": ("default", "gaussian"), "kaiming/gaussian": ("kaiming", "gaussian")}
# study -> the registered scores it computes
SCORED = {"vkdnw": ("vkdnw", "vkdnw_single"),
          "az_nas": ("az_expressivity", "az_progressivity", "az_trainability", "flops")}


def arm_values(archs: list[str], arm: str, study: str, dataset: str, images: str) -> pd.DataFrame:
    """The study's scores of every architecture under ``arm``, one row per architecture; for
    az_nas also ``az_nas``, the log-rank sum of the parts and FLOPs over these architectures."""
    init, source = ARMS[arm]
    x, y = (torch.as_tensor(a) for a in draw_batch(images, dataset, 64, 0, labelled=True))
    if source == "gaussian":
        x = torch.randn(x.shape, generator=torch.Generator().manual_seed(0))
    protocol = Protocol(batch_size=64, seed=0, init=init, kaiming_mode="fan_in")
    rows = []
    for arch in archs:
        result = score_architecture("nb201", arch, dataset, (x, y), list(SCORED[study]), protocol)
        row = {r.score: r.value for r in result}
        if "vkdnw_single" in row:
            (single,) = (r for r in result if r.score == "vkdnw_single")
            row["parameter_tensors"] = single.extra["parameter_tensors"]
        rows.append(row)
    frame = pd.DataFrame(rows, index=pd.Index(archs, name="arch"))
    if study == "az_nas":
        parts = frame[list(SCORED["az_nas"])].to_numpy(dtype=float)
        frame["az_nas"] = log_rank_sum(parts, [True] * parts.shape[1])
    return frame


def paired_spearman(values: dict[str, np.ndarray], target: np.ndarray, reference: str,
                    resamples: int = 1000) -> dict[str, tuple[float, ...]]:
    """Per arm: (rho, low, high, rho − reference's rho, its low, its high), the intervals from
    the same 95% percentile bootstrap resamples of the architectures for every arm."""
    idx = np.random.default_rng(0).integers(0, len(target), size=(resamples, len(target)))
    full = {arm: float(rank_correlation_rows(v[None, :], target[None, :], "spearman")[0])
            for arm, v in values.items()}
    boot = {arm: rank_correlation_rows(v[idx], target[idx], "spearman")
            for arm, v in values.items()}
    return {arm: (full[arm], *np.nanpercentile(boot[arm], [2.5, 97.5]),
                  full[arm] - full[reference],
                  *np.nanpercentile(boot[arm] - boot[reference], [2.5, 97.5]))
            for arm in values}


def within_tensor_counts(entropy: np.ndarray, tensors: np.ndarray, target: np.ndarray,
                         smallest: int = 8) -> tuple[float, int]:
    """Mean Spearman of the entropy with the target inside each group of equal tensor count
    (groups of at least ``smallest``), and the number of groups."""
    rhos = [stats.spearmanr(entropy[tensors == t], target[tensors == t])[0]
            for t in np.unique(tensors) if (tensors == t).sum() >= smallest]
    return (float(np.nanmean(rhos)) if rhos else math.nan), len(rhos)


def print_spearman(frames: dict[str, pd.DataFrame], columns: list[str],
                   target: np.ndarray) -> None:
    for score in columns:
        values = {arm: f[score].to_numpy(dtype=float) for arm, f in frames.items()}
        for arm, (r, lo, hi, d, dlo, dhi) in paired_spearman(values, target,
                                                             "default/real").items():
            print(f"{score:16s} {arm:17s} rho {r:.3f} [{lo:.3f}, {hi:.3f}]"
                  f"  minus default/real {d:+.3f} [{dlo:+.3f}, {dhi:+.3f}]")


def print_ties(frames: dict[str, pd.DataFrame], target: np.ndarray) -> None:
    tensors = frames["default/real"]["parameter_tensors"].to_numpy()
    print(f"the tensor count alone: rho {stats.spearmanr(tensors, target)[0]:.3f}")
    for arm, f in frames.items():
        mean, groups = within_tensor_counts(f["vkdnw"].to_numpy(dtype=float), tensors, target)
        print(f"entropy within equal tensor counts, {arm}: mean rho {mean:.3f} "
              f"({groups} groups of 8 or more)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--score", choices=SCORED, default="vkdnw")
    parser.add_argument("--dataset", default="cifar10",
                        choices=["cifar10", "cifar100", "ImageNet16-120"])
    parser.add_argument("--images", required=True, help="the data set's prepared images (.npz)")
    parser.add_argument("--benchmark", required=True, help="data/benchmarks/nb201.parquet")
    parser.add_argument("--archs", type=int, default=100)
    parser.add_argument("--sample-seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", help="CSV of every architecture's values per arm")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    archs = sample_architectures("nb201", args.archs, args.sample_seed)  # modern-cifar10's
    table = pd.read_parquet(args.benchmark)
    target = table[table["dataset"] == args.dataset].set_index("arch").loc[archs, "test_acc"]
    frames = {arm: arm_values(archs, arm, args.score, args.dataset, args.images) for arm in ARMS}
    if args.out:
        pd.concat(frames, axis=1).to_csv(args.out)
    print(f"{len(archs)} architectures (sample seed {args.sample_seed}), {args.dataset} "
          "test accuracy")
    columns = [c for c in frames["default/real"].columns if c not in ("flops", "parameter_tensors")]
    print_spearman(frames, columns, target.to_numpy())
    if args.score == "vkdnw":
        print_ties(frames, target.to_numpy())


if __name__ == "__main__":
    main()
