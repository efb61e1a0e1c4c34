"""figures/: the home of regenerated paper figures, filled by an explicit copy that never
touches a file it did not write (issue 20, finding 6)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from conftest import REPO_ROOT

from zeroshot_nas import cli
from zeroshot_nas.data.sources import file_hash
from zeroshot_nas.errors import UserError
from zeroshot_nas.plots.publish import MANIFEST, copy_figures

README_COPIES = REPO_ROOT / "figures" / "paper-cpu"


def fake_run(folder: Path, figures: dict[str, list[str]]) -> Path:
    """A run's figures folder (real PNGs and captions of the README's copies) with the
    manifest the figures step writes."""
    folder.mkdir(parents=True, exist_ok=True)
    for files in figures.values():
        for name in files:
            shutil.copy(README_COPIES / name, folder / name)
    (folder / "figures_manifest.json").write_text(json.dumps({"made": figures, "skipped": {}}))
    return folder


FIGS = {"ps_fig3": ["ps_fig3.png", "ps_fig3.txt"], "ps_fig4": ["ps_fig4.png", "ps_fig4.txt"]}


def test_readme_shows_the_figures_of_the_top_level_figures_folder():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    shown = re.findall(r"\]\(([^)]+\.png)\)", readme)
    assert shown and all(p.startswith("figures/") and (REPO_ROOT / p).is_file() for p in shown)
    owned = json.loads((README_COPIES / MANIFEST).read_text())["files"]
    assert {Path(p).name for p in shown} <= set(owned)


def test_copy_replaces_only_its_own_files_and_keeps_the_users(tmp_path):
    run = fake_run(tmp_path / "results" / "exp" / "figures", FIGS)
    dest = tmp_path / "figures" / "exp"
    dest.mkdir(parents=True)
    (dest / "notes.txt").write_text("mine\n")
    first = copy_figures(run, dest)
    assert sorted(first.copied) == sorted(f for fs in FIGS.values() for f in fs)
    assert (dest / "ps_fig3.png").read_bytes() == (run / "ps_fig3.png").read_bytes()
    # a second copy of fewer figures replaces its own files and removes the one it no longer
    # copies, unless it changed since (then it is the user's)
    (dest / "ps_fig4.txt").write_text("edited\n")
    second = copy_figures(run, dest, only=["ps_fig3"])
    assert second.removed == ("ps_fig4.png",) and second.kept == ("ps_fig4.txt",)
    assert not (dest / "ps_fig4.png").exists() and (dest / "ps_fig4.txt").read_text() == "edited\n"
    assert (dest / "notes.txt").read_text() == "mine\n"
    assert set(json.loads((dest / MANIFEST).read_text())["files"]) == set(FIGS["ps_fig3"])


def test_a_file_it_did_not_write_stops_the_copy_before_anything_is_written(tmp_path):
    run = fake_run(tmp_path / "run", FIGS)
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "ps_fig4.png").write_bytes(b"the user's own figure")
    with pytest.raises(UserError, match="ps_fig4.png.*did not write"):
        copy_figures(run, dest)
    assert sorted(p.name for p in dest.iterdir()) == ["ps_fig4.png"]
    assert (dest / "ps_fig4.png").read_bytes() == b"the user's own figure"


def test_copy_figures_command(tmp_path, monkeypatch, capsys):
    fake_run(tmp_path / "results" / "exp" / "figures", FIGS)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["copy-figures", "--experiment", "exp", "--only", "ps_fig4"]) == 0
    assert sorted(p.name for p in (tmp_path / "figures" / "exp").iterdir()) == [
        MANIFEST, "ps_fig4.png", "ps_fig4.txt"]
    assert cli.main(["copy-figures", "--experiment", "exp", "--only", "nope"]) == 2
    assert "no figure nope" in capsys.readouterr().err
    assert cli.main(["copy-figures", "--experiment", "other"]) == 2


@pytest.mark.parametrize("manifest", [MANIFEST, "figures_manifest.json"])
def test_a_manifest_naming_a_file_outside_its_folder_is_refused(tmp_path, manifest):
    # A hand-edited or crafted manifest (figures/<experiment>/copied.json is committed) must
    # not make a copy delete or write a file beside the folder it owns.
    run = fake_run(tmp_path / "run", FIGS)
    dest = tmp_path / "figures" / "exp"
    dest.mkdir(parents=True)
    outside = tmp_path / "figures" / "README.md"
    outside.write_text("the user's\n")
    if manifest == MANIFEST:
        copy_figures(run, dest)
        owned = json.loads((dest / MANIFEST).read_text())
        owned["files"]["../README.md"] = file_hash(outside)
        (dest / MANIFEST).write_text(json.dumps(owned))
        only = ["ps_fig3"]
    else:
        # run/../x.png exists, and dest/../x.png would be written beside dest
        (run / manifest).write_text(json.dumps({"made": {"ps_fig3": ["../x.png"]}}))
        shutil.copy(run / "ps_fig3.png", tmp_path / "x.png")
        only = None
    with pytest.raises(UserError, match=r"\.\./"):
        copy_figures(run, dest, only=only)
    assert outside.read_text() == "the user's\n"
    assert not (tmp_path / "figures" / "x.png").exists()
