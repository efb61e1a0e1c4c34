"""Source registry and verified fetching, on the real mirror files."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
from pathlib import Path

import pytest
import yaml
from conftest import MIRROR, SHARED_DATA, WHERE

from zeroshot_nas.data import sources
from zeroshot_nas.data.sources import DownloadError, Source, fetch, load_registry

REPO_ROOT = Path(__file__).resolve().parents[1]
REGISTRY_PATH = REPO_ROOT / "data" / "sources.yaml"


@pytest.fixture(scope="module")
def mirror() -> Path:
    if not MIRROR.is_dir():
        pytest.skip(f"real benchmark data not found at {MIRROR} ({WHERE})")
    return MIRROR


@pytest.fixture(autouse=True)
def no_mirror_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # A mirror set in the caller's environment must not change what these tests exercise.
    monkeypatch.delenv(sources.MIRROR_ENV, raising=False)


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_registry_covers_every_mirror_file_with_its_hash(mirror: Path) -> None:
    registry = load_registry()
    github = {s.relpath.as_posix(): s for s in registry.values() if s.owner is not None}
    mirror_files = {p.relative_to(mirror).as_posix() for p in files_under(mirror)}
    assert set(github) == mirror_files
    for rel, source in github.items():
        assert source.sha256 == sha256(mirror / rel), rel
        assert source.url == f"https://raw.githubusercontent.com/{rel}"
        # Optional: test fixtures (no run reads them), FreeREA's score files, which serve an
        # optional check (stats.freerea_check) alone, NAS-Bench-101's tables (fetched by a run
        # with an nb101 experiment only) and NASLib's file of the format interop reads.
        assert source.optional == (source.group.endswith("-fixtures")
                                   or source.group.startswith("benchmark-nb101")
                                   or source.group in ("freerea-scores", "naslib-format")), rel


def test_registry_hashes_match_the_data_readme(mirror: Path) -> None:
    readme = (SHARED_DATA / "README.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^([0-9a-f]{64})\s", readme, flags=re.MULTILINE))
    # The 60 FreeREA image batches have their sums in a file beside the README, by path.
    batches = dict(
        reversed(line.split())
        for line in (SHARED_DATA / "fracapuano-FreeREA-data.sha256").read_text().splitlines()
    )
    assert len(batches) == 60
    # Every other mirror file has its line in the README (a parsing slip would show here).
    assert len(listed) == len(files_under(mirror)) - len(batches)
    registry = load_registry()
    registered = {s.sha256 for s in registry.values() if s.sha256}
    assert registered == listed | set(batches.values())
    for path, digest in batches.items():
        (source,) = [s for s in registry.values() if s.relpath.as_posix() == path]
        assert source.sha256 == digest and source.group.startswith("images-")


def test_cifar_tarballs_are_optional_with_official_md5() -> None:
    registry = load_registry()
    c10, c100 = registry["cifar10-python"], registry["cifar100-python"]
    assert c10.url == "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    assert c10.known_hash == "md5:c58f30108f718f92721af3b95e74349a"
    assert c100.url == "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
    assert c100.known_hash == "md5:eb9058c3a382ffc7106e4002c42a8d85"
    assert c10.optional and c100.optional
    assert c10.relpath == Path("www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz")
    for source in registry.values():
        assert source.licence and len(source.description) > 40


def edited_registry(tmp_path: Path, edit) -> Path:
    raw = yaml.safe_load(REGISTRY_PATH.read_text(encoding="utf-8"))
    edit(raw["sources"])
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


def test_registry_rejects_url_that_is_not_the_pinned_location(tmp_path: Path) -> None:
    def edit(entries: list[dict]) -> None:
        entries[0]["url"] = entries[0]["url"].replace(entries[0]["commit"], "main")

    with pytest.raises(ValueError, match="nats-tss-test-acc.*pinned location"):
        load_registry(edited_registry(tmp_path, edit))


def test_registry_rejects_duplicate_keys_and_missing_hash(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="duplicate key 'nats-tss-test-acc'"):
        load_registry(edited_registry(tmp_path, lambda e: e.append(dict(e[0]))))
    with pytest.raises(ValueError, match="invalid source registry"):
        load_registry(edited_registry(tmp_path, lambda e: e[1].pop("sha256")))


def test_good_mirror_file_is_accepted_then_reused(mirror: Path, tmp_path: Path) -> None:
    registry = load_registry()
    dest_root = tmp_path / "downloads"
    path = fetch("mini-nb201-12epoch", dest_root, mirror=mirror, registry=registry)
    source = registry["mini-nb201-12epoch"]
    assert path == dest_root / source.relpath
    assert path.read_bytes() == (mirror / source.relpath).read_bytes()
    assert files_under(dest_root) == [path]  # no temporary file left beside it
    stamp = path.stat().st_mtime_ns
    # Present and valid: no mirror and no network needed, the file is not rewritten.
    again = fetch("mini-nb201-12epoch", dest_root, mirror=None, registry=registry)
    assert again == path and path.stat().st_mtime_ns == stamp


def test_mirror_from_environment_variable(
    mirror: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(sources.MIRROR_ENV, str(mirror))
    path = fetch("nb201-v1_0-valid-cifar100", tmp_path / "dl")
    assert sha256(path) == load_registry()["nb201-v1_0-valid-cifar100"].sha256


def corrupt_copy(mirror: Path, tmp_mirror: Path, source: Source) -> Path:
    target = tmp_mirror / source.relpath
    target.parent.mkdir(parents=True)
    data = bytearray((mirror / source.relpath).read_bytes())
    data[len(data) // 2] ^= 0x01  # one byte changed
    target.write_bytes(bytes(data))
    return target


def test_corrupted_mirror_file_is_refused_and_nothing_left(mirror: Path, tmp_path: Path) -> None:
    registry = load_registry()
    source = registry["nats-tss-test-acc"]
    bad = corrupt_copy(mirror, tmp_path / "mirror", source)
    dest_root = tmp_path / "downloads"
    dest_root.mkdir()
    with pytest.raises(DownloadError) as info:
        fetch("nats-tss-test-acc", dest_root, mirror=tmp_path / "mirror", registry=registry)
    message = str(info.value)
    assert "nats-tss-test-acc" in message and str(bad) in message
    assert source.sha256 in message and sha256(bad) in message
    assert list(dest_root.rglob("*")) == []  # no file and no empty folder left behind


def test_corrupted_destination_file_is_replaced(mirror: Path, tmp_path: Path) -> None:
    registry = load_registry()
    source = registry["freerea-cifar10-params"]
    dest = tmp_path / "dl" / source.relpath
    dest.parent.mkdir(parents=True)
    dest.write_bytes(b"index,params\n0,0.0\n")
    path = fetch("freerea-cifar10-params", tmp_path / "dl", mirror=mirror, registry=registry)
    assert sha256(path) == source.sha256


def test_missing_everywhere_is_a_clear_error(tmp_path: Path) -> None:
    # A file in neither the mirror nor reachable (refused local port): nothing may remain.
    unreachable = dataclasses.replace(
        load_registry()["cifar10-python"], key="unreachable", url="http://127.0.0.1:9/x.tar.gz"
    )
    registry = {"unreachable": unreachable}
    (tmp_path / "empty-mirror").mkdir()
    dest_root = tmp_path / "dl"
    with pytest.raises(DownloadError) as info:
        fetch("unreachable", dest_root, mirror=tmp_path / "empty-mirror", registry=registry)
    message = str(info.value)
    assert "unreachable" in message and "http://127.0.0.1:9/x.tar.gz" in message
    assert "not in mirror" in message and unreachable.md5 in message
    assert not dest_root.exists()  # the folders this fetch created are gone too


def test_unknown_key_names_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(KeyError, match="nats-tss-test-acc"):
        fetch("no-such-file", tmp_path)


def test_fetch_all_skips_optional_files(mirror: Path, tmp_path: Path) -> None:
    got = sources.fetch_all(tmp_path / "dl", mirror=mirror)
    registry = load_registry()
    assert set(got) == {k for k, s in registry.items() if not s.optional}
    assert len(files_under(tmp_path / "dl")) == 12 + 60  # benchmark files + image batches
    for key, path in got.items():
        assert sha256(path) == registry[key].sha256


def test_published_files_are_world_readable(mirror: Path, tmp_path: Path) -> None:
    path = fetch("nats-tss-test-acc", tmp_path / "dl", mirror=mirror)
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
