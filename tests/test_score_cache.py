"""The score cache never serves a stale or tampered score and never loses one."""

from __future__ import annotations

import dataclasses
import json
import logging
import multiprocessing
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import IMAGES

from zeroshot_nas import scoring, spaces
from zeroshot_nas.errors import UserError
from zeroshot_nas.proxies import Protocol, registry
from zeroshot_nas.score_cache import ScoreCache, make_entry, reusable_numerics
from zeroshot_nas.scoring import score_archs

NPZ = IMAGES / "ImageNet16-120.npz"
DS = "ImageNet16-120"
PROTO = Protocol(batch_size=8)
ARCHS = [spaces.arch_from_id("nb201", i) for i in ("333031", "123412", "232323", "310213")]


def json_files(cache: Path) -> list[Path]:
    return sorted(cache.rglob("*.json"))


def test_another_image_file_recomputes_under_the_same_protocol(tmp_path):
    cache = tmp_path / "cache"
    first = score_archs("nb201", DS, 0, ARCHS[:2], ["naswot"], PROTO, NPZ, cache, None)
    with np.load(NPZ) as npz:
        other = {k: npz[k][::-1] for k in npz.files}  # same images, other order: other batch
    swapped = tmp_path / "swapped.npz"
    np.savez(swapped, **other)
    second = score_archs("nb201", DS, 0, ARCHS[:2], ["naswot"], PROTO, swapped, cache, None)
    assert second.attrs["computed"] == 2 and second.attrs["cached"] == 0
    assert not np.array_equal(first["value"].to_numpy(), second["value"].to_numpy())
    again = score_archs("nb201", DS, 0, ARCHS[:2], ["naswot"], PROTO, NPZ, cache, None)
    assert again.attrs["cached"] == 2  # both batches keep their own, correct entries
    assert np.array_equal(first["value"].to_numpy(), again["value"].to_numpy())


def test_a_new_score_definition_recomputes_that_score_only(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    first = score_archs("nb201", DS, 0, ARCHS[:2], ["naswot", "synflow"], PROTO, NPZ, cache, None)
    bumped = dataclasses.replace(registry.REGISTRY["synflow"],
                                 version=registry.REGISTRY["synflow"].version + 1)
    monkeypatch.setitem(registry.REGISTRY, "synflow", bumped)
    second = score_archs("nb201", DS, 0, ARCHS[:2], ["naswot", "synflow"], PROTO, NPZ, cache, None)
    assert second.attrs["computed"] == 2
    a, b = first.set_index(["arch", "score"]), second.set_index(["arch", "score"])
    for arch in ARCHS[:2]:
        # naswot kept its cached entry (same seconds); synflow was measured again.
        assert b.loc[(arch, "naswot"), "seconds"] == a.loc[(arch, "naswot"), "seconds"]
        assert b.loc[(arch, "synflow"), "seconds"] != a.loc[(arch, "synflow"), "seconds"]
        assert b.loc[(arch, "synflow"), "value"] == a.loc[(arch, "synflow"), "value"]


def test_a_hand_edited_value_is_recomputed_with_a_warning(tmp_path, caplog):
    cache = tmp_path / "cache"
    first = score_archs("nb201", DS, 0, ARCHS[:1], ["naswot"], PROTO, NPZ, cache, None)
    (path,) = json_files(cache)
    data = json.loads(path.read_text())
    data["modes"]["fused"]["naswot"]["value"] = 1e9
    path.write_text(json.dumps(data))
    with caplog.at_level(logging.WARNING):
        second = score_archs("nb201", DS, 0, ARCHS[:1], ["naswot"], PROTO, NPZ, cache, None)
    assert "does not match its checksum" in caplog.text and str(path) in caplog.text
    assert second.attrs["computed"] == 1
    assert second["value"].iloc[0] == first["value"].iloc[0]


@pytest.mark.parametrize("damage", ["truncate", "wrong shape"])
def test_a_corrupt_file_is_moved_aside_and_recomputed(tmp_path, caplog, damage):
    cache = tmp_path / "cache"
    first = score_archs("nb201", DS, 0, ARCHS[:1], ["naswot"], PROTO, NPZ, cache, None)
    (path,) = json_files(cache)
    text = path.read_text()
    path.write_text(text[: len(text) // 2] if damage == "truncate" else json.dumps({"modes": []}))
    with caplog.at_level(logging.WARNING):
        second = score_archs("nb201", DS, 0, ARCHS[:1], ["naswot"], PROTO, NPZ, cache, None)
    assert "unreadable" in caplog.text and str(path) in caplog.text
    assert second.attrs["computed"] == 1 and second["value"].iloc[0] == first["value"].iloc[0]
    assert len(list(path.parent.glob(f"{path.name}.corrupt-*"))) == 1


IDENTITY = {"space": "nb201", "dataset": DS, "seed": 0, "protocol_key": "k", "batch": "b"}


def test_interleaved_writers_merge_instead_of_overwriting(tmp_path):
    # Writer A and B both read the (empty) file, compute, then write: the old
    # read-modify-write lost A's score; merging under the lock keeps both.
    a, b = ScoreCache(tmp_path, IDENTITY), ScoreCache(tmp_path, IDENTITY)
    a.load("x"), b.load("x")
    definition = {"score": 1, "engine": 1}
    a.merge("x", "arch", "fused", {"naswot": make_entry(1.0, "ok", 0.1, {}, definition)})
    b.merge("x", "arch", "fused", {"synflow": make_entry(2.0, "ok", 0.2, {}, definition)})
    entries = ScoreCache(tmp_path, IDENTITY).load("x")["modes"]["fused"]
    assert set(entries) == {"naswot", "synflow"}


def test_a_file_copied_under_another_architecture_is_not_served(tmp_path, caplog):
    # Issue 20: `cp 113324.json 123214.json` made 123214 be served 113324's values.
    cache = tmp_path / "cache"
    first = score_archs("nb201", DS, 0, ARCHS[:1], ["naswot"], PROTO, NPZ, cache, None)
    (path,) = json_files(cache)
    other = ARCHS[1]
    copy = path.with_name(f"{spaces.arch_id('nb201', other)}.json")
    copy.write_bytes(path.read_bytes())
    with caplog.at_level(logging.WARNING):
        second = score_archs("nb201", DS, 0, [other], ["naswot"], PROTO, NPZ, cache, None)
    assert second.attrs["computed"] == 1
    assert second["value"].iloc[0] != first["value"].iloc[0]
    assert "not this architecture's" in caplog.text and "arch_id" in caplog.text
    assert len(list(cache.rglob(f"{copy.name}.foreign-*"))) == 1


def test_an_entry_moved_into_another_file_fails_its_checksum(tmp_path, caplog):
    cache = tmp_path / "cache"
    score_archs("nb201", DS, 0, ARCHS[:2], ["naswot"], PROTO, NPZ, cache, None)
    one, two = json_files(cache)
    data_one, data_two = json.loads(one.read_text()), json.loads(two.read_text())
    data_two["modes"] = data_one["modes"]  # the header stays two's own
    two.write_text(json.dumps(data_two))
    with caplog.at_level(logging.WARNING):
        again = score_archs("nb201", DS, 0, ARCHS[:2], ["naswot"], PROTO, NPZ, cache, None)
    assert again.attrs["computed"] == 1 and "does not match its checksum" in caplog.text


@pytest.mark.parametrize("damage", ["directory", "wrong types", "not a mapping"])
def test_malformed_files_and_entries_of_any_shape_are_recomputed(tmp_path, caplog, damage):
    cache = tmp_path / "cache"
    first = score_archs("nb201", DS, 0, ARCHS[:1], ["naswot"], PROTO, NPZ, cache, None)
    (path,) = json_files(cache)
    data = json.loads(path.read_text())
    if damage == "directory":
        path.unlink()
        path.mkdir()
    elif damage == "wrong types":
        data["modes"]["fused"]["naswot"] |= {"value": "199.2", "seconds": None}
        path.write_text(json.dumps(data))
    else:
        path.write_text(json.dumps([data]))
    with caplog.at_level(logging.WARNING):
        second = score_archs("nb201", DS, 0, ARCHS[:1], ["naswot"], PROTO, NPZ, cache, None)
    assert second.attrs["computed"] == 1 and second["value"].iloc[0] == first["value"].iloc[0]
    assert str(path) in caplog.text


def test_a_cache_folder_that_cannot_be_written_is_an_error_naming_it(tmp_path):
    cache = tmp_path / "cache"
    score_archs("nb201", DS, 0, ARCHS[:1], ["naswot"], PROTO, NPZ, cache, None)
    (path,) = json_files(cache)
    lock = path.parent / ".lock"
    lock.unlink(missing_ok=True)
    lock.mkdir()  # a real OSError on the lock, as on a read-only disk
    # what is cached is still served without writing
    cached = score_archs("nb201", DS, 0, ARCHS[:1], ["naswot"], PROTO, NPZ, cache, None)
    assert cached.attrs["cached"] == 1
    with pytest.raises(UserError, match=f"cannot write to the score cache folder {path.parent}"):
        score_archs("nb201", DS, 0, ARCHS[:1], ["synflow"], PROTO, NPZ, cache, None)


def test_thread_count_and_numerics_environment_are_checked_on_read(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    first = score_archs("nb201", DS, 0, ARCHS[:1], ["params"], PROTO, NPZ, cache, None)
    two = score_archs("nb201", DS, 0, ARCHS[:1], ["params"],
                      dataclasses.replace(PROTO, threads=2), NPZ, cache, None)
    assert two.attrs["computed"] == 1  # another thread count, another folder
    assert len(json_files(cache)) == 2
    monkeypatch.setattr(scoring, "numerics_environment", lambda _device: "torch 0.0, cpu other")
    other = score_archs("nb201", DS, 0, ARCHS[:1], ["params"], PROTO, NPZ, cache, None)
    assert other.attrs["computed"] == 1 and first.attrs["computed"] == 1


def _score_in_a_process(args):
    names, cache = args
    archs = spaces.all_archs("nb201")[5000:5012]
    score_archs("nb201", DS, 0, archs, names, PROTO, NPZ, cache, None, progress=False)


def test_two_concurrent_runs_keep_every_score(tmp_path):
    cache = tmp_path / "cache"
    jobs = [(["naswot", "synflow"], cache), (["logsynflow", "naswot", "params"], cache)]
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        pool.map(_score_in_a_process, jobs)
    files = json_files(cache)
    assert len(files) == 12
    for path in files:
        scores = json.loads(path.read_text())["modes"]["fused"]
        assert set(scores) == {"naswot", "synflow", "logsynflow", "params"}, path


TORCH_BUILD = f"torch {torch.__version__}"


@pytest.mark.parametrize(("recorded", "policy", "served"), [
    (f"{TORCH_BUILD}, cpu AVX2", "exact", True),
    (f"{TORCH_BUILD}, cpu AVX512", "exact", False),
    (f"{TORCH_BUILD}, cpu AVX512", "any-cpu", True),
    ("torch 0.0+cpu, cpu AVX512", "any-cpu", False),  # another torch build: never
    (f"{TORCH_BUILD}, cuda NVIDIA H200", "any-cpu", False),  # CUDA kernels: never
])
def test_another_instruction_set_is_served_only_when_asked(recorded, policy, served):
    assert reusable_numerics(recorded, f"{TORCH_BUILD}, cpu AVX2", policy) is served


def test_a_run_resumed_on_another_cpu_serves_its_values_and_names_their_numerics(
        tmp_path, monkeypatch, caplog):
    cache, elsewhere = tmp_path / "cache", f"{TORCH_BUILD}, cpu AVX512"
    here = scoring.numerics_environment(torch.device("cpu"))
    monkeypatch.setattr(scoring, "numerics_environment", lambda _device: elsewhere)
    first = score_archs("nb201", DS, 0, ARCHS[:2], ["naswot", "params"], PROTO, NPZ, cache, None)
    assert set(first["numerics"]) == {elsewhere}
    monkeypatch.setattr(scoring, "numerics_environment",
                        lambda _device: here.replace("AVX512", "AVX2") if here == elsewhere
                        else here)
    exact = score_archs("nb201", DS, 0, ARCHS[:1], ["naswot"], PROTO, NPZ, cache, None)
    assert exact.attrs["computed"] == 1 and set(exact["numerics"]) != {elsewhere}
    with caplog.at_level(logging.WARNING):
        resumed = score_archs("nb201", DS, 0, ARCHS[:2], ["naswot", "params"], PROTO, NPZ, cache,
                              None, cache_numerics="any-cpu")
    # the first architecture's naswot is this machine's own now; the rest is served
    assert resumed.attrs == {"computed": 0, "cached": 2}
    assert list(resumed["numerics"]) == [exact["numerics"][0], elsewhere, elsewhere, elsewhere]
    assert f"3 value(s) served from the cache were computed with {elsewhere}" in caplog.text
    assert resumed.loc[1:, "value"].tolist() == first.loc[1:, "value"].tolist()
    with pytest.raises(ValueError, match="cache numerics policy must be one of"):
        score_archs("nb201", DS, 0, ARCHS[2:3], ["naswot"], PROTO, NPZ, cache, None,
                    cache_numerics="close-enough")  # refused before anything is looked up
