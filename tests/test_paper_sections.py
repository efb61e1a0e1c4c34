"""The paper package's registry of sections: the document's order, every table named by the
catalogue, and a new section added as one module plus its registration line (its catalogue
entries in ``paper/published.yaml``: tests/test_plots.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from test_stats import real_scores_table

from zeroshot_nas import cli
from zeroshot_nas.paper import assemble
from zeroshot_nas.paper.claims import SUPPORTED, Claim
from zeroshot_nas.paper.document import RunInputs, Section, subsection
from zeroshot_nas.paper.latex import longtable, missing_table
from zeroshot_nas.paper.published import PAPER_DIR, load_published
from zeroshot_nas.paper.sections import SECTIONS
from zeroshot_nas.plots import catalog
from zeroshot_nas.stats import analysis


@pytest.fixture(scope="module")
def stats_dir(tmp_path_factory) -> Path:
    """Statistics of 40 real architectures per data set (parameter counts and FLOPs as
    scores, the benchmark's accuracies)."""
    root = tmp_path_factory.mktemp("sections")
    real_scores_table(40).to_parquet(root / "scores.parquet")
    assert cli.main(["stats", "--scores", str(root / "scores.parquet"), "--out",
                     str(root / "stats"), "--bootstrap", "20", "--best-of-n", "10",
                     "--best-of-runs", "2", "--rank-combination", "params", "flops"]) == 0
    return root / "stats"


def test_sections_are_set_in_the_registry_order():
    keys = [s.key for s in SECTIONS]
    assert keys[0] == "protocol" and len(set(keys)) == len(keys)
    # every paper has its section, in the order the catalogue lists the papers (the order
    # of the "not reproduced" rows)
    assert [k for k in keys if k in catalog.PAPERS] == list(catalog.PAPERS)
    listed = re.findall(r"section_(\w+)\.tex", assemble.sections_tex())
    assert listed == [*keys, "not_reproduced"]
    main = (PAPER_DIR / "main.tex").read_text(encoding="utf-8")
    assert r"\input{generated/sections.tex}" in main


def test_every_table_of_every_section_is_named_by_the_catalogue(stats_dir):
    stats, summary = analysis.read_stats(stats_dir)
    inputs = RunInputs(stats, summary, load_published())
    for section in SECTIONS:
        tables = section.tables(inputs)
        names = [*tables, *section.texts(inputs, tables),
                 *(f"search_{k}" for k in section.search_tables)]
        for name in names:
            entry = catalog.resolve_table(name)
            assert entry.item.label != name, f"{section.key}: {name} is not in the catalogue"
        # a section's claims table (claims_<key>.tex) lists the claims under its key
        assert all(c.paper == section.key for c in section.claims(inputs)), section.key


def _params_kendall(inputs: RunInputs) -> dict[str, pd.DataFrame]:
    corr = inputs.correlations
    rows = corr[(corr["score"] == "params") & (corr["method"] == "kendall")
                & (corr["target"] == "test_acc") & (corr["subset"] == "all")
                & (corr["policy"] == "kept_worst")]
    return {"demo_kendall": rows[["dataset", "value", "n"]].reset_index(drop=True)}


def _params_texts(inputs: RunInputs, tables) -> dict[str, str]:
    t = tables["demo_kendall"]
    rows = [[r.dataset, f"{r.value:.2f}"] for r in t.itertuples()]
    return {"demo_kendall": longtable(["Data set", "tau"], rows, "lr", "demo_kendall", "Demo."),
            "demo_missing": missing_table("demo_missing", "Demo.", "nothing to show")}


def _params_claims(inputs: RunInputs) -> list[Claim]:
    return [Claim("demo", "Parameter counts track accuracy.", "see the table", SUPPORTED)]


def _demo_section(doc) -> str:
    return ("\\section{Demo}\n" + subsection("Demo table", doc.table("demo_kendall"))
            + subsection("Demo claims", doc.claims_block("demo")))


def test_a_new_section_is_one_module_and_its_registration_line(stats_dir, tmp_path,
                                                               monkeypatch):
    """What a fifth paper's module defines, registered by one more entry: its section,
    tables, CSVs and claims are written, in the document's order, and a table without rows
    is listed as not reproduced by this run."""
    demo = Section("demo", _demo_section, _params_kendall, _params_texts, _params_claims)
    monkeypatch.setattr(assemble, "SECTIONS", (*SECTIONS, demo))
    out = tmp_path / "generated"
    assemble.write_paper_tables(stats_dir, out)
    section = (out / "section_demo.tex").read_text(encoding="utf-8")
    assert r"\input{generated/demo_kendall.tex}" in section
    assert r"\input{generated/claims_demo.tex}" in section
    kendall = pd.read_csv(out / "demo_kendall.csv")
    assert list(kendall["dataset"]) == ["cifar10", "cifar100", "ImageNet16-120"]
    assert "cifar100 & " in (out / "demo_kendall.tex").read_text(encoding="utf-8")
    claims = pd.read_csv(out / "claims.csv")
    assert claims["paper"].iloc[-1] == "demo"
    listed = re.findall(r"section_(\w+)\.tex", (out / "sections.tex").read_text())
    assert listed[-2:] == ["demo", "not_reproduced"]
    missing = pd.read_csv(out / "not_reproduced.csv")
    assert "Not computed by this run: nothing to show." in set(missing["why"])


def test_the_protocol_names_every_numerics_environment_its_values_come_from():
    from zeroshot_nas.paper.protocol import protocol_table

    mixed = ["torch 2.13.0+cpu, cpu AVX2", "torch 2.13.0+cpu, cpu AVX512"]
    table = protocol_table({}, {}, {"numerics": mixed}, {})
    row = table.loc[table["setting"] == "Numerics (torch build, kernels)"]
    assert row[["value", "source"]].values.tolist() == [
        ["torch 2.13.0+cpu, cpu AVX2; torch 2.13.0+cpu, cpu AVX512", "scores table"]]
    assert "Numerics (torch build, kernels)" not in set(protocol_table({}, {}, {}, {})["setting"])
