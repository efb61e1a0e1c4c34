"""Workflow glue commands: configuration check, architecture sampling, merging of shards."""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

log = logging.getLogger(__name__)

SHARD_PATTERN = "shard-{:04d}.txt"


def sample_architectures(space: str, n_archs: int | str, seed: int) -> list[str]:
    """A seeded random sample of ``n_archs`` architectures of ``space`` (all when "all").

    The sample depends only on (space, n, seed), so every data set and scoring seed of an
    experiment scores the same architectures, and growing an experiment keeps no promise
    beyond that: a different n is a different sample.
    """
    from zeroshot_nas.spaces import all_archs

    archs = all_archs(space)
    if n_archs == "all":
        return list(archs)
    n = int(n_archs)
    if not 1 <= n <= len(archs):
        raise ValueError(f"n_archs must be between 1 and {len(archs)} for {space}, got {n}")
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(archs), size=n, replace=False)
    return [archs[i] for i in chosen]


def write_shards(archs: list[str], shard_size: int, out_dir: Path) -> list[Path]:
    """Write ``archs`` as shard files of ``shard_size`` lines (and ``archs.txt`` with all)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in out_dir.glob("shard-*.txt"):
        stale.unlink()
    paths = []
    for start in range(0, len(archs), shard_size):
        path = out_dir / SHARD_PATTERN.format(start // shard_size)
        path.write_text("\n".join(archs[start : start + shard_size]) + "\n", encoding="utf-8")
        paths.append(path)
    (out_dir / "archs.txt").write_text("\n".join(archs) + "\n", encoding="utf-8")
    return paths


def merge_scores(shards: list[Path], benchmark: Path | None, out: Path) -> pd.DataFrame:
    """Concatenate shard score tables and join the benchmark columns on (arch, dataset)."""
    if not shards:
        raise ValueError("merge-scores: no shard files given")
    frames = [pd.read_parquet(p) for p in shards]
    scores = pd.concat(frames, ignore_index=True)
    key = ["space", "arch", "dataset", "seed", "score"]
    dup = scores.duplicated(key)
    if dup.any():
        example = scores.loc[dup, key].iloc[0].to_dict()
        raise ValueError(f"merge-scores: {int(dup.sum())} duplicated score rows, e.g. {example}")
    if benchmark is not None:
        table = pd.read_parquet(benchmark)
        bench_cols = [c for c in table.columns if c not in scores.columns or c in ("arch", "dataset")]
        scores = scores.merge(table[bench_cols], on=["arch", "dataset"], how="left")
        missing = scores["test_acc"].isna() & scores["space"].eq("nb201")
        if missing.any():
            raise ValueError(
                f"merge-scores: {int(missing.sum())} rows have no benchmark entry, e.g. "
                f"{scores.loc[missing, 'arch'].iloc[0]!r}"
            )
    status_counts = scores.groupby(["score", "status"]).size()
    not_ok = status_counts.drop(index="ok", level="status", errors="ignore")
    for (score, status), count in not_ok.items():
        log.warning("score %s: %d value(s) with status %s (kept, never dropped)", score, count, status)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    scores.to_parquet(tmp, index=False)
    os.replace(tmp, out)
    log.info("merged %d rows from %d shards into %s", len(scores), len(shards), out)
    return scores


def _cmd_sample(args: argparse.Namespace) -> int:
    n = args.n if args.n == "all" else int(args.n)
    archs = sample_architectures(args.space, n, args.seed)
    paths = write_shards(archs, args.shard_size, Path(args.out_dir))
    log.info("sampled %d %s architectures into %d shards", len(archs), args.space, len(paths))
    return 0


def _cmd_merge(args: argparse.Namespace) -> int:
    merge_scores(
        [Path(p) for p in args.shards],
        Path(args.benchmark) if args.benchmark else None,
        Path(args.out),
    )
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from zeroshot_nas.config import validate_config

    with open(args.configfile, encoding="utf-8") as handle:
        config = yaml.safe_load(handle) or {}
    resolved = validate_config(config, args.schema)
    if args.print:
        print(yaml.safe_dump(resolved, sort_keys=False))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("sample-archs", help="seeded architecture sample, written as shards")
    p.add_argument("--space", default="nb201", choices=["nb201", "nats_sss"])
    p.add_argument("--n", required=True, help="number of architectures or 'all'")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--shard-size", type=int, required=True)
    p.add_argument("--out-dir", required=True)
    p.set_defaults(func=_cmd_sample)

    p = subparsers.add_parser("merge-scores", help="merge shard tables with the benchmark")
    p.add_argument("--shards", nargs="+", required=True)
    p.add_argument("--benchmark", default=None)
    p.add_argument("--out", required=True)
    p.set_defaults(func=_cmd_merge)

    p = subparsers.add_parser("validate-config", help="validate a workflow config file")
    p.add_argument("configfile")
    p.add_argument("--schema", default=None)
    p.add_argument("--print", action="store_true", help="print the config with defaults")
    p.set_defaults(func=_cmd_validate)
