"""Downloads over real HTTP (a local server serving the lab mirror), with failures on demand.

``$ZEROSHOT_NAS_DOWNLOAD_BASE`` points every download at the local server, so these tests run
the same pooch code a user's download runs, only against 127.0.0.1.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import os
import pickle
import re
import socket
import tarfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import IMAGES, WHERE
from http_mirror import CORRUPT, MIRROR, NOT_FOUND, STALL, TRUNCATE, serve

from zeroshot_nas.data import images, sources
from zeroshot_nas.data.sources import DownloadError, download_plan, fetch, load_registry

REGISTRY_PATH = Path(__file__).resolve().parents[1] / "data" / "sources.yaml"
CSV_KEY = "freerea-cifar10-accuracies"
BATCH_KEY = "freerea-cifar10-batch64-0"
CLIENT_TIMEOUT_S = 2


@pytest.fixture(autouse=True)
def download_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # Only the variables set by a test may steer where files come from.
    monkeypatch.delenv(sources.MIRROR_ENV, raising=False)
    monkeypatch.delenv(sources.DOWNLOAD_BASE_ENV, raising=False)
    monkeypatch.setenv(sources.DOWNLOAD_TIMEOUT_ENV, str(CLIENT_TIMEOUT_S))


@pytest.fixture(scope="module")
def mirror() -> Path:
    if not MIRROR.is_dir():
        pytest.skip(f"real benchmark data not found at {MIRROR} ({WHERE})")
    return MIRROR


@pytest.fixture(scope="module")
def registry() -> dict[str, sources.Source]:
    return load_registry()


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_good_download_is_verified_readable_and_reused(
    mirror: Path, registry, tmp_path: Path, monkeypatch, capsys
) -> None:
    dest_root = tmp_path / "downloads"
    keys = [CSV_KEY, BATCH_KEY]
    with serve(mirror) as server:
        monkeypatch.setenv(sources.DOWNLOAD_BASE_ENV, server.url)
        plan = download_plan(keys, dest_root, registry=registry)
        assert plan.to_download == tuple(keys) and plan.hosts == (server.url[len("http://"):],)
        paths = [fetch(key, dest_root, registry=registry) for key in keys]
        assert server.requests == [registry[k].relpath.as_posix() for k in keys]
        # Present and valid: no second request.
        assert fetch(CSV_KEY, dest_root, registry=registry) == paths[0]
        assert len(server.requests) == 2
    umask = os.umask(0)
    os.umask(umask)
    for key, path in zip(keys, paths, strict=True):
        assert path == dest_root / registry[key].relpath
        assert sha256(path) == registry[key].sha256 == sha256(mirror / registry[key].relpath)
        # pooch's temporary files are 0600; the published file must not be.
        assert path.stat().st_mode & 0o777 == 0o666 & ~umask
    assert files_under(dest_root) == sorted(paths)  # no temporary file or folder left
    assert download_plan(keys, dest_root, registry=registry).present == tuple(keys)
    assert "100%" in capsys.readouterr().err  # pooch's tqdm progress bar, on stderr


@pytest.mark.parametrize(
    ("fault", "key", "why"),
    [
        (NOT_FOUND, "nats-tss-test-acc", "404"),
        # urllib3 2 notices the short body; were it not to, the hash check still would.
        (TRUNCATE, BATCH_KEY, "IncompleteRead|does not match the known hash"),
        (CORRUPT, "freerea-cifar10-params", "does not match the known hash"),
        (STALL, CSV_KEY, "timed out"),
    ],
)
def test_failed_download_names_key_file_and_url_and_leaves_nothing(
    mirror: Path, registry, tmp_path: Path, monkeypatch, fault: str, key: str, why: str
) -> None:
    source = registry[key]
    rel = source.relpath.as_posix()
    dest_root = tmp_path / "downloads"
    dest_root.mkdir()
    started = time.monotonic()
    with serve(mirror, faults={rel: fault}) as server:
        monkeypatch.setenv(sources.DOWNLOAD_BASE_ENV, server.url)
        with pytest.raises(DownloadError) as info:
            fetch(key, dest_root, registry=registry)
        assert server.requests == [rel]
    elapsed = time.monotonic() - started
    message = str(info.value)
    assert key in message and source.relpath.name in message
    assert f"{server.url}/{rel}" in message and source.sha256 in message
    assert re.search(why, message)
    assert list(dest_root.rglob("*")) == []  # no file, temp folder or created parent folder
    # The stall is cut by the client time-out, and the server stops without waiting it out.
    assert elapsed < 4 * CLIENT_TIMEOUT_S
    assert not [t for t in threading.enumerate() if "http-mirror" in t.name
                or "process_request" in t.name]


def test_refused_connection_is_a_download_error(registry, tmp_path: Path, monkeypatch) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    monkeypatch.setenv(sources.DOWNLOAD_BASE_ENV, base)
    with pytest.raises(DownloadError) as info:
        fetch(CSV_KEY, tmp_path / "dl", registry=registry)
    message = str(info.value)
    assert CSV_KEY in message and f"{base}/{registry[CSV_KEY].relpath.as_posix()}" in message
    assert not (tmp_path / "dl").exists()


def test_download_url_and_timeout_settings(registry, monkeypatch) -> None:
    tarball = registry["cifar10-python"]
    assert sources.download_url(tarball) == tarball.url
    monkeypatch.setenv(sources.DOWNLOAD_BASE_ENV, "http://127.0.0.1:8/lab/")
    assert sources.download_url(tarball) == (
        "http://127.0.0.1:8/lab/www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    )
    odd = dataclasses.replace(tarball, url="https://example.org/a b/c.tar.gz")
    assert sources.download_url(odd) == "http://127.0.0.1:8/lab/example.org/a%20b/c.tar.gz"
    monkeypatch.setenv(sources.DOWNLOAD_BASE_ENV, "/work/shared/data/mirror")
    with pytest.raises(ValueError, match=sources.DOWNLOAD_BASE_ENV):
        sources.download_url(tarball)
    assert sources.download_timeout() == CLIENT_TIMEOUT_S
    monkeypatch.delenv(sources.DOWNLOAD_TIMEOUT_ENV)
    assert sources.download_timeout() == sources.DOWNLOAD_TIMEOUT_S
    for bad in ("0", "-1", "soon", "inf", "nan"):
        monkeypatch.setenv(sources.DOWNLOAD_TIMEOUT_ENV, bad)
        with pytest.raises(ValueError, match=sources.DOWNLOAD_TIMEOUT_ENV):
            sources.download_timeout()


def test_download_plan_without_mirror(registry, tmp_path: Path) -> None:
    required = [k for k, s in registry.items() if not s.optional]
    dest_root = tmp_path / "downloads"
    present = required[:12]
    for key in present:  # existence is all the plan checks: empty files count as present
        (dest_root / registry[key].relpath).parent.mkdir(parents=True, exist_ok=True)
        (dest_root / registry[key].relpath).touch()
    plan = download_plan(required + required[:3], dest_root, registry=registry)
    assert plan.present == tuple(present) and plan.from_mirror == ()
    assert plan.to_download == tuple(required[12:]) and plan.mirror is None
    assert (plan.total, plan.to_fetch) == (len(required), len(required) - 12)
    assert plan.download_bytes == sum(registry[k].size for k in required[12:])
    assert plan.hosts == ("raw.githubusercontent.com",)
    mb = plan.download_bytes / 1e6
    assert plan.summary() == (
        f"data: {len(required) - 12} of {len(required)} files to fetch ({mb:.1f} MB) "
        f"from raw.githubusercontent.com; 12 already in {dest_root}"
    )
    assert download_plan(present, dest_root, registry=registry).summary() == (
        f"data: all 12 files already in {dest_root}"
    )
    with pytest.raises(KeyError, match="no-such-file"):
        download_plan(["no-such-file"], dest_root, registry=registry)


def test_download_plan_with_mirror_from_environment(
    mirror: Path, registry, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv(sources.MIRROR_ENV, str(mirror))
    plan = download_plan(list(registry), tmp_path / "dl", registry=registry)
    in_mirror = tuple(k for k, s in registry.items() if s.owner is not None)
    assert plan.mirror == mirror and plan.from_mirror == in_mirror and plan.present == ()
    assert plan.to_download == ("cifar10-python", "cifar100-python")
    assert plan.hosts == ("www.cs.toronto.edu",)
    lines = plan.summary().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"data: {len(registry)} of {len(registry)} files to fetch (")
    assert lines[1] == (
        f"  {len(in_mirror)} copied from mirror {mirror} ({plan.mirror_bytes / 1e6:.1f} MB), "
        f"2 downloaded ({plan.download_bytes / 1e6:.1f} MB) from www.cs.toronto.edu"
    )
    only_mirror = download_plan(in_mirror[:2], tmp_path / "dl", registry=registry)
    assert only_mirror.summary().endswith(f"({only_mirror.mirror_bytes / 1e6:.1f} MB), "
                                          "0 downloaded")


# --- an official-format CIFAR-10 tarball, downloaded and read end to end -------------------


def cifar10_samples(per_batch: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Real images for each official member, taken from the batch file they came from."""
    path = IMAGES / "cifar10.npz"
    if not path.is_file():
        pytest.skip(f"real CIFAR-10 sample images not found at {path}")
    with np.load(path) as data:
        x, y, origin = data["x"], data["y"], data["origin"]
    members = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    return {m: (x[origin == m][:per_batch], y[origin == m][:per_batch]) for m in members}


def write_cifar10_tarball(path: Path, batches: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    path.parent.mkdir(parents=True)
    with tarfile.open(path, "w:gz") as tar:
        for name, (x, y) in batches.items():
            # Official layout: N x 3072 uint8, the R, G, then B plane of each 32x32 image.
            batch = {
                b"batch_label": name.encode(),
                b"labels": [int(label) for label in y],
                b"data": np.ascontiguousarray(x.transpose(0, 3, 1, 2).reshape(len(x), -1)),
                b"filenames": [f"{name}_{i}.png".encode() for i in range(len(x))],
            }
            blob = pickle.dumps(batch, protocol=2)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))


def test_cifar10_tarball_downloaded_and_read_end_to_end(
    registry, tmp_path: Path, monkeypatch
) -> None:
    batches = cifar10_samples(per_batch=24)
    served_root = tmp_path / "served"
    source = registry["cifar10-python"]
    tarball = served_root / source.relpath
    write_cifar10_tarball(tarball, batches)
    with gzip.open(tarball) as handle:  # really a gzip tar, as the official file
        assert handle.read(2)
    md5 = hashlib.md5(tarball.read_bytes()).hexdigest()
    raw = yaml.safe_load(REGISTRY_PATH.read_text(encoding="utf-8"))
    entry = next(e for e in raw["sources"] if e["key"] == "cifar10-python")
    entry.update(md5=md5, size=tarball.stat().st_size)
    registry_path = tmp_path / "sources.yaml"
    registry_path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    test_registry = load_registry(registry_path)

    with serve(served_root) as server:
        monkeypatch.setenv(sources.DOWNLOAD_BASE_ENV, server.url)
        got = fetch("cifar10-python", tmp_path / "dl", registry=test_registry)
        assert server.requests == ["www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"]
    assert got == tmp_path / "dl" / "www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    # The reader checks the md5 against the registry: give it the one that names this file.
    monkeypatch.setattr(images, "load_registry", lambda: test_registry)
    loaded = images.load_cifar_tarball("cifar10", got)
    np.testing.assert_array_equal(loaded.x, np.concatenate([x for x, _ in batches.values()]))
    np.testing.assert_array_equal(loaded.y, np.concatenate([y for _, y in batches.values()]))
    assert list(dict.fromkeys(loaded.origin)) == list(batches)
    assert len(loaded.x) == 6 * 24
