"""The per-architecture score cache: never a stale value, never a lost one.

Layout: ``<cache_dir>/<protocol key>/<space>/<dataset>/seed<seed>/batch-<digest>/<arch_id>.json``.
The folder names everything a value depends on besides the code: the protocol (batch size,
BatchNorm mode, dtype, init, device, NTK sub-batch) and the exact images scored (the sha256
of the drawn batch, so another image file or source never reuses a score). Each entry
records the definition it was computed with (the score's ``version`` and the engine's
``ENGINE_VERSION``) and a checksum of its content: an entry of another definition, or one
whose content no longer matches its checksum (edited by hand), is recomputed, never served.

Writers merge: a job computes its missing scores without holding anything, then, under a
lock of the folder (``filelock``), re-reads the architecture's file, adds its entries and
replaces the file atomically. Two runs that share the cache therefore keep every score
whatever the interleaving. A file that cannot be read (truncated, not JSON, wrong shape) is
moved aside as ``<name>.corrupt-<time>`` with a warning and recomputed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
from filelock import FileLock

from . import io

log = logging.getLogger(__name__)

_NONFINITE = {"nan": math.nan, "+inf": math.inf, "-inf": -math.inf, "error": math.nan}
ENTRY_FIELDS = ("value", "status", "seconds", "extra", "definition")


def batch_digest(x: np.ndarray, y: np.ndarray | None) -> str:
    """sha256 (16 hex digits) of a batch's images and labels, shapes and dtypes included."""
    digest = hashlib.sha256()
    for array in (x, y):
        if array is None:
            digest.update(b"none")
            continue
        array = np.ascontiguousarray(array)
        digest.update(f"{array.shape}{array.dtype}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()[:16]


def _checksum(entry: dict[str, Any]) -> str:
    body = {k: entry[k] for k in ENTRY_FIELDS}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]


def make_entry(value: float, status: str, seconds: float, extra: dict[str, Any],
               definition: dict[str, int]) -> dict[str, Any]:
    """A cache entry; strict JSON has no NaN/inf, so non-finite values are stored as null and
    rebuilt from the status."""
    entry = {
        "value": value if math.isfinite(value) else None,
        "status": status,
        "seconds": seconds,
        "extra": extra,
        "definition": definition,
    }
    entry["checksum"] = _checksum(entry)
    return entry


def entry_value(entry: dict[str, Any]) -> float:
    if entry["value"] is None:
        return _NONFINITE[entry["status"]]
    return float(entry["value"])


def _valid_entry(entry: Any) -> bool:
    return isinstance(entry, dict) and all(k in entry for k in (*ENTRY_FIELDS, "checksum"))


class ScoreCache:
    """One cache folder: the architectures of one protocol, data set, seed and batch."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.lock = FileLock(str(self.folder / ".lock"))

    def path(self, arch_id: str) -> Path:
        return self.folder / f"{arch_id}.json"

    def load(self, arch_id: str) -> dict[str, Any]:
        """The architecture's file (``{}`` when absent); a corrupt one is moved aside."""
        path = self.path(arch_id)
        if not path.exists():
            return {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            modes = data["modes"]
            if not isinstance(modes, dict) or not all(isinstance(m, dict) for m in modes.values()):
                raise ValueError("'modes' is not a mapping of modes to entries")
        except (ValueError, KeyError, TypeError) as err:
            aside = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%dT%H%M%S')}")
            path.replace(aside)
            log.warning("score cache file %s is unreadable (%s): moved to %s; its scores are "
                        "recomputed", path, err, aside.name)
            return {}
        return data

    def usable(self, data: dict[str, Any], mode: str, name: str,
               definition: dict[str, int]) -> dict[str, Any] | None:
        """The cached entry of ``name`` if it was computed with ``definition`` and is intact."""
        entry = data.get("modes", {}).get(mode, {}).get(name)
        if entry is None:
            return None
        if not _valid_entry(entry) or entry["checksum"] != _checksum(entry):
            log.warning("score cache entry %s of %s does not match its checksum (edited by "
                        "hand?): recomputed", name, self.path(data.get("arch_id", "?")))
            return None
        if entry["definition"] != definition:
            return None
        return entry

    def merge(self, arch_id: str, header: dict[str, Any], mode: str,
              entries: dict[str, dict[str, Any]]) -> None:
        """Add ``entries`` to the architecture's file under the folder lock."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with self.lock:
            data = self.load(arch_id)
            data.update(header)
            data.setdefault("modes", {}).setdefault(mode, {}).update(entries)
            io.write_text(self.path(arch_id), json.dumps(data, sort_keys=True))
