"""The Snakemake report of a real tiny run: every figure with its own caption, the paper's
tables and the statistics as CSV, and the PDF, grouped by paper."""

from __future__ import annotations

import base64
import html
import json
import os
import re
import shutil
from pathlib import Path

import pytest
import yaml
from test_workflow import run_snakemake, write_config

from zeroshot_nas.plots import catalog

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def report(tmp_path_factory, shared_data, snakemake_exe) -> tuple[Path, dict, dict]:
    """The tiny configuration run end to end (the PDF too where latexmk exists), then
    ``--report``; returns the run folder and the report's results and categories."""
    workdir = tmp_path_factory.mktemp("report")
    write_config(workdir)
    config = yaml.safe_load((workdir / "config.yaml").read_text())
    config["paper"]["build_pdf"] = shutil.which("latexmk") is not None
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    env = {k: v for k, v in os.environ.items() if k != "ZEROSHOT_NAS_MIRROR"}
    run_snakemake(snakemake_exe, workdir, env)
    run_snakemake(snakemake_exe, workdir, env, "--report", str(workdir / "report.html"))
    page = (workdir / "report.html").read_text(encoding="utf-8")
    return workdir, _variable(page, "results"), _variable(page, "categories")


def _variable(page: str, name: str) -> dict:
    """A JSON object the report assigns to a JavaScript variable."""
    m = re.search(rf"^\s*var {name} = (\{{.*\}});\s*$", page, re.M)
    assert m, f"no {name} in the report"
    return json.loads(m.group(1))


def _text(caption_html: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", caption_html)).split())


def _data(entry: dict) -> bytes:
    return base64.b64decode(entry["data_uri"].split("base64,", 1)[1])


def test_every_figure_has_its_own_caption_under_its_paper(report):
    workdir, results, categories = report
    figures = workdir / "results" / "tiny" / "figures"
    drawn = sorted(figures.glob("*.png"))
    assert len(drawn) >= 5
    for png in drawn:
        entry = results[f"results/tiny/figures/{png.name}"]
        caption = _text(entry["caption"])
        own = " ".join((figures / f"{png.stem}.txt").read_text(encoding="utf-8").split())
        assert own in caption, png.name
        heading = catalog.resolve_figure(png.stem).heading
        assert heading in caption and entry["labels"]["item"] == heading
        assert f"results/tiny/figures/{png.name}" in \
            categories[catalog.figure_category(png.stem)]["Paper figures"]
    assert "Its full caption is in" not in json.dumps(results)


def test_the_papers_tables_and_the_statistics_are_in_the_report(report):
    workdir, results, categories = report
    generated = workdir / "results" / "tiny" / "paper" / "generated"
    tables = sorted(generated.glob("*.csv"))
    assert {"rank_based_table1.csv", "protocol.csv", "not_reproduced.csv",
            "claims.csv"} <= {t.name for t in tables}
    for csv in tables:
        entry = results[f"results/tiny/paper/generated/{csv.name}"]
        assert _data(entry) == csv.read_bytes(), csv.name
        assert catalog.resolve_table(csv.stem).heading in _text(entry["caption"])
        assert f"results/tiny/paper/generated/{csv.name}" in \
            categories[catalog.table_category(csv.stem)]["Tables (CSV)"]
    # small tables are printed in the caption itself
    protocol = results["results/tiny/paper/generated/protocol.csv"]["caption"]
    assert "<table" in protocol and "Batch size" in protocol
    stats = sorted((workdir / "results" / "tiny" / "stats").glob("*.csv"))
    assert "correlations.csv" in {s.name for s in stats}
    for csv in stats:
        entry = results[f"results/tiny/stats/{csv.name}"]
        assert _data(entry) == csv.read_bytes(), csv.name
        assert f"Statistics: {csv.stem}" in _text(entry["caption"])
    papers = [c for c in categories if c.split(":")[0] in {"PS", "RB", "NWOT", "SSNR"}]
    assert {c.split(":")[0] for c in papers} >= {"PS", "RB", "SSNR"}


def test_the_pdf_is_in_the_report(report):
    workdir, results, _ = report
    pdf = workdir / "results" / "tiny" / "paper" / "main.pdf"
    if shutil.which("latexmk") is None:
        pytest.skip("latexmk is not installed: no PDF (CI installs it)")
    entry = results["results/tiny/paper/main.pdf"]
    assert entry["mime_type"] == "application/pdf" and _data(entry) == pdf.read_bytes()
