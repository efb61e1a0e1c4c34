"""Registry of remote files (``data/sources.yaml``) and verified, atomic fetching.

Every file is pinned by a hash. ``fetch`` copies it from a local mirror folder when one is
given (laid out like the raw GitHub URL, ``<owner>/<repo>/<commit>/<path>``) and otherwise
downloads it with pooch. Either way the bytes are verified before the file appears at its
destination, and a failure leaves nothing behind in the destination folder.
``download_plan`` says beforehand what a fetch of some keys will copy or download.

Environment variables:

``ZEROSHOT_NAS_MIRROR``
    Mirror folder used when no ``mirror`` argument is given.
``ZEROSHOT_NAS_DOWNLOAD_BASE``
    Base URL (``http(s)://host[:port][/prefix]``) that replaces every registered URL: a file
    is downloaded from ``<base>/<relpath>``, the mirror layout (``<owner>/<repo>/<commit>/
    <path>``, or ``<host>/<url path>`` for non-GitHub files). Meant for tests and for a lab
    HTTP mirror; the download itself runs the same pooch code as a normal one.
``ZEROSHOT_NAS_DOWNLOAD_TIMEOUT``
    Seconds a download may wait for the connection or for the next bytes (default 60).
    It bounds each wait, not the whole transfer: a slow but steady server is not cut off.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse

import jsonschema
import pooch
from tqdm import tqdm

from zeroshot_nas.errors import UserError

log = logging.getLogger(__name__)

MIRROR_ENV = "ZEROSHOT_NAS_MIRROR"
DOWNLOAD_BASE_ENV = "ZEROSHOT_NAS_DOWNLOAD_BASE"
DOWNLOAD_TIMEOUT_ENV = "ZEROSHOT_NAS_DOWNLOAD_TIMEOUT"
# Long enough for a slow link to deliver its next chunk, short enough that a dead server
# fails the run in about a minute rather than hanging a Snakemake job for hours.
DOWNLOAD_TIMEOUT_S = 60.0
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
                "required": ["key", "url", "size", "group", "licence", "description", "optional"],
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
                    "size": {"type": "integer", "minimum": 1},
                    "group": {"type": "string", "pattern": "^[A-Za-z0-9_.-]+$"},
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


class DownloadError(UserError, RuntimeError):
    """A registered file could not be obtained with the expected content."""


@dataclass(frozen=True)
class Source:
    """One registered remote file."""

    key: str
    url: str
    size: int
    group: str
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
    from zeroshot_nas.config import read_yaml

    reg_path = Path(path) if path is not None else default_registry_path()
    raw = read_yaml(reg_path, "source registry")
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
    """Raise ``DownloadError`` unless ``path`` has the registered hash of ``source``.

    Readers call it on every read: a file changed after its download was verified is
    refused, with what to do about it."""
    actual = file_hash(path, source.algorithm)
    if actual != source.digest:
        raise DownloadError(
            f"{source.algorithm} mismatch for {source.key} ({path}): expected {source.digest}, "
            f"got {actual}. The file changed after it was downloaded and verified: delete it "
            "and run again to fetch it anew"
        )


def registered_source(path: str | Path, registry: dict[str, Source]) -> Source | None:
    """The registry entry whose location ``<owner>/<repo>/<commit>/<path>`` (``relpath``)
    ``path`` ends with, as every download and mirror copy does; None if there is none."""
    text = Path(path).as_posix()
    for source in registry.values():
        if text == source.relpath.as_posix() or text.endswith("/" + source.relpath.as_posix()):
            return source
    return None


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


def download_url(source: Source) -> str:
    """The URL ``source`` is downloaded from: its registered URL, or ``<base>/<relpath>``
    when ``$ZEROSHOT_NAS_DOWNLOAD_BASE`` is set."""
    base = os.environ.get(DOWNLOAD_BASE_ENV, "").strip()
    if not base:
        return source.url
    if urlparse(base).scheme not in ("http", "https"):
        raise ValueError(f"${DOWNLOAD_BASE_ENV} must be an http(s) URL, not {base!r}")
    # Quoted because relpaths may hold characters that are not URL-safe (``~`` is safe).
    return f"{base.rstrip('/')}/{quote(source.relpath.as_posix())}"


def download_timeout() -> float:
    """Seconds a download waits for a connection or its next bytes
    (``$ZEROSHOT_NAS_DOWNLOAD_TIMEOUT``, default ``DOWNLOAD_TIMEOUT_S``)."""
    raw = os.environ.get(DOWNLOAD_TIMEOUT_ENV, "").strip()
    if not raw:
        return DOWNLOAD_TIMEOUT_S
    try:
        seconds = float(raw)
    except ValueError:
        seconds = float("nan")
    if not 0 < seconds < float("inf"):
        raise ValueError(f"${DOWNLOAD_TIMEOUT_ENV} must be a positive number of seconds, "
                         f"not {raw!r}")
    return seconds


class _ProgressBar:
    """pooch's tqdm progress bar on stderr, shown once the server has answered.

    pooch's own bar (``progressbar=True``) is drawn before pooch logs the URL and is left
    open when a download fails, so both messages would land on the bar's unfinished line.
    pooch sets ``total`` (the Content-Length) once the response headers are in; the bar
    starts there, and ``close`` ends it whatever happened.
    """

    def __init__(self, desc: str) -> None:
        self.desc = desc
        self._bar: tqdm | None = None

    @property
    def total(self) -> int | None:
        return self._bar.total if self._bar is not None else None

    @total.setter
    def total(self, size: int) -> None:
        self.close()
        # No Content-Length (0): a byte counter without a percentage.
        self._bar = tqdm(total=size or None, desc=self.desc, ncols=79, unit="B",
                         unit_scale=True)

    def update(self, n: int) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def reset(self) -> None:
        # pooch resets, then adds the total; without a known total that would show 0 B.
        if self._bar is not None and self._bar.total:
            self._bar.reset()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _download_verified(dest: Path, source: Source, note: str = "") -> None:
    """Download with pooch into a private folder next to ``dest``, then move into place."""
    url = download_url(source)
    timeout = download_timeout()
    bar = _ProgressBar(dest.name)
    downloader = pooch.HTTPDownloader(progressbar=bar, timeout=timeout)
    tmp_dir = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".dl", dir=dest.parent))
    try:
        try:
            got = pooch.retrieve(
                url,
                known_hash=source.known_hash,
                fname=dest.name,
                path=tmp_dir,
                downloader=downloader,
            )
        except Exception as err:  # HTTP, network, time-out, hash and file-system failures
            # pooch's hash message states the expected and the actual hash; requests'
            # messages give the status code or the time-out that was hit.
            raise DownloadError(
                f"cannot download {source.key} ({source.relpath.name}) from {url}{note} "
                f"(expected {source.known_hash}, time-out {timeout:g} s): "
                f"{type(err).__name__}: {err}"
            ) from err
        # pooch's temporary file is private (0600); publish gives it normal permissions.
        publish(got, dest)
    finally:
        bar.close()
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
    download. Otherwise the file is downloaded from ``download_url(source)`` with a progress
    bar and ``download_timeout()``. Raises ``DownloadError`` naming the key, the file, the
    URL used and the hashes; nothing partial or corrupted is left under ``dest_root``.
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
                log.info("%s not in mirror %s; downloading it", key, mirror_root)
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


@dataclass(frozen=True)
class DownloadPlan:
    """What fetching some registry keys into ``dest_root`` will do (``download_plan``).

    Sizes come from the registry's ``size`` field; MB are 10**6 bytes.
    """

    dest_root: Path
    mirror: Path | None
    present: tuple[str, ...]
    from_mirror: tuple[str, ...]
    to_download: tuple[str, ...]
    mirror_bytes: int
    download_bytes: int
    hosts: tuple[str, ...]  # where the downloads come from, sorted

    @property
    def total(self) -> int:
        return len(self.present) + len(self.from_mirror) + len(self.to_download)

    @property
    def to_fetch(self) -> int:
        return len(self.from_mirror) + len(self.to_download)

    @property
    def fetch_mb(self) -> float:
        return (self.mirror_bytes + self.download_bytes) / 1e6

    def summary(self) -> str:
        """One or two human lines, e.g. ``data: 60 of 72 files to fetch (24.1 MB) from
        raw.githubusercontent.com; 12 already in data/downloads``."""
        present = f"{len(self.present)} already in {self.dest_root}"
        if self.to_fetch == 0:
            return f"data: all {self.total} files already in {self.dest_root}"
        head = f"data: {self.to_fetch} of {self.total} files to fetch ({self.fetch_mb:.1f} MB)"
        hosts = ", ".join(self.hosts)
        if self.mirror is None:
            return f"{head} from {hosts}; {present}"
        detail = (f"  {len(self.from_mirror)} copied from mirror {self.mirror} "
                  f"({self.mirror_bytes / 1e6:.1f} MB), {len(self.to_download)} downloaded")
        if self.to_download:
            detail += f" ({self.download_bytes / 1e6:.1f} MB) from {hosts}"
        return f"{head}; {present}\n{detail}"


def download_plan(
    keys: Iterable[str],
    dest_root: str | Path,
    mirror: str | Path | None = None,
    registry: dict[str, Source] | None = None,
) -> DownloadPlan:
    """Sort ``keys`` into present at their destination, copied from the mirror (argument,
    else ``$ZEROSHOT_NAS_MIRROR``, as ``fetch``) and downloaded.

    "Present" only means the file exists: nothing is hashed, so this is quick; ``fetch``
    still verifies, and replaces a present file with the wrong hash.
    """
    registry = registry if registry is not None else load_registry()
    root = Path(dest_root)
    mirror_root = resolve_mirror(mirror)
    sorted_keys: dict[str, list[str]] = {"present": [], "mirror": [], "download": []}
    size = {"mirror": 0, "download": 0}
    hosts: set[str] = set()
    for key in dict.fromkeys(keys):  # once each, in the order given
        if key not in registry:
            raise KeyError(f"unknown source key {key!r}; known: {', '.join(sorted(registry))}")
        source = registry[key]
        if (root / source.relpath).is_file():
            where = "present"
        elif mirror_root is not None and (mirror_root / source.relpath).is_file():
            where = "mirror"
        else:
            where = "download"
            hosts.add(urlparse(download_url(source)).netloc)
        sorted_keys[where].append(key)
        if where in size:
            size[where] += source.size
    return DownloadPlan(
        dest_root=root,
        mirror=mirror_root,
        present=tuple(sorted_keys["present"]),
        from_mirror=tuple(sorted_keys["mirror"]),
        to_download=tuple(sorted_keys["download"]),
        mirror_bytes=size["mirror"],
        download_bytes=size["download"],
        hosts=tuple(sorted(hosts)),
    )
