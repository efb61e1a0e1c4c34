"""Registry of remote files (``data/sources.yaml``) and verified, atomic fetching.

Every file is pinned by a hash. ``fetch`` copies it from a local mirror folder when one is
given (laid out like the raw GitHub URL, ``<owner>/<repo>/<commit>/<path>``) and otherwise
downloads it with pooch. Either way the bytes are verified before the file appears at its
destination, and a failure leaves nothing behind in the destination folder.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import jsonschema
import pooch
import yaml

log = logging.getLogger(__name__)

MIRROR_ENV = "ZEROSHOT_NAS_MIRROR"
RAW_GITHUB = "https://raw.githubusercontent.com"
_CHUNK = 1 << 20

# One schema for the registry so a typo in sources.yaml fails at load time, not mid-run.
_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["version", "sources"],
    "additionalProperties": False,
    "properties": {
        "version": {"const": 1},
        "sources": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["key", "url", "licence", "description", "optional"],
                "additionalProperties": False,
                "properties": {
                    "key": {"type": "string", "pattern": "^[A-Za-z0-9_.-]+$"},
                    "owner": {"type": "string", "minLength": 1},
                    "repo": {"type": "string", "minLength": 1},
                    "commit": {"type": "string", "pattern": "^[0-9a-f]{40}$"},
                    "path": {"type": "string", "minLength": 1},
                    "url": {"type": "string", "pattern": "^https?://"},
                    "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                    "md5": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
                    "licence": {"type": "string", "minLength": 1},
                    "description": {"type": "string", "minLength": 20},
                    "optional": {"type": "boolean"},
                },
                # Exactly one hash; GitHub files carry all four pinning fields or none.
                "oneOf": [{"required": ["sha256"]}, {"required": ["md5"]}],
                "dependentRequired": {
                    "owner": ["repo", "commit", "path"],
                    "repo": ["owner", "commit", "path"],
                    "commit": ["owner", "repo", "path"],
                    "path": ["owner", "repo", "commit"],
                },
            },
        },
    },
}


class DownloadError(RuntimeError):
    """A registered file could not be obtained with the expected content."""


@dataclass(frozen=True)
class Source:
    """One registered remote file."""

    key: str
    url: str
    licence: str
    description: str
    optional: bool
    owner: str | None = None
    repo: str | None = None
    commit: str | None = None
    path: str | None = None
    sha256: str | None = None
    md5: str | None = None

    @property
    def algorithm(self) -> str:
        """Hash algorithm name as hashlib/pooch spell it (``sha256`` or ``md5``)."""
        return "sha256" if self.sha256 else "md5"

    @property
    def digest(self) -> str:
        """Expected hex digest."""
        return self.sha256 or self.md5 or ""

    @property
    def known_hash(self) -> str:
        """The expected hash in pooch's ``alg:hex`` form."""
        return f"{self.algorithm}:{self.digest}"

    @property
    def relpath(self) -> Path:
        """Relative location in a mirror and under a download root.

        GitHub files: ``<owner>/<repo>/<commit>/<path>`` (the raw URL's path);
        other files: ``<host>/<url path>``.
        """
        if self.owner is not None:
            return Path(self.owner, self.repo or "", self.commit or "", self.path or "")
        parsed = urlparse(self.url)
        return Path(parsed.netloc, parsed.path.lstrip("/"))


def default_registry_path() -> Path:
    """``data/sources.yaml`` of the repository this package is installed from.

    Falls back to ``./data/sources.yaml`` so an installed (non-editable) package still works
    when run from a checkout.
    """
    candidates = [
        Path(__file__).resolve().parents[3] / "data" / "sources.yaml",
        Path.cwd() / "data" / "sources.yaml",
    ]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        "source registry data/sources.yaml not found (looked at "
        + ", ".join(str(c) for c in candidates)
        + ")"
    )


def load_registry(path: str | Path | None = None) -> dict[str, Source]:
    """Read and validate the source registry.

    Checks the schema, unique keys, and that every GitHub entry's ``url`` is exactly the
    raw URL of its pinned ``owner/repo/commit/path``.
    """
    reg_path = Path(path) if path is not None else default_registry_path()
    with reg_path.open(encoding="utf-8") as handle:
        raw = yaml.safe_load(handle)
    try:
        jsonschema.validate(raw, _SCHEMA)
    except jsonschema.ValidationError as err:
        where = "/".join(str(p) for p in err.absolute_path)
        raise ValueError(f"invalid source registry {reg_path} at {where or '<root>'}: "
                         f"{err.message}") from err
    registry: dict[str, Source] = {}
    for entry in raw["sources"]:
        source = Source(**entry)
        if source.key in registry:
            raise ValueError(f"invalid source registry {reg_path}: duplicate key {source.key!r}")
        if source.owner is not None:
            expected = f"{RAW_GITHUB}/{source.relpath.as_posix()}"
            if source.url != expected:
                raise ValueError(
                    f"invalid source registry {reg_path}: {source.key!r} has url {source.url} "
                    f"but its pinned location gives {expected}"
                )
        registry[source.key] = source
    return registry


def file_hash(path: str | Path, algorithm: str = "sha256") -> str:
    """Hex digest of a file, read in chunks."""
    digest = hashlib.new(algorithm)
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify(path: str | Path, source: Source) -> None:
    """Raise ``DownloadError`` unless ``path`` has the registered hash of ``source``."""
    actual = file_hash(path, source.algorithm)
    if actual != source.digest:
        raise DownloadError(
            f"{source.algorithm} mismatch for {source.key} ({path}): expected {source.digest}, "
            f"got {actual}"
        )


def resolve_mirror(mirror: str | Path | None) -> Path | None:
    """The mirror to use: the argument, else ``$ZEROSHOT_NAS_MIRROR``, else none."""
    if mirror is not None and str(mirror) != "":
        return Path(mirror)
    env = os.environ.get(MIRROR_ENV, "")
    return Path(env) if env else None


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def publish(tmp: str | Path, dest: str | Path) -> None:
    """Atomically move a finished temporary file into place with normal permissions
    (``mkstemp`` creates files readable by their owner only)."""
    os.chmod(tmp, 0o666 & ~_umask())
    os.replace(tmp, dest)


def _make_parents(dest: Path) -> list[Path]:
    """Create the missing parent folders of ``dest``; return them deepest
    first, so a failed fetch can remove exactly what it created."""
    created: list[Path] = []
    parent = dest.parent
    while not parent.exists() and parent != parent.parent:
        created.append(parent)
        parent = parent.parent
    dest.parent.mkdir(parents=True, exist_ok=True)
    return created


def _remove_empty(folders: list[Path]) -> None:
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            # Not empty (another file arrived meanwhile) or already gone: leave it.
            break


def _copy_verified(src: Path, dest: Path, source: Source) -> None:
    """Copy ``src`` to ``dest`` through a temporary file, hashing the bytes copied."""
    digest = hashlib.new(source.algorithm)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        with src.open("rb") as fin, os.fdopen(fd, "wb") as fout:
            for chunk in iter(lambda: fin.read(_CHUNK), b""):
                digest.update(chunk)
                fout.write(chunk)
        actual = digest.hexdigest()
        if actual != source.digest:
            raise DownloadError(
                f"{source.algorithm} mismatch for {source.key}: mirror file {src} has {actual}, "
                f"expected {source.digest}; refusing it"
            )
        publish(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def _download_verified(dest: Path, source: Source, note: str = "") -> None:
    """Download with pooch into a private folder next to ``dest``, then move into place."""
    tmp_dir = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".dl", dir=dest.parent))
    try:
        try:
            got = pooch.retrieve(
                source.url,
                known_hash=source.known_hash,
                fname=dest.name,
                path=tmp_dir,
                progressbar=False,
            )
        except ValueError as err:
            # pooch's message states the expected and the actual hash.
            raise DownloadError(f"{source.key} ({source.url}) refused: {err}") from err
        except Exception as err:  # network, HTTP and file-system failures all end here
            raise DownloadError(
                f"cannot download {source.key} from {source.url}{note} "
                f"(expected {source.known_hash}): {type(err).__name__}: {err}"
            ) from err
        os.replace(got, dest)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)


def fetch(
    key: str,
    dest_root: str | Path,
    mirror: str | Path | None = None,
    registry: dict[str, Source] | None = None,
) -> Path:
    """Make the registered file ``key`` available, verified, under ``dest_root``.

    The destination is ``<dest_root>/<owner>/<repo>/<commit>/<path>`` (``<host>/<path>`` for
    non-GitHub files). A file already there with the right hash is returned untouched; one
    with a wrong hash is replaced. The mirror (argument, else ``$ZEROSHOT_NAS_MIRROR``) is
    tried first; a mirror copy with a wrong hash is refused, not silently replaced by a
    download. Raises ``DownloadError`` naming the file and both hashes; nothing partial or
    corrupted is left under ``dest_root``.
    """
    registry = registry if registry is not None else load_registry()
    if key not in registry:
        raise KeyError(f"unknown source key {key!r}; known: {', '.join(sorted(registry))}")
    source = registry[key]
    root = Path(dest_root)
    dest = root / source.relpath
    if dest.is_file():
        if file_hash(dest, source.algorithm) == source.digest:
            log.debug("%s already present and verified at %s", key, dest)
            return dest
        log.warning("%s at %s has the wrong %s; fetching it again", key, dest, source.algorithm)
        dest.unlink()

    mirror_root = resolve_mirror(mirror)
    created = _make_parents(dest)
    try:
        if mirror_root is not None and (mirror_root / source.relpath).is_file():
            log.info("copying %s from mirror %s", key, mirror_root)
            _copy_verified(mirror_root / source.relpath, dest, source)
        else:
            note = ""
            if mirror_root is not None:
                note = f" (not in mirror {mirror_root / source.relpath})"
                log.info("%s not in mirror %s; downloading %s", key, mirror_root, source.url)
            _download_verified(dest, source, note)
    except BaseException:
        dest.unlink(missing_ok=True)
        _remove_empty(created)
        raise
    return dest


def fetch_all(
    dest_root: str | Path,
    mirror: str | Path | None = None,
    registry: dict[str, Source] | None = None,
    include_optional: bool = False,
) -> dict[str, Path]:
    """Fetch every registered file (optional ones only when asked); return key -> path."""
    registry = registry if registry is not None else load_registry()
    return {
        key: fetch(key, dest_root, mirror=mirror, registry=registry)
        for key, source in registry.items()
        if include_optional or not source.optional
    }

