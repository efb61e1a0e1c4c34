"""The per-architecture score cache: never a stale value, never a lost one.

Layout: ``<cache_dir>/<protocol key>/<space>/<dataset>/seed<seed>/batch-<digest>/<arch_id>.json``.
The folder names everything a value depends on besides the code: the protocol (batch size,
BatchNorm mode, dtype, init, device, threads, NTK sub-batch) and the exact images scored
(the sha256 of the drawn batch, so another image file or source never reuses a score). Each
file repeats that identity and its architecture, and a file whose identity is not its
path's (copied or renamed by hand) is moved aside, never served. Each entry records the
definition it was computed with (the score's ``version``, the engine's ``ENGINE_VERSION``
and the numerics environment: torch build and kernels) and a checksum of its content and of
the file's identity: an entry of another definition, or one that no longer matches its
checksum (edited by hand, or moved into another file), is recomputed, never served. One
exception is the caller's to ask for (``numerics="any-cpu"``): a CPU entry of the same torch
build computed on another vector instruction set (AVX2 and AVX512 kernels round differently)
is served; the entry keeps the environment it was computed in, so a table shows the mix.

Writers merge: a job computes its missing scores without holding anything, then, under a
lock of the folder (``filelock``), re-reads the architecture's file, adds its entries and
replaces the file atomically. Two runs that share the cache therefore keep every score
whatever the interleaving. A file that cannot be read (truncated, not JSON, wrong shape or
types, a directory in its place) is moved aside as ``<name>.corrupt-<time>`` with a warning
and recomputed; a cache folder that cannot be written is an error naming it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from filelock import FileLock

from . import io
from .errors import UserError

log = logging.getLogger(__name__)

_NONFINITE = {"nan": math.nan, "+inf": math.inf, "-inf": -math.inf, "error": math.nan}
STATUSES = ("ok", *_NONFINITE)
ENTRY_FIELDS = ("value", "status", "seconds", "extra", "definition")
# What a cache folder's path names; every file of the folder repeats it.
IDENTITY_FIELDS = ("space", "dataset", "seed", "protocol_key", "batch")
# Which recorded numerics environments an entry may be served from (config ``cache_numerics``).
NUMERICS_POLICIES = ("exact", "any-cpu")
_CPU_NUMERICS = re.compile(r"^(torch \S+), cpu \S+$")


def reusable_numerics(recorded: str, here: str, policy: str) -> bool:
    """Whether an entry computed in the numerics environment ``recorded`` may be served where
    scores are computed in ``here`` (``numerics.numerics_environment`` strings): the same
    environment always; with ``any-cpu`` also a CPU one of the same torch build on another
    vector instruction set. Never across torch builds, and never between CPU and CUDA."""
    if policy not in NUMERICS_POLICIES:
        raise ValueError(f"cache numerics policy must be one of {NUMERICS_POLICIES}, "
                         f"got {policy!r}")
    if recorded == here:
        return True
    if policy == "exact":
        return False
    ours, theirs = _CPU_NUMERICS.match(here), _CPU_NUMERICS.match(recorded)
    return bool(ours and theirs and ours.group(1) == theirs.group(1))


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


def folder_parts(protocol_key: str, space: str, dataset: str, seed: int, batch: str) -> list[str]:
    """The cache folder of one identity, below the cache root: the layout's one home."""
    return [protocol_key, space, dataset, f"seed{seed}", f"batch-{batch}"]


def entry_checksum(entry: dict[str, Any], owner: Mapping[str, Any]) -> str:
    body = {k: entry[k] for k in ENTRY_FIELDS} | {"owner": dict(owner)}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]


def make_entry(value: float, status: str, seconds: float, extra: dict[str, Any],
               definition: dict[str, Any]) -> dict[str, Any]:
    """A cache entry (sealed with its checksum when merged into a file); strict JSON has no
    NaN/inf, so non-finite values are stored as null and rebuilt from the status."""
    return {
        "value": value if math.isfinite(value) else None,
        "status": status,
        "seconds": seconds,
        "extra": extra,
        "definition": definition,
    }


def entry_value(entry: dict[str, Any]) -> float:
    if entry["value"] is None:
        return _NONFINITE[entry["status"]]
    return float(entry["value"])


def is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def entry_problem(entry: Any) -> str | None:
    """Why ``entry`` is not a well-formed cache entry (None if it is)."""
    if not isinstance(entry, dict):
        return f"an entry is a {type(entry).__name__}, not a mapping"
    missing = [k for k in (*ENTRY_FIELDS, "checksum") if k not in entry]
    if missing:
        return f"an entry lacks {missing}"
    if entry["status"] not in STATUSES:
        return f"unknown status {entry['status']!r}"
    if (entry["status"] == "ok") != (entry["value"] is not None) or \
            (entry["value"] is not None and not is_number(entry["value"])):
        return f"value {entry['value']!r} does not fit status {entry['status']!r}"
    if not is_number(entry["seconds"]) or entry["seconds"] < 0:
        return f"seconds {entry['seconds']!r} is not a duration"
    if not isinstance(entry["extra"], dict) or not isinstance(entry["definition"], dict) \
            or not isinstance(entry["checksum"], str):
        return "extra, definition or checksum has the wrong type"
    return None


def file_problem(data: Any) -> str | None:
    """Why a file's JSON content is not a cache file (None if its shape is right)."""
    if not isinstance(data, dict):
        return f"the file holds a {type(data).__name__}, not a mapping"
    modes = data.get("modes")
    if not isinstance(modes, dict) or not all(isinstance(m, dict) for m in modes.values()):
        return "'modes' is not a mapping of modes to entries"
    return None


def _move_aside(path: Path, kind: str) -> Path | None:
    """Rename ``path`` to ``<name>.<kind>-<time>[-n]`` (never over an earlier one)."""
    stamp = time.strftime("%Y%m%dT%H%M%S")
    for n in range(1000):
        aside = path.with_name(f"{path.name}.{kind}-{stamp}" + (f"-{n}" if n else ""))
        if not aside.exists():
            try:
                path.replace(aside)
            except OSError as err:
                log.warning("cannot move %s aside (%s); it is ignored", path, err)
                return None
            return aside
    return None


class ScoreCache:
    """One cache folder: the architectures of one protocol, data set, seed and batch.

    ``identity`` is what the folder's path names (:data:`IDENTITY_FIELDS`); ``protocol`` the
    full protocol, recorded in every file for the reader's information.
    """

    def __init__(self, folder: str | Path, identity: Mapping[str, Any],
                 protocol: Mapping[str, Any] | None = None) -> None:
        missing = [k for k in IDENTITY_FIELDS if k not in identity]
        if missing:
            raise ValueError(f"a score cache identity needs {missing}")
        self.folder = Path(folder)
        self.identity = {k: identity[k] for k in IDENTITY_FIELDS}
        self.protocol = dict(protocol or {})
        self.lock = FileLock(str(self.folder / ".lock"))

    def path(self, arch_id: str) -> Path:
        return self.folder / f"{arch_id}.json"

    def _owner(self, arch_id: str) -> dict[str, Any]:
        return self.identity | {"arch_id": arch_id}

    def _foreign(self, data: dict[str, Any], arch_id: str) -> str | None:
        """Which recorded field disagrees with the file's path (None if none does)."""
        recorded = {k: data.get(k) for k in ("space", "dataset", "seed", "batch", "arch_id")}
        recorded["protocol_key"] = (data.get("protocol") or {}).get("key") \
            if isinstance(data.get("protocol"), dict) else None
        for key, expected in self._owner(arch_id).items():
            if key == "batch" and "batch" not in data:
                continue  # written before files recorded their batch (its folder says it)
            if recorded[key] != expected:
                return f"it records {key} {recorded[key]!r}, its path says {expected!r}"
        return None

    def load(self, arch_id: str) -> dict[str, Any]:
        """The architecture's file (``{}`` when absent); an unreadable file, or one that
        belongs to another architecture, protocol, data set, seed or batch, is moved aside
        with a warning."""
        path = self.path(arch_id)
        if not path.exists() and not path.is_symlink():
            return {}
        kind, problem = "corrupt", None
        if not path.is_file():
            problem = "it is not a regular file"
        else:
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as err:
                problem = f"{type(err).__name__}: {err}"
            else:
                problem = file_problem(data)
                if problem is None and (problem := self._foreign(data, arch_id)):
                    kind = "foreign"
        if problem is None:
            return data
        aside = _move_aside(path, kind)
        log.warning("score cache file %s is %s (%s): moved to %s; its scores are recomputed",
                    path, "unreadable" if kind == "corrupt" else "not this architecture's",
                    problem, aside.name if aside else "nowhere")
        return {}

    def usable(self, data: dict[str, Any], arch_id: str, mode: str, name: str,
               definition: dict[str, Any], numerics: str = "exact") -> dict[str, Any] | None:
        """The cached entry of ``name`` if it was computed with ``definition`` and is intact;
        ``numerics`` is the policy for the definition's numerics environment
        (:func:`reusable_numerics`)."""
        entry = data.get("modes", {}).get(mode, {}).get(name)
        if entry is None:
            return None
        problem = entry_problem(entry)
        if problem is None and entry["checksum"] != entry_checksum(entry, self._owner(arch_id)):
            problem = "it does not match its checksum (edited by hand?)"
        if problem is not None:
            log.warning("score cache entry %s of %s is recomputed: %s", name, self.path(arch_id),
                        problem)
            return None
        recorded = entry["definition"]
        if {k: v for k, v in recorded.items() if k != "numerics"} \
                != {k: v for k, v in definition.items() if k != "numerics"}:
            return None
        if not reusable_numerics(str(recorded.get("numerics")), str(definition.get("numerics")),
                                 numerics):
            return None
        return entry

    def merge(self, arch_id: str, arch: str, mode: str, entries: dict[str, dict[str, Any]],
              keep_intact: bool = False) -> int:
        """Add ``entries`` to the architecture's file under the folder lock; with
        ``keep_intact`` an intact entry already there (well formed, matching its checksum)
        is kept instead. The number of entries written."""
        owner = self._owner(arch_id)
        sealed = {name: {k: e[k] for k in ENTRY_FIELDS} | {"checksum": entry_checksum(e, owner)}
                  for name, e in entries.items()}
        header = {k: v for k, v in self.identity.items() if k != "protocol_key"}
        header |= {"protocol": self.protocol | {"key": self.identity["protocol_key"]},
                   "arch": arch, "arch_id": arch_id}
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self.lock.acquire()
        except OSError as err:
            raise UserError(
                f"cannot write to the score cache folder {self.folder}: "
                f"{err.strerror or err} ({type(err).__name__}). Make it writable or set "
                "cache_dir to a writable folder (cached scores are still read from a "
                "read-only cache; only new ones need writing)") from None
        try:
            data = self.load(arch_id)
            data.update(header)
            present = data.setdefault("modes", {}).setdefault(mode, {})
            if keep_intact:
                sealed = {name: e for name, e in sealed.items()
                          if not self._intact(present.get(name), owner)}
            present.update(sealed)
            if sealed:
                io.write_text(self.path(arch_id), json.dumps(data, sort_keys=True))
        finally:
            self.lock.release()
        return len(sealed)

    @staticmethod
    def _intact(entry: Any, owner: dict[str, Any]) -> bool:
        return entry is not None and entry_problem(entry) is None \
            and entry["checksum"] == entry_checksum(entry, owner)
