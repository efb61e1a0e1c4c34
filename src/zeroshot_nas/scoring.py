"""Score many architectures with a resumable per-architecture cache and a long Parquet table.

Cache layout: ``cache_dir/<protocol key>/<space>/<dataset>/seed<seed>/<arch_id>.json``, one
file per architecture, written atomically after the architecture is done. A killed job
loses at most the architecture in flight; a rerun with more proxies (or another seed)
computes only what is missing; a changed protocol lands in another key folder.
"""

from __future__ import annotations

import json
import logging
import math
import os
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from tqdm import tqdm

from zeroshot_nas import spaces
from zeroshot_nas.proxies import Protocol, resolve_names
from zeroshot_nas.proxies.numerics import resolve_device
from zeroshot_nas.proxies.runner import MODES, score_architecture

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
]
_NONFINITE = {"nan": math.nan, "+inf": math.inf, "-inf": -math.inf, "error": math.nan}


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file in the same folder, fsync, rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def cache_path(cache_dir: Path, protocol: Protocol, space: str, dataset: str, arch_id: str) -> Path:
    """Where one architecture's scores under ``protocol`` are cached."""
    return (
        Path(cache_dir)
        / protocol.key()
        / space
        / dataset
        / f"seed{protocol.seed}"
        / f"{arch_id}.json"
    )


def _load_cache(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        # Only atomic renames write here, so a broken file was edited by hand: refuse to guess.
        raise RuntimeError(f"corrupt score cache file {path}: {err}") from err


def _entry(value: float, status: str, seconds: float, extra: dict[str, Any]) -> dict[str, Any]:
    # Strict JSON has no NaN/inf: non-finite values are stored as null and rebuilt from status.
    return {
        "value": value if math.isfinite(value) else None,
        "status": status,
        "seconds": seconds,
        "extra": extra,
    }


def _value(entry: dict[str, Any]) -> float:
    if entry["value"] is None:
        return _NONFINITE[entry["status"]]
    return float(entry["value"])


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
) -> pd.DataFrame:
    """Score ``archs`` with ``names`` and write the long table to ``out_parquet``.

    ``seed`` overrides ``protocol.seed`` (it fixes init, batch and noise). One labelled batch
    (``draw_batch(images_npz, dataset, batch_size, seed, labelled=True)``) serves every
    architecture and score of the run. Returns the table (also when ``out_parquet`` is None).
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    names = resolve_names(names)
    protocol = replace(protocol, seed=int(seed))
    canonical = [spaces.parse_arch(space, a) for a in archs]
    if len(set(canonical)) != len(canonical):
        raise ValueError("the architecture list contains duplicates")
    images_npz = Path(images_npz)
    if not images_npz.exists():
        raise FileNotFoundError(f"image file {images_npz} does not exist")
    from zeroshot_nas.data.images import draw_batch

    x, y = draw_batch(images_npz, dataset, protocol.batch_size, protocol.seed, labelled=True)
    batch = (torch.as_tensor(x), torch.as_tensor(y))
    device = resolve_device(protocol.device)
    key = protocol.key()
    rows: list[dict[str, Any]] = []
    computed = cached = 0
    bar = tqdm(
        canonical,
        desc=f"score {space}/{dataset}/seed{seed}",
        unit="arch",
        file=sys.stderr,
        disable=not progress,
        mininterval=5.0,
        dynamic_ncols=True,
    )
    for arch in bar:
        ident = spaces.arch_id(space, arch)
        path = cache_path(Path(cache_dir), protocol, space, dataset, ident)
        data = _load_cache(path)
        have = data.setdefault("modes", {}).setdefault(mode, {})
        missing = [n for n in names if n not in have]
        if missing:
            results = score_architecture(space, arch, dataset, batch, missing, protocol, mode)
            for r in results:
                have[r.score] = _entry(r.value, r.status, r.seconds, r.extra)
            data.update(
                {
                    "arch": arch,
                    "arch_id": ident,
                    "space": space,
                    "dataset": dataset,
                    "seed": protocol.seed,
                    "protocol": protocol.__dict__ | {"key": key},
                }
            )
            atomic_write_text(path, json.dumps(data, sort_keys=True))
            computed += 1
        else:
            cached += 1
        bar.set_postfix(computed=computed, cached=cached, refresh=False)
        for name in names:
            e = have[name]
            rows.append(
                {
                    "space": space,
                    "arch": arch,
                    "arch_id": ident,
                    "dataset": dataset,
                    "seed": protocol.seed,
                    "score": name,
                    "value": _value(e),
                    "status": e["status"],
                    "seconds": float(e["seconds"]),
                    "mode": mode,
                    "batch_size": protocol.batch_size,
                    "bn_mode": protocol.bn_mode,
                    "dtype": protocol.dtype,
                    "init": protocol.init,
                    "device": device.type,
                    "protocol_key": key,
                    "extra": json.dumps(e["extra"], sort_keys=True),
                }
            )
    bar.close()
    table = pd.DataFrame(rows, columns=COLUMNS)
    counts = Counter(zip(table["score"], table["status"], strict=True))
    bad = {f"{s}:{st}": n for (s, st), n in sorted(counts.items()) if st != "ok"}
    log.info(
        "scored %d archs (%d computed, %d from cache); non-ok statuses: %s",
        len(canonical),
        computed,
        cached,
        bad or "none",
    )
    if out_parquet is not None:
        out = Path(out_parquet)
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
        os.close(fd)
        try:
            table.to_parquet(tmp, index=False)
            os.replace(tmp, out)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    table.attrs["computed"] = computed
    table.attrs["cached"] = cached
    return table
