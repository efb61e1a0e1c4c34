"""The paper: published values match the papers' texts; the commands stats → figures →
paper-tables → build-paper produce every expected file from a real run."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import IMAGES, PAPERS
from test_search import bench  # noqa: F401 - the real benchmark table fixture
from test_stats import real_scores_table

from zeroshot_nas import cli
from zeroshot_nas.errors import UserError
from zeroshot_nas.paper import build, claims, ps
from zeroshot_nas.paper.document import Document
from zeroshot_nas.paper.published import load_published
from zeroshot_nas.paper.tex import tex_escape
from zeroshot_nas.proxies import REGISTRY
from zeroshot_nas.stats import analysis

REPO_ROOT = Path(__file__).resolve().parents[1]


def _paper_text(name: str) -> str:
    path = PAPERS / f"{name}.txt"
    if not path.exists():
        pytest.skip(f"paper texts not found at {PAPERS}")
    return path.read_text(encoding="utf-8")


def test_tex_escape():
    assert tex_escape("a_b & 50% #1") == r"a\_b \& 50\% \#1"
    assert tex_escape("Σ_J ρ τ Σ") == r"$\Sigma_J$ $\rho$ $\tau$ $\Sigma$"


def test_published_rank_based_table_matches_paper_text():
    text = _paper_text("rank-based-training-free-nas")
    pub = load_published()["rank_based_table1"]
    for score, v in pub["values"].items():
        if v["kendall"][0] is None:
            continue
        line = next(ln for ln in text.splitlines() if ln.startswith(v["label"] + "\t"))
        printed = [float(t) for t in line.split("\t")[1:]]
        ours = [x for pair in zip(v["kendall"], v["spearman"], strict=True) for x in pair]
        assert printed == ours, score


def test_published_ssnr_and_percentiles_match_paper_texts():
    pub = load_published()
    ssnr = _paper_text("layerwise-ssnr")
    for value in pub["ssnr_spearman"]["values"].values():
        assert f"{value:.4f}" in ssnr
    for v in pub["ssnr_table1"]["values"].values():
        line = next(ln for ln in ssnr.splitlines() if ln.startswith(v["label"] + "\t"))
        assert [float(t) for t in line.split("\t")[1:3]] == v["kendall"]
    ps = _paper_text("parameters-scoring")
    for value in pub["ps_percentile"]["values"].values():
        assert f"{value} percentile" in ps
    assert "no Kendall tau" in pub["nwot_fig1"]["note"]
    assert not re.search(r"Kendall.{0,40}\d\.\d", _paper_text("nas-without-training"))


def test_ps_table1_from_registry_matches_paper_marks():
    t = ps.ps_table1({}, load_published(), REGISTRY)
    assert t["in_registry"].all()
    for feat in ("noise", "parameter_space", "cosine_similarity"):
        assert (t[feat] == t[f"{feat}_paper"]).all(), feat


def test_build_pdf_without_latexmk_says_what_to_install(monkeypatch, capsys, tmp_path):
    (tmp_path / "main.tex").write_text("\\documentclass{article}\\begin{document}x\\end{document}")
    (tmp_path / "generated").mkdir()
    monkeypatch.setattr(build.shutil, "which", lambda _name: None)
    with pytest.raises(UserError, match="latexmk not found.*apt-get install latexmk"):
        build.build_pdf(tmp_path / "main.tex", tmp_path / "generated", tmp_path / "main.pdf")
    assert cli.main(["build-paper", "--generated", str(tmp_path / "generated"),
                     "--main", str(tmp_path / "main.tex")]) == 2
    assert "latexmk not found" in capsys.readouterr().err


def test_pipeline_commands_produce_every_file(tmp_path):
    df = real_scores_table(150)
    scores = tmp_path / "scores.parquet"
    df.to_parquet(scores)
    assert {"params", "flops"} <= set(REGISTRY)
    stats_dir, fig_dir = tmp_path / "stats", tmp_path / "figures"
    combo = ["params", "flops"] if "flops" in set(df["score"]) else ["params"]
    assert cli.main(["stats", "--scores", str(scores), "--out", str(stats_dir),
                     "--bootstrap", "100", "--best-of-n", "50", "--best-of-runs", "3",
                     "--rank-combination", *combo]) == 0
    for name in analysis.OUTPUT_TABLES:
        if name.startswith("freerea_"):  # only with stats.freerea_check (tests/test_paper_rb.py)
            assert not (stats_dir / f"{name}.csv").exists()
            continue
        assert (stats_dir / f"{name}.csv").stat().st_size > 0, name
    assert cli.main(["figures", "--scores", str(scores), "--stats", str(stats_dir),
                     "--out", str(fig_dir)]) == 0
    for name in ("compare_scores", "ps_fig1", "ps_fig3", "ps_fig4", "ps_fig5", "ps_percentile",
                 "ps_fig2_cifar10_part1"):
        for ext in ("png", "pdf", "txt"):
            assert (fig_dir / f"{name}.{ext}").stat().st_size > 0, (name, ext)
    assert (fig_dir / "figures_manifest.json").exists()
    # the comparison is the run's own figure, captioned for the report under its name
    assert (fig_dir / "report" / "compare_scores.rst").read_text().startswith(
        "**Score comparison.**")
    paper_dir = tmp_path / "paper"
    assert cli.main(["paper-tables", "--stats", str(stats_dir), "--out",
                     str(paper_dir / "generated"), "--figures", str(fig_dir)]) == 0
    gen = paper_dir / "generated"
    for name in ("run_macros", "rank_based_table1", "ssnr_table", "nwot_table", "ps_table1",
                 "ps_best", "ps_quality", "timing", "fig_ps_fig1", "fig_ps_fig3",
                 "compare_scores", "fig_compare_scores", "section_compare"):
        assert (gen / f"{name}.tex").stat().st_size > 0, name
    rb = pd.read_csv(gen / "rank_based_table1.csv")
    ours = rb[rb["score"] == "rank_combination"]
    assert len(ours) == 3 and np.isfinite(ours[["kendall", "spearman"]].to_numpy()).all()
    corr = pd.read_csv(stats_dir / "correlations.csv")
    assert np.isfinite(corr[["value", "ci_low", "ci_high"]].to_numpy()).all()
    best = pd.read_csv(stats_dir / "best_retrieved.csv")
    assert np.isfinite(best.select_dtypes("number").to_numpy()).all()
    if shutil.which("latexmk"):
        assert cli.main(["build-paper", "--generated", str(gen)]) == 0
        pdf = paper_dir / "main.pdf"
        assert pdf.stat().st_size > 10_000


def test_commands_report_missing_inputs(tmp_path, capsys):
    assert cli.main(["stats", "--scores", str(tmp_path / "none.parquet"),
                     "--out", str(tmp_path / "s")]) == 2
    assert "scores table not found" in capsys.readouterr().err
    assert cli.main(["paper-tables", "--stats", str(tmp_path), "--out", str(tmp_path / "g")]) == 2
    assert "run `stats` first" in capsys.readouterr().err
    assert cli.main(["paper-tables", "--stats", str(tmp_path), "--out", str(tmp_path / "g"),
                     "--sample-stats", "rb-sample"]) == 2
    assert "--sample-stats 'rb-sample': give NAME=FOLDER" in capsys.readouterr().err


def _correlations(values: dict[str, tuple[float, float, float]]) -> pd.DataFrame:
    """Explicit correlation rows (kendall, test accuracy, all, non-finite ranked last)."""
    return pd.DataFrame([{"score": s, "dataset": d, "method": "kendall", "target": "test_acc",
                          "policy": "kept_worst", "subset": "all", "value": v, "ci_low": lo,
                          "ci_high": hi, "n": 100, "n_nonfinite": 0}
                         for s, (v, lo, hi) in values.items()
                         for d in ("cifar10", "cifar100")])


def test_a_contradicted_claim_is_said_with_its_evidence(tmp_path):
    published = load_published()
    negative = {"stats": {"correlations": _correlations(
        {"wpjs": (-0.44, -0.53, -0.31), "wpjsi": (-0.40, -0.50, -0.30)})}}
    claim = ps.claim_wpjs_top(negative["stats"])
    assert claim.verdict == claims.CONTRADICTED and "-0.44 [-0.53, -0.31]" in claim.evidence
    doc = Document(tmp_path, negative["stats"], {}, published, pd.DataFrame())
    text = ps.wpjs_paragraph(doc)
    assert "contradicts the paper" in text and "-0.44 [-0.53, -0.31]" in text
    assert "tensors\\_used" in text
    # an interval that includes zero is no contradiction, and nothing is said
    unsure = {"correlations": _correlations({"wpjs": (0.1, -0.05, 0.2),
                                             "wpjsi": (0.1, -0.05, 0.2)})}
    assert ps.claim_wpjs_top(unsure).verdict == claims.NOT_SUPPORTED
    assert ps.wpjs_paragraph(Document(tmp_path, unsure, {}, published, pd.DataFrame())) == ""
    assert ps.claim_wpjs_top({}).verdict == claims.UNTESTABLE


def test_the_workflow_step_gives_the_paper_its_search_tables(bench, tmp_path,  # noqa: F811
                                                             snakemake_exe):
    """The paper_tables step, run by Snakemake as workflow/rules/paper.smk declares it (the
    search tables a single folder): the document gets the quoted search tables and the
    anytime figure of a real REA search on the benchmark."""
    work = tmp_path / "work"
    bench.to_parquet(tmp_path / "nb201.parquet")
    runs = tmp_path / "rea.parquet"
    assert cli.main(["search", "--algorithm", "rea", "--dataset", "cifar10", "--benchmark",
                     str(tmp_path / "nb201.parquet"), "--runs", "2", "--train-seconds", "1500",
                     "--out", str(runs)]) == 0
    assert cli.main(["search-tables", str(runs), "--benchmark",
                     f"nb201={tmp_path / 'nb201.parquet'}", "--out",
                     str(work / "search" / "tables"), "--figures",
                     str(work / "search" / "figures")]) == 0
    real_scores_table(40).to_parquet(tmp_path / "scores.parquet")
    assert cli.main(["stats", "--scores", str(tmp_path / "scores.parquet"), "--out",
                     str(work / "stats"), "--bootstrap", "20", "--best-of-n", "10"]) == 0
    (work / "figures").mkdir()
    (work / "Snakefile").write_text(
        "rule paper_tables:\n"
        "    input:\n"
        "        stats='stats', figures='figures', search='search/tables',\n"
        f"        images=[{str(IMAGES / 'cifar10.npz')!r}],\n"
        "    output: directory('paper/generated')\n"
        "    params: run={'experiment': 'demo', 'image_sources': "
        f"{{'cifar10': {{'sample_dir': {str(IMAGES)!r}}}}}, 'search': 'rea; 2 runs'}}\n"
        "    log: 'paper_tables.log'\n"
        f"    script: {str(REPO_ROOT / 'workflow' / 'scripts' / 'step.py')!r}\n",
        encoding="utf-8")
    result = subprocess.run([snakemake_exe, "-s", str(work / "Snakefile"), "--directory",
                             str(work), "--cores", "1"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    gen = work / "paper" / "generated"
    assert (gen / "search_rank_based_table3.tex").exists()
    assert (gen / "search_float_rank_based_table3.tex").exists()
    assert (gen / "fig_search_anytime_nb201.tex").exists()
    rb = (gen / "section_rb.tex").read_text(encoding="utf-8")
    assert r"\input{generated/search_float_rank_based_table3.tex}" in rb
    assert r"\input{generated/fig_search_anytime_nb201.tex}" in rb
