"""Workflow-level commands: ``validate-config``, ``sample-archs`` and ``progress``."""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import yaml

from zeroshot_nas.config import seed_argument
from zeroshot_nas.spaces import SPACES
from zeroshot_nas.spaces.sampling import SAMPLERS, UNIFORM

log = logging.getLogger(__name__)
RATE_WINDOW_S = 3600.0


def load_config(path: str | Path) -> dict:
    """A configuration file, validated, with every default filled in."""
    from zeroshot_nas.config import read_yaml, validate_config

    return validate_config(read_yaml(path))


def _cmd_validate(args: argparse.Namespace) -> int:
    resolved = load_config(args.configfile)
    if args.print:
        print(yaml.safe_dump(resolved, sort_keys=False))
    return 0


def _cmd_sample(args: argparse.Namespace) -> int:
    from zeroshot_nas import io
    from zeroshot_nas.spaces.sampling import sample_architectures

    n = args.n if args.n == "all" else int(args.n)
    archs = sample_architectures(args.space, n, args.seed, table=args.table,
                                 sampler=args.sampler)
    io.write_text(args.out, "\n".join(archs) + "\n")
    log.info("sampled %d %s architectures into %s", len(archs), args.space, args.out)
    return 0


def experiment_progress(config: dict, name: str, now: float | None = None) -> list[dict]:
    """Per data set and seed of one experiment: architectures whose every score is cached,
    out of the sample, the recent rate and the estimated time left."""
    from zeroshot_nas.config import experiment_proxies
    from zeroshot_nas.pipeline.plan import sample_settings
    from zeroshot_nas.proxies import Protocol
    from zeroshot_nas.proxies.numerics import numerics_environment, resolve_device
    from zeroshot_nas.scoring import cached_entries, run_batch
    from zeroshot_nas.spaces import arch_id
    from zeroshot_nas.spaces.sampling import sample_from_settings

    e = config["experiments"][name]
    now = time.time() if now is None else now
    archs = [arch_id(e["space"], a) for a in sample_from_settings(sample_settings(e))]
    names = experiment_proxies(e)
    rows = []
    for dataset in e["datasets"]:
        images = Path("data/images") / f"{dataset}.npz"
        for seed in e["seeds"]:
            row = {"experiment": name, "dataset": dataset, "seed": seed, "total": len(archs),
                   "done": 0, "per_hour": 0.0, "eta_hours": None}
            if images.exists():
                protocol = Protocol.from_experiment(e, seed=seed, device="cpu")
                _, cache = run_batch(images, e["space"], dataset, protocol, config["cache_dir"])
                numerics = numerics_environment(resolve_device(protocol.device))
                stamps = [cache.path(a).stat().st_mtime for a in archs
                          if len(cached_entries(cache, a, "fused", names, numerics))
                          == len(names)]
                recent = [t for t in stamps if now - t <= RATE_WINDOW_S]
                row["done"] = len(stamps)
                if len(recent) >= 2:
                    row["per_hour"] = len(recent) / max(now - min(recent), 1.0) * 3600.0
            left = row["total"] - row["done"]
            if row["per_hour"] > 0:
                row["eta_hours"] = left / row["per_hour"]
            rows.append(row)
    return rows


def _cmd_progress(args: argparse.Namespace) -> int:
    config = load_config(args.configfile)
    for name in config["experiments"]:
        for row in experiment_progress(config, name):
            eta = "—" if row["eta_hours"] is None else f"{row['eta_hours']:.1f} h"
            print(f"{row['experiment']} {row['dataset']:15s} seed {row['seed']}: "
                  f"{row['done']:6d} / {row['total']} architectures scored "
                  f"({row['per_hour']:.0f}/h in the last hour), time left {eta}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("validate-config", help="validate a workflow config file")
    p.add_argument("configfile")
    p.add_argument("--print", action="store_true", help="print the config with defaults")
    p.set_defaults(func=_cmd_validate)

    s = subparsers.add_parser("sample-archs", help="seeded architecture sample, one per line")
    s.add_argument("--space", default="nb201", choices=list(SPACES))
    s.add_argument("--table", choices=["mlfe", "naslib"], default=None,
                   help="nb101 only: the pinned table to sample from (default mlfe)")
    s.add_argument("--n", required=True, help="number of architectures or 'all'")
    s.add_argument("--seed", type=seed_argument, default=0)
    s.add_argument("--sampler", choices=list(SAMPLERS), default=UNIFORM,
                   help="nb201 only: rank-based-authors draws as the rank-based authors' "
                        "Table 1 script did (default uniform)")
    s.add_argument("--out", required=True, help="output file")
    s.set_defaults(func=_cmd_sample)

    g = subparsers.add_parser(
        "progress", help="how much of a configuration's scoring is cached, with an ETA",
        description="Counts, per experiment, data set and seed, the sampled architectures "
        "whose every score is cached, and estimates the time left from the last hour's rate. "
        "Run it from the project folder while (or after) the workflow runs.")
    g.add_argument("--configfile", default="config.yaml")
    g.set_defaults(func=_cmd_progress)
