"""Score archives: a cache packed into one file and written back, nothing stale, nothing lost."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import IMAGES

from zeroshot_nas import cli, spaces
from zeroshot_nas.errors import UserError
from zeroshot_nas.proxies import Protocol
from zeroshot_nas.score_archive import export_archive, import_archive, read_archive
from zeroshot_nas.scoring import score_archs

NPZ = IMAGES / "ImageNet16-120.npz"
DS = "ImageNet16-120"
PROTO = Protocol(batch_size=8)
ARCHS = [spaces.arch_from_id("nb201", i) for i in ("333031", "123412", "232323")]
# naswot is -inf on a cell with no path from input to output: a non-finite entry travels too
NO_PATH = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
SCORES = ["naswot", "synflow", "params"]


def _files(cache: Path) -> dict[str, bytes]:
    return {p.relative_to(cache).as_posix(): p.read_bytes() for p in sorted(cache.rglob("*.json"))}


def _score(archs, cache):
    return score_archs("nb201", DS, 0, archs, SCORES, PROTO, NPZ, cache, None, progress=False)


def test_an_imported_cache_serves_every_score_and_holds_the_same_bytes(tmp_path):
    first = _score([*ARCHS, NO_PATH], tmp_path / "a")
    assert (first["status"] == "-inf").sum() == 1
    assert export_archive(tmp_path / "a", tmp_path / "scores.parquet") == 4 * len(SCORES)
    counts = import_archive([tmp_path / "scores.parquet"], tmp_path / "b")
    assert (counts.added, counts.kept, counts.rejected) == (12, 0, 0)
    assert _files(tmp_path / "b") == _files(tmp_path / "a")
    # each file keeps the time it was scored at (progress reads its pace from it)
    assert [p.stat().st_mtime for p in sorted((tmp_path / "b").rglob("*.json"))] == \
        [p.stat().st_mtime for p in sorted((tmp_path / "a").rglob("*.json"))]
    again = _score([*ARCHS, NO_PATH], tmp_path / "b")
    assert again.attrs["computed"] == 0 and again.attrs["cached"] == 4
    pd.testing.assert_frame_equal(again, first, check_like=True)


def test_a_later_part_holds_only_what_earlier_parts_lack(tmp_path):
    cache = tmp_path / "cache"
    _score(ARCHS[:2], cache)
    export_archive(cache, tmp_path / "part1.parquet")
    _score(ARCHS, cache)  # one more architecture; the first two are served from the cache
    assert export_archive(cache, tmp_path / "part2.parquet",
                          exclude=[tmp_path / "part1.parquet"]) == len(SCORES)
    assert set(read_archive(tmp_path / "part2.parquet")["arch"]) == {ARCHS[2]}
    import_archive([tmp_path / "part1.parquet", tmp_path / "part2.parquet"], tmp_path / "new")
    assert _files(tmp_path / "new") == _files(cache)


def test_an_intact_local_entry_is_kept_and_the_rest_added(tmp_path):
    _score(ARCHS, tmp_path / "a")
    export_archive(tmp_path / "a", tmp_path / "scores.parquet")
    local = _score(ARCHS[:1], tmp_path / "b")  # its own seconds: another, equally valid entry
    counts = import_archive([tmp_path / "scores.parquet"], tmp_path / "b")
    assert (counts.added, counts.kept) == (2 * len(SCORES), len(SCORES))
    served = _score(ARCHS[:1], tmp_path / "b")
    assert served.attrs["computed"] == 0
    assert served["seconds"].tolist() == local["seconds"].tolist()


def _tampered(tmp_path: Path, **change) -> Path:
    _score(ARCHS[:2], tmp_path / "a")
    export_archive(tmp_path / "a", tmp_path / "scores.parquet")
    table = pd.read_parquet(tmp_path / "scores.parquet")
    for column, value in change.items():
        table.loc[0, column] = value
    table.to_parquet(tmp_path / "bad.parquet", index=False)
    return tmp_path / "bad.parquet"


@pytest.mark.parametrize("change, reason", [
    ({"value": 1e9}, "does not match its checksum"),
    ({"folder": "../../outside"}, "is not the one its identity names"),
    ({"batch": "../x"}, "does not name a cache folder"),
    ({"status": "bogus"}, "unknown status"),
    ({"written": float("nan")}, "is not a time"),
])
def test_a_tampered_entry_is_rejected_by_name_and_the_rest_imported(tmp_path, caplog, change,
                                                                     reason):
    bad = _tampered(tmp_path, **change)
    with caplog.at_level(logging.WARNING):
        code = cli.main(["cache-import", str(bad), "--cache-dir", str(tmp_path / "b")])
    assert code == 1
    assert reason in caplog.text and str(bad) in caplog.text
    assert read_archive(bad)["score"][0] in caplog.text
    assert len(list((tmp_path / "b").rglob("*.json"))) == 2
    assert not (tmp_path / "outside").exists() and not list(tmp_path.glob("**/x"))
    again = _score(ARCHS[:2], tmp_path / "b")
    assert again.attrs["computed"] == 1  # only the rejected entry's architecture is rescored
    assert not np.isclose(again["value"], 1e9).any()


def test_a_file_that_is_not_an_archive_is_an_error_naming_it(tmp_path):
    other = tmp_path / "scores.parquet"
    pd.DataFrame({"arch": ["x"], "value": [1.0]}).to_parquet(other)
    with pytest.raises(UserError, match=rf"{other}.*not a score archive.*folder"):
        import_archive([other], tmp_path / "cache")
    garbage = tmp_path / "garbage.parquet"
    garbage.write_text("not parquet")
    with pytest.raises(UserError, match=rf"{garbage} cannot be read"):
        import_archive([garbage], tmp_path / "cache")
    assert not (tmp_path / "cache").exists()


def test_export_leaves_out_a_file_whose_identity_is_not_its_folders(tmp_path, caplog):
    _score(ARCHS[:2], tmp_path / "a")
    first, second = sorted((tmp_path / "a").rglob("*.json"))
    second.write_bytes(first.read_bytes())  # a copy under another architecture's name
    with caplog.at_level(logging.WARNING):
        assert export_archive(tmp_path / "a", tmp_path / "scores.parquet") == len(SCORES)
    assert str(second) in caplog.text and "another architecture" in caplog.text


def test_an_entry_of_the_wrong_shape_is_left_out_of_the_archive(tmp_path):
    _score(ARCHS[:1], tmp_path / "a")
    (path,) = (tmp_path / "a").rglob("*.json")
    data = json.loads(path.read_text())
    data["modes"]["fused"]["naswot"] = [1, 2]
    path.write_text(json.dumps(data))
    assert export_archive(tmp_path / "a", tmp_path / "scores.parquet") == len(SCORES) - 1
