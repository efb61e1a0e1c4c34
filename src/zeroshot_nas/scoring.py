"""Score many architectures with a resumable per-architecture cache and a long Parquet table.

The cache (:mod:`zeroshot_nas.score_cache`) is written after each architecture, so a killed
job loses at most the architecture in flight; a rerun with more proxies (or another seed)
computes only what is missing; a changed protocol, batch of images, score definition or
numerics environment computes anew.
"""

from __future__ import annotations

import json
import logging
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from tqdm import tqdm

from zeroshot_nas import io, spaces
from zeroshot_nas.proxies import Protocol, resolve_names
from zeroshot_nas.proxies.numerics import numerics_environment, resolve_device, torch_threads
from zeroshot_nas.proxies.registry import defined_on, definitions
from zeroshot_nas.proxies.runner import MODES, score_architecture
from zeroshot_nas.score_cache import (
    NUMERICS_POLICIES,
    ScoreCache,
    batch_digest,
    entry_value,
    folder_parts,
    make_entry,
)

log = logging.getLogger(__name__)

COLUMNS = [
    "space",
    "arch",
    "arch_id",
    "dataset",
    "seed",
    "score",
    "value",
    "status",
    "seconds",
    "mode",
    "batch_size",
    "bn_mode",
    "dtype",
    "init",
    "device",
    "protocol_key",
    "extra",
    "numerics",
]


def cache_folder(cache_dir: str | Path, protocol: Protocol, space: str, dataset: str,
                 digest: str) -> Path:
    """The cache folder of one protocol, space, data set, seed and batch (see score_cache)."""
    return Path(cache_dir).joinpath(*folder_parts(protocol.key(), space, dataset,
                                                  protocol.seed, digest))


def definition(name: str, numerics: str) -> dict[str, Any]:
    """What a cached value of ``name`` was computed with: its score and engine versions and
    the numerics environment (``numerics_environment``: torch build and kernels)."""
    return definitions([name])[name] | {"numerics": numerics}


def score_archs(
    space: str,
    dataset: str,
    seed: int,
    archs: Sequence[str],
    names: Sequence[str] | str,
    protocol: Protocol,
    images_npz: str | Path,
    cache_dir: str | Path,
    out_parquet: str | Path | None,
    mode: str = "fused",
    progress: bool = True,
    cache_numerics: str = "exact",
) -> pd.DataFrame:
    """Score ``archs`` with ``names`` and write the long table to ``out_parquet``.

    ``seed`` overrides ``protocol.seed`` (it fixes init, batch and noise). One labelled batch
    (``draw_batch(images_npz, dataset, batch_size, seed, labelled=True)``) serves every
    architecture and score of the run, computed with ``protocol.threads`` torch threads.
    ``cache_numerics`` says which cached entries of another numerics environment are served
    (``score_cache.reusable_numerics``); each row's ``numerics`` is where its value was
    computed. Returns the table (also when ``out_parquet`` is None).
    """
    _check_options(mode, cache_numerics)
    names = defined_names(resolve_names(names), space)
    protocol = replace(protocol, seed=int(seed))
    canonical = _canonical_archs(space, archs)
    batch, cache = run_batch(images_npz, space, dataset, protocol, cache_dir)
    numerics = numerics_environment(resolve_device(protocol.device))
    rows: list[dict[str, Any]] = []
    computed = cached = 0
    bar = tqdm(canonical, desc=f"score {space}/{dataset}/seed{seed}", unit="arch",
               file=sys.stderr, disable=not progress, mininterval=5.0, dynamic_ncols=True)
    with torch_threads(protocol.threads):
        for arch in bar:
            ident = spaces.arch_id(space, arch)
            entries = cached_entries(cache, ident, mode, names, numerics, cache_numerics)
            missing = [n for n in names if n not in entries]
            if missing:
                fresh = {r.score: make_entry(r.value, r.status, r.seconds, r.extra,
                                             definition(r.score, numerics))
                         for r in score_architecture(space, arch, dataset, batch, missing,
                                                     protocol, mode)}
                cache.merge(ident, arch, mode, fresh)
                entries.update(fresh)
                computed += 1
            else:
                cached += 1
            bar.set_postfix(computed=computed, cached=cached, refresh=False)
            rows += [_row(space, arch, ident, dataset, name, entries[name], mode, protocol)
                     for name in names]
    bar.close()
    table = pd.DataFrame(rows, columns=COLUMNS)
    _log_statuses(table, len(canonical), computed, cached)
    _log_foreign_numerics(table, numerics)
    if out_parquet is not None:
        io.write_parquet(out_parquet, table)
    table.attrs["computed"] = computed
    table.attrs["cached"] = cached
    return table


def _check_options(mode: str, cache_numerics: str) -> None:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if cache_numerics not in NUMERICS_POLICIES:
        raise ValueError(f"cache numerics policy must be one of {NUMERICS_POLICIES}, "
                         f"got {cache_numerics!r}")


def _canonical_archs(space: str, archs: Sequence[str]) -> list[str]:
    canonical = [spaces.parse_arch(space, a) for a in archs]
    if len(set(canonical)) != len(canonical):
        raise ValueError("the architecture list contains duplicates")
    return canonical


def defined_names(names: list[str], space: str) -> list[str]:
    """``names`` if every score is defined on ``space``'s networks, else ValueError."""
    undefined = [n for n in names if not defined_on(n, space)]
    if undefined:
        raise ValueError(f"score(s) {', '.join(undefined)} are not defined on {space} networks "
                         "(they read an NB201-style cell description)")
    return names


def run_batch(images_npz: str | Path, space: str, dataset: str, protocol: Protocol,
              cache_dir: str | Path) -> tuple[tuple[torch.Tensor, torch.Tensor], ScoreCache]:
    """The run's one labelled batch and the cache folder of exactly that batch."""
    from zeroshot_nas.data.images import draw_batch

    images_npz = Path(images_npz)
    if not images_npz.exists():
        raise FileNotFoundError(f"image file {images_npz} does not exist")
    x, y = draw_batch(images_npz, dataset, protocol.batch_size, protocol.seed, labelled=True)
    digest = batch_digest(x, y)
    identity = {"space": space, "dataset": dataset, "seed": protocol.seed,
                "protocol_key": protocol.key(), "batch": digest}
    cache = ScoreCache(cache_folder(cache_dir, protocol, space, dataset, digest), identity,
                       protocol=protocol.__dict__)
    return (torch.as_tensor(x), torch.as_tensor(y)), cache


def cached_entries(cache: ScoreCache, arch_id: str, mode: str, names: list[str],
                   numerics: str, policy: str = "exact") -> dict[str, dict[str, Any]]:
    """The usable cached entries of ``names`` (see :meth:`ScoreCache.usable`)."""
    data = cache.load(arch_id)
    usable = {name: cache.usable(data, arch_id, mode, name, definition(name, numerics), policy)
              for name in names}
    return {name: entry for name, entry in usable.items() if entry is not None}


def _row(space: str, arch: str, ident: str, dataset: str, name: str, entry: dict[str, Any],
         mode: str, protocol: Protocol) -> dict[str, Any]:
    return {
        "space": space,
        "arch": arch,
        "arch_id": ident,
        "dataset": dataset,
        "seed": protocol.seed,
        "score": name,
        "value": entry_value(entry),
        "status": entry["status"],
        "seconds": float(entry["seconds"]),
        "mode": mode,
        "batch_size": protocol.batch_size,
        "bn_mode": protocol.bn_mode,
        "dtype": protocol.dtype,
        "init": protocol.init,
        "device": resolve_device(protocol.device).type,
        "protocol_key": protocol.key(),
        "extra": json.dumps(entry["extra"], sort_keys=True),
        "numerics": entry["definition"]["numerics"],
    }


def _log_statuses(table: pd.DataFrame, n_archs: int, computed: int, cached: int) -> None:
    counts = Counter(zip(table["score"], table["status"], strict=True))
    bad = {f"{s}:{st}": n for (s, st), n in sorted(counts.items()) if st != "ok"}
    log.info("scored %d archs (%d computed, %d from cache); non-ok statuses: %s",
             n_archs, computed, cached, bad or "none")


def _log_foreign_numerics(table: pd.DataFrame, here: str) -> None:
    foreign = table.loc[table["numerics"] != here, "numerics"].value_counts()
    for where, n in foreign.items():
        log.warning("%d value(s) served from the cache were computed with %s, not %s "
                    "(cache_numerics: any-cpu); they may differ from this machine's in the last "
                    "bits", n, where, here)


def merge_scores(shards: list[Path], benchmark: Path | None, out: Path) -> pd.DataFrame:
    """Concatenate shard score tables and join the benchmark columns on (arch, dataset)."""
    if not shards:
        raise ValueError("merge-scores: no shard files given")
    scores = pd.concat([pd.read_parquet(p) for p in shards], ignore_index=True)
    key = ["space", "arch", "dataset", "seed", "score"]
    dup = scores.duplicated(key)
    if dup.any():
        example = scores.loc[dup, key].iloc[0].to_dict()
        raise ValueError(f"merge-scores: {int(dup.sum())} duplicated score rows, e.g. {example}")
    if benchmark is not None:
        table = pd.read_parquet(benchmark)
        bench_cols = [c for c in table.columns if c not in scores.columns or c in ("arch", "dataset")]
        scores = scores.merge(table[bench_cols], on=["arch", "dataset"], how="left",
                              indicator="_in_benchmark")
        # The size space has no accuracies here; every other space's table covers its sample.
        missing = scores["_in_benchmark"].eq("left_only") & scores["space"].ne("nats_sss")
        scores = scores.drop(columns="_in_benchmark")
        if missing.any():
            raise ValueError(
                f"merge-scores: {int(missing.sum())} rows have no entry in {benchmark}, e.g. "
                f"{scores.loc[missing, 'arch'].iloc[0]!r}"
            )
    status_counts = scores.groupby(["score", "status"]).size()
    not_ok = status_counts.drop(index="ok", level="status", errors="ignore")
    for (score, status), count in not_ok.items():
        log.warning("score %s: %d value(s) with status %s (kept, never dropped)", score, count, status)
    io.write_parquet(out, scores)
    log.info("merged %d rows from %d shards into %s", len(scores), len(shards), out)
    return scores
