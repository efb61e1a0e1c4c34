"""Atomic file writes: a file appears complete or not at all.

Every writer goes through a temporary file in the destination's folder that is renamed into
place only after it was written and flushed; on any failure (a full disk included) the
temporary file is removed and the error names the destination.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .errors import UserError


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


@contextmanager
def atomic_path(dest: str | Path) -> Iterator[Path]:
    """A temporary path beside ``dest``; renamed to ``dest`` when the block succeeds.

    The published file gets the normal permissions of a new file (``mkstemp`` makes files
    readable by their owner only).
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, dest)
    except OSError as err:
        raise UserError(f"cannot write {dest}: {err.strerror or err} (nothing was written; "
                        "free some space or fix the folder's permissions, then run again)") from err
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write(dest: str | Path, write: Callable[[Path], Any]) -> Path:
    """Call ``write(tmp_path)`` and publish the result at ``dest`` atomically."""
    with atomic_path(dest) as tmp:
        write(tmp)
    return Path(dest)


def write_text(dest: str | Path, text: str) -> Path:
    return atomic_write(dest, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_json(dest: str | Path, data: Any, **kwargs: Any) -> Path:
    return write_text(dest, json.dumps(data, **kwargs) + "\n")


def write_parquet(dest: str | Path, table) -> Path:
    return atomic_write(dest, lambda tmp: table.to_parquet(tmp, index=False))


def write_csv(dest: str | Path, table) -> Path:
    return atomic_write(dest, lambda tmp: table.to_csv(tmp, index=False))
