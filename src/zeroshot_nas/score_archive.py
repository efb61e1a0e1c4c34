"""Score archives: a score cache packed into one Parquet file, and unpacked into another cache.

A long run (rb-cpu: tens of CPU hours) outlives the machine it started on, and a score
computed once is worth sharing: ``cache-export`` packs every entry of a cache (optionally
only those not already in earlier archives, so successive parts never repeat a score) into
one table, ``cache-import`` writes them back into a cache folder, where the run finds them as
if it had computed them.

Nothing is trusted for being in an archive: each row names its cache folder, and the folder
must be the one its recorded identity (protocol key, space, data set, seed, batch digest)
gives; each entry must be well formed and match the checksum it was sealed with in its
first cache. The entry's definition travels with it, so the run still serves it only where
the score's version, the engine's and the numerics environment are its own
(:meth:`ScoreCache.usable`): an archive made with another torch build or CPU kernels is
imported but recomputed over. An intact entry already in the cache is never replaced.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from . import io
from .errors import UserError
from .score_cache import (
    ENTRY_FIELDS,
    ScoreCache,
    entry_checksum,
    entry_problem,
    file_problem,
    folder_parts,
    is_number,
)

log = logging.getLogger(__name__)

HEADER = ("folder", "arch_id", "arch", "space", "dataset", "seed", "batch", "protocol")
COLUMNS = (*HEADER, "written", "mode", "score", "value", "status", "seconds", "extra",
           "definition", "checksum")
_JSON_FIELDS = ("protocol", "extra", "definition")
_NAME = re.compile(r"[A-Za-z0-9_.+-]+")
_ROW_KEY = ("folder", "arch_id", "mode", "score", "checksum")
_WARNINGS_SHOWN = 5  # then only the count: one bad archive must not flood the log


def _folder_of(header: dict[str, Any]) -> str:
    """The cache folder (relative, POSIX) a file of this identity belongs in."""
    key = (header["protocol"] or {}).get("key") if isinstance(header["protocol"], dict) else None
    parts = folder_parts(key, header["space"], header["dataset"], header["seed"],
                         header["batch"])
    if not all(isinstance(p, str) and _NAME.fullmatch(p) and p not in (".", "..")
               for p in parts):
        raise ValueError(f"its identity {parts} does not name a cache folder")
    return "/".join(parts)


def _cache_files(cache_dir: Path) -> Iterator[Path]:
    yield from sorted(cache_dir.glob("*/*/*/seed*/batch-*/*.json"))


def _file_rows(path: Path, cache_dir: Path) -> list[dict[str, Any]]:
    """The archive rows of one cache file (none, with a warning, if it is not a sound one)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        problem = file_problem(data)
        if problem is None and _folder_of(data) != path.parent.relative_to(cache_dir).as_posix():
            problem = "its recorded identity is not its folder's"
        if problem is None and data.get("arch_id") != path.stem:
            problem = "it records another architecture"
    except (OSError, ValueError, KeyError, TypeError) as err:
        problem = f"{type(err).__name__}: {err}"
    if problem is not None:
        log.warning("%s is left out of the archive: %s", path, problem)
        return []
    header = {k: data[k] for k in HEADER if k != "folder"} | {
        "folder": path.parent.relative_to(cache_dir).as_posix(),
        "written": path.stat().st_mtime}
    return [header | {"mode": mode, "score": name}
            | {k: entry.get(k) for k in (*ENTRY_FIELDS, "checksum")}
            for mode, entries in sorted(data["modes"].items())
            for name, entry in sorted(entries.items())
            if isinstance(entry, dict)]  # anything else the cache itself recomputes


def _archived_keys(paths: Iterable[str | Path]) -> set[tuple]:
    keys: set[tuple] = set()
    for path in paths:
        table = read_archive(path)
        keys.update(table[list(_ROW_KEY)].itertuples(index=False, name=None))
    return keys


def export_archive(cache_dir: str | Path, out: str | Path,
                   exclude: Iterable[str | Path] = ()) -> int:
    """Pack every entry of ``cache_dir`` not already in the ``exclude`` archives into ``out``
    (Parquet); the number of entries written."""
    cache_dir = Path(cache_dir)
    if not cache_dir.is_dir():
        raise UserError(f"score cache folder {cache_dir} does not exist")
    known = _archived_keys(exclude)
    rows = [row for path in _cache_files(cache_dir) for row in _file_rows(path, cache_dir)
            if tuple(row[k] for k in _ROW_KEY) not in known]
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    for field in _JSON_FIELDS:
        table[field] = [json.dumps(v, sort_keys=True) for v in table[field]]
    table["value"] = table["value"].astype("float64")
    io.atomic_write(out, lambda tmp: table.to_parquet(tmp, index=False, compression="zstd"))
    return len(table)


def read_archive(path: str | Path) -> pd.DataFrame:
    """An archive's rows, its JSON fields decoded; a clear error for a file that is not one."""
    try:
        table = pd.read_parquet(path)
    except (OSError, ValueError) as err:
        raise UserError(f"score archive {path} cannot be read: {err}") from None
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise UserError(f"score archive {path} is not a score archive: it lacks the "
                        f"column(s) {missing}")
    try:
        for field in _JSON_FIELDS:
            table[field] = [json.loads(v) for v in table[field]]
    except (TypeError, ValueError) as err:
        raise UserError(f"score archive {path}: a {field} cell is not JSON ({err})") from None
    # object dtype: a non-finite score is stored as None (its status says which), as in a cache
    table["value"] = pd.Series([None if pd.isna(v) else float(v) for v in table["value"]],
                               index=table.index, dtype=object)
    table["seed"] = pd.Series([int(s) for s in table["seed"]], index=table.index, dtype=object)
    return table


@dataclass
class ImportCounts:
    added: int = 0
    kept: int = 0
    rejected: int = 0


def _row_problem(row: dict[str, Any]) -> str | None:
    try:
        if _folder_of(row) != row["folder"]:
            return f"its folder {row['folder']!r} is not the one its identity names"
    except (ValueError, KeyError, TypeError) as err:
        return str(err)
    if not isinstance(row["arch_id"], str) or not _NAME.fullmatch(row["arch_id"]):
        return f"architecture id {row['arch_id']!r} is not a file name"
    if not is_number(row["written"]) or row["written"] < 0:
        return f"its time written {row['written']!r} is not a time"
    entry = {k: row[k] for k in (*ENTRY_FIELDS, "checksum")}
    problem = entry_problem(entry)
    if problem is None and entry["checksum"] != entry_checksum(entry, _owner(row)):
        problem = "it does not match its checksum"
    return problem


def _owner(row: dict[str, Any]) -> dict[str, Any]:
    return {"space": row["space"], "dataset": row["dataset"], "seed": row["seed"],
            "protocol_key": row["protocol"]["key"], "batch": row["batch"],
            "arch_id": row["arch_id"]}


def _import_file(cache_dir: Path, rows: list[dict[str, Any]], counts: ImportCounts) -> None:
    """Add one architecture file's archived entries to the cache, per mode."""
    first = rows[0]
    identity = {k: v for k, v in _owner(first).items() if k != "arch_id"}
    protocol = {k: v for k, v in first["protocol"].items() if k != "key"}
    cache = ScoreCache(cache_dir / first["folder"], identity, protocol=protocol)
    new_file = not cache.path(first["arch_id"]).exists()
    for mode in sorted({r["mode"] for r in rows}):
        entries = {r["score"]: {k: r[k] for k in ENTRY_FIELDS}
                   for r in rows if r["mode"] == mode}
        added = cache.merge(first["arch_id"], first["arch"], mode, entries,
                            keep_intact=True)
        counts.added += added
        counts.kept += len(entries) - added
    if new_file:
        # when it was scored, not when it was imported: `progress` reads its pace from this
        os.utime(cache.path(first["arch_id"]), (first["written"], first["written"]))


def import_archive(paths: Iterable[str | Path], cache_dir: str | Path) -> ImportCounts:
    """Write the entries of the archives ``paths`` into ``cache_dir``; what was added, what
    was already there (kept) and what was rejected (logged with the reason)."""
    cache_dir, counts = Path(cache_dir), ImportCounts()
    for path in paths:
        table = read_archive(path)
        by_file: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for row in table.to_dict("records"):
            problem = _row_problem(row)
            if problem is not None:
                counts.rejected += 1
                if counts.rejected <= _WARNINGS_SHOWN:
                    log.warning("%s: entry %s of %s/%s is not imported: %s", path,
                                row.get("score"), row.get("folder"), row.get("arch_id"), problem)
                continue
            by_file.setdefault((row["folder"], row["arch_id"]), []).append(row)
        for rows in by_file.values():
            _import_file(cache_dir, rows, counts)
    if counts.rejected > _WARNINGS_SHOWN:
        log.warning("%d entries in all were not imported (the first %d are shown above)",
                    counts.rejected, _WARNINGS_SHOWN)
    return counts
