"""Content digests of files the workflow reads or writes, remembered by the file's status.

The workflow tracks what a rule reads by content (a user's image folder rewritten in place
must re-prepare its images) and checks what a rule wrote before it is used again (a prepared
image file changed since is prepared anew). Hashing every file at every start would be slow
for large folders, so each digest is recorded with the file's size, modification and change
times, inode and device: while those are the same, the file has not been written since (a
write always moves the change time, which no user command sets back), and the recorded
digest is used; otherwise the file is hashed again. A record is only a shortcut: a missing,
unreadable or unwritable record costs one hash, never a wrong digest.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Iterable
from pathlib import Path

from zeroshot_nas import io
from zeroshot_nas.errors import UserError

from .sources import file_hash

log = logging.getLogger(__name__)

RECORDS = Path("data") / "cache" / "file-digests"
# What a prepared file's companion holds: the sha256 its rule wrote.
DIGEST_SUFFIX = ".sha256"


def _status(path: Path) -> list[int]:
    st = path.stat()
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev]


def content_digest(path: str | Path, records: str | Path = RECORDS) -> str:
    """sha256 of ``path``'s content, read from its record while the file is unchanged."""
    path = Path(path).absolute()
    record = Path(records) / f"{hashlib.sha256(str(path).encode()).hexdigest()[:32]}.json"
    status = _status(path)
    try:
        known = json.loads(record.read_text(encoding="utf-8"))
        if known["path"] == str(path) and known["status"] == status:
            return known["sha256"]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    digest = file_hash(path)
    if _status(path) == status:  # not written while it was read
        try:
            io.write_json(record, {"path": str(path), "status": status, "sha256": digest})
        except UserError as err:
            log.debug("no digest record for %s: %s", path, err)
    return digest


def folder_digests(paths: Iterable[str | Path], records: str | Path = RECORDS) -> dict[str, str]:
    """File name -> sha256 of every file given (the identity of a folder of inputs)."""
    return {Path(p).name: content_digest(p, records) for p in sorted(map(Path, paths))}


def companion(path: str | Path) -> Path:
    """Where the digest of a prepared file is kept: ``<file>.sha256`` beside it."""
    path = Path(path)
    return path.with_name(path.name + DIGEST_SUFFIX)


def write_companion(path: str | Path, records: str | Path = RECORDS) -> Path:
    """Record the digest of the file a rule just wrote."""
    return io.write_text(companion(path), content_digest(path, records) + "\n")


def set_aside_if_changed(path: str | Path, records: str | Path = RECORDS) -> Path | None:
    """Move a prepared file that no longer has the digest its rule recorded (truncated,
    edited, swapped) aside as ``<file>.changed-<time>``, with its companion, so that the
    workflow prepares it anew; returns where it went (None when intact or absent)."""
    path = Path(path)
    digest_file = companion(path)
    if not path.is_file() or not digest_file.is_file():
        return None
    if content_digest(path, records) == digest_file.read_text(encoding="utf-8").strip():
        return None
    aside = path.with_name(f"{path.name}.changed-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}")
    path.replace(aside)
    digest_file.unlink()
    return aside
