"""Copy a run's figures into ``figures/<experiment>/``, the home of regenerated paper figures.

A run writes its figures only under ``results/<experiment>/figures``; this explicit step
(``zeroshot-nas copy-figures``, ``make figures``) copies them to the top-level ``figures/``
folder, which the README shows. It owns only what it copied: ``figures/<experiment>/
copied.json`` lists every file it wrote with the sha256 it wrote. A later copy replaces or
removes only those files, and only while they still hold what it wrote: a file it did not
write (yours), or one changed since, is never overwritten or deleted; the copy stops before
writing anything and names it.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from zeroshot_nas import io
from zeroshot_nas.data.sources import file_hash
from zeroshot_nas.errors import UserError

log = logging.getLogger(__name__)

MANIFEST = "copied.json"
RUN_MANIFEST = "figures_manifest.json"


@dataclass(frozen=True)
class CopyReport:
    copied: tuple[str, ...]
    removed: tuple[str, ...]  # copied earlier, no longer among the selected figures
    kept: tuple[str, ...]  # copied earlier, changed since: now yours, left alone


def _check_plain_names(names: Sequence[str], manifest: Path) -> None:
    """A manifest names files of its own folder only: a path (``../README.md``) would let a
    copy write or delete a file outside the folder it owns."""
    bad = [n for n in names if not isinstance(n, str) or n in ("", ".", "..")
           or Path(n).name != n or "\\" in n]
    if bad:
        raise UserError(f"{manifest} names {', '.join(map(repr, bad))}, not a file of its own "
                        "folder: nothing was copied")


def run_figure_files(run_figures: Path, only: Sequence[str] | None = None) -> list[str]:
    """The files of the figures a run drew (all, or those named in ``only``)."""
    manifest = run_figures / RUN_MANIFEST
    if not manifest.is_file():
        raise UserError(f"{run_figures} holds no {RUN_MANIFEST}: not the figures folder of a "
                        "finished run (run the workflow first)")
    made: dict[str, list[str]] = json.loads(manifest.read_text(encoding="utf-8"))["made"]
    names = list(only) if only else sorted(made)
    unknown = [n for n in names if n not in made]
    if unknown:
        raise UserError(f"{run_figures} has no figure {', '.join(unknown)}; it has "
                        f"{', '.join(sorted(made))}")
    files = [f for name in names for f in made[name]]
    _check_plain_names(files, manifest)
    missing = [f for f in files if not (run_figures / f).is_file()]
    if missing:
        raise UserError(f"{run_figures} lacks {', '.join(missing)} that its manifest lists")
    return files


def read_owned(dest: Path) -> dict[str, str]:
    """File name -> sha256 of every file an earlier copy wrote into ``dest``."""
    path = dest / MANIFEST
    if not path.exists():
        return {}
    try:
        owned = json.loads(path.read_text(encoding="utf-8"))["files"]
        if isinstance(owned, dict) and all(isinstance(v, str) for v in owned.values()):
            _check_plain_names(list(owned), path)
            return owned
    except (ValueError, KeyError, TypeError):
        pass
    raise UserError(f"{path} is not a list of copied figures; nothing was copied (move it "
                    "away to let copy-figures start afresh: it then owns no file there)")


def _unchanged(dest: Path, name: str, owned: dict[str, str]) -> bool:
    return name in owned and (dest / name).is_file() and file_hash(dest / name) == owned[name]


def copy_figures(run_figures: str | Path, dest: str | Path,
                 only: Sequence[str] | None = None) -> CopyReport:
    """Copy the figures of ``run_figures`` (all, or ``only``) into ``dest`` (see the module
    docstring for what is replaced, removed and never touched)."""
    run_figures, dest = Path(run_figures), Path(dest)
    files = run_figure_files(run_figures, only)
    owned = read_owned(dest)
    foreign = [f for f in files if (dest / f).exists() and not _unchanged(dest, f, owned)]
    if foreign:
        raise UserError(f"{dest} already holds {', '.join(foreign)}, which copy-figures did not "
                        "write (or which changed since): nothing was copied; move them away "
                        "first")
    stale = [f for f in owned if f not in files]
    removed = [f for f in stale if _unchanged(dest, f, owned)]
    kept = [f for f in stale if f not in removed and (dest / f).exists()]
    copied = {}
    for name in files:
        io.atomic_write(dest / name, lambda tmp, src=run_figures / name: shutil.copyfile(src, tmp))
        copied[name] = file_hash(dest / name)
    for name in removed:
        (dest / name).unlink()
    io.write_json(dest / MANIFEST, {"source": str(run_figures), "files": copied}, indent=2,
                  sort_keys=True)
    for name in kept:
        log.warning("%s changed since it was copied: left as it is, no longer copy-figures'",
                    dest / name)
    return CopyReport(tuple(files), tuple(removed), tuple(kept))
