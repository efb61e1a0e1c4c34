"""The document's first section: the run's protocol and scale, read from its files (the
scores table, the statistics' summary, the configuration the workflow passed, the image
files), beside the protocols the papers state; and the run's settings as TeX macros."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from zeroshot_nas.plots import catalog
from zeroshot_nas.spaces.common import DATASET_TITLES, SPACE_TITLES

from .document import Document, RunInputs, Section, Tables
from .latex import longtable, paragraph_column
from .tex import tex_escape

SAMPLER_TEXT = {
    "uniform": "uniform over the space",
    "rank-based-authors": "as the rank-based authors' Table 1 script (one input-to-output path "
                          "never 'none'), distinct architectures",
}

NOT_RECORDED = "not recorded"
# How the statistics turned each architecture's seeds into one value (summary.json's rule).
# {inits}: "3 initialisations", or where the data sets have different numbers of seeds (an
# experiment's dataset_seeds) "initialisations, as many as its data set has", with the
# counts per data set in {seeds} and {counts}.
SEED_RULES = {
    "mean": "the mean of its {inits} ({seeds})",
    "mean_finite": "the mean of the finite values of its {inits} ({seeds})",
    "first": "the value of the lowest of its {n_seeds} alone ({first}{counts})",
}


def run_macros(summary: dict, stats: dict[str, pd.DataFrame]) -> str:
    """\\newcommand macros with the run's settings, for use in the text."""
    nf = stats.get("nonfinite", pd.DataFrame())
    n_arch = summary.get("n_archs", {})
    macros = {
        "RunDatasets": ", ".join(summary.get("datasets", [])),
        "RunScores": ", ".join(summary.get("scores", [])),
        "RunNScores": str(len(summary.get("scores", []))),
        "RunNArchs": ", ".join(f"{d}: {n}" for d, n in n_arch.items()),
        "RunBootstrap": str(summary.get("bootstrap", "")),
        "RunBestOfN": str(summary.get("best_of_n", "")),
        "RunBestOfRuns": str(summary.get("best_of_runs", "")),
        "RunRankCombination": " + ".join(summary.get("rank_combination", [])),
        "RunSeed": str(summary.get("seed", "")),
        "RunScoringSeeds": ", ".join(str(x) for x in summary.get("seeds", [])),
        "RunSeedValue": seeds_phrase(summary),
        "RunNonFinite": str(int(nf["n_nonfinite"].sum())) if not nf.empty else "0",
        "RunNotes": "; ".join(summary.get("notes", [])) or "none",
    }
    return "".join(rf"\newcommand{{\{k}}}{{{tex_escape(v)}}}" + "\n" for k, v in macros.items())


def seeds_phrase(summary: dict) -> str:
    """What one score value of an architecture is in this run ("the value of one
    initialisation (seed 0)", "the mean of its 3 initialisations (seeds 0, 1, 2)"), from
    ``summary.json``."""
    seeds = [int(x) for x in summary.get("seeds") or []]
    aggregation = summary.get("seed_aggregation") or {}
    if not seeds:
        return "one value per architecture (its seeds are not recorded)"
    counts = aggregation.get("n_seeds") or {}
    n = max(counts.values(), default=len(seeds))
    if n < 2 or not aggregation.get("applied"):
        return f"the value of one initialisation (seed {', '.join(map(str, seeds))})"
    rule = aggregation.get("rule", "")
    template = SEED_RULES.get(rule, f"its {{inits}} ({{seeds}}) combined by the rule {rule!r}")
    listed = f"seeds {', '.join(map(str, seeds))}"
    if len(set(counts.values())) > 1:
        # the summary counts each data set's seeds but does not list them: its lowest
        # seed need not be the run's
        return template.format(inits="initialisations, as many as its data set has",
                               seeds=f"{per_dataset(counts)}; {listed}", n_seeds="seeds",
                               first="its data set's lowest seed",
                               counts=f"; {per_dataset(counts)}")
    return template.format(inits=f"{n} initialisations", seeds=listed, n_seeds=f"{n} seeds",
                           first=f"seed {seeds[0]}", counts="")


def seeds_text(summary: dict) -> str:
    """The protocol row of the seeds: the phrase, the rule's description, and per data set
    how many seeds were scored."""
    aggregation = summary.get("seed_aggregation") or {}
    text = f"Every score of an architecture is {seeds_phrase(summary)}"
    if aggregation.get("applied"):
        text += (f", then ranked ({aggregation.get('rule')}: "
                 f"{aggregation.get('description', NOT_RECORDED)}); seeds per data set: "
                 + per_dataset(aggregation.get("n_seeds") or {}))
    return text


def paths_text(summary: dict) -> str:
    """The protocol row of the architectures without a path from input to output
    (``stats.require_path``, summary.json's ``require_path``)."""
    record = summary.get("require_path")
    if not record:
        return NOT_RECORDED
    counts = record.get("without_path")
    if record.get("required"):
        return ("Dropped before every statistic (stats.require_path: true), as the rank-based "
                "authors' search space leaves them out: " + per_dataset(counts or {}))
    if counts is None:
        return ("Kept (stats.require_path: false); not counted, as the scores table names no "
                "search space")
    return ("Kept and ranked with the others (stats.require_path: false); without a path: "
            + per_dataset(counts))


def _joined(values, default: str = NOT_RECORDED) -> str:
    values = [str(v) for v in (values or [])]
    return ", ".join(values) if values else default


def per_dataset(mapping: dict) -> str:
    """"CIFAR-10: 1000; CIFAR-100: 1000": one value per data set, under the data set's title."""
    return "; ".join(f"{DATASET_TITLES.get(d, d)}: {v}" for d, v in mapping.items()) or \
        NOT_RECORDED


def _image_text(images: dict) -> str:
    parts = {}
    for dataset, info in images.items():
        kind, value = next(iter(info.get("source", {"unknown": ""}).items()))
        where = Path(str(value)).name if kind in ("sample_dir", "imagenet16_dir") else value
        count = (f", {info['n_images']} images ({info['n_labelled']} labelled)"
                 if "n_images" in info else "")
        parts[dataset] = f"{kind.replace('_', ' ')} {where}".strip() + count
    return per_dataset(parts)


def _protocol_scoring(scored: dict, config: dict) -> list[tuple[str, str, str]]:
    """Rows of how every architecture was scored: the scores table's own columns first,
    the configuration where the table does not say."""
    def pick(key: str) -> tuple[str, str]:
        if scored.get(key):
            return _joined(scored[key]), "scores table"
        if key in config:
            return str(config[key]), "configuration"
        return NOT_RECORDED, ""

    rows = [("Scoring seeds", _joined(scored.get("seeds")), "scores table")]
    for key, title in (("batch_size", "Batch size"), ("bn_mode", "BatchNorm mode"),
                       ("dtype", "Precision (dtype)"), ("init", "Weight initialisation"),
                       ("device", "Device"), ("ntk_batch_size", "NTK sub-batch"),
                       ("gradient_layout", "Gradient-pass memory layout (CPU)")):
        value, source = pick(key)
        if key == "init" and "kaiming" in value and "kaiming_mode" in config:
            value += f" ({config['kaiming_mode']})"
        rows.append((title, value, source))
    if scored.get("numerics"):
        # more than one when a CPU run was resumed on another machine (cache_numerics: any-cpu)
        rows.append(("Numerics (torch build, kernels)", "; ".join(scored["numerics"]),
                     "scores table"))
    return rows


def image_counts(sources: dict[str, dict], paths: list[str | Path]) -> dict[str, dict]:
    """Per data set: its image source (configuration) and how many images, and labelled
    images, its prepared file ``<dataset>.npz`` holds."""
    out = {d: {"source": dict(src)} for d, src in sources.items()}
    for path in map(Path, paths):
        with np.load(path, allow_pickle=False) as npz:
            y = npz["y"]
        out.setdefault(path.stem, {}).update(n_images=int(y.size), n_labelled=int((y >= 0).sum()))
    return out


def protocol_table(summary: dict, stats: dict[str, pd.DataFrame], scored: dict,
                   run: dict) -> pd.DataFrame:
    """The run's protocol and scale, one row per setting, with where it was read."""
    nf = stats.get("nonfinite", pd.DataFrame())
    best = stats.get("best_retrieved", pd.DataFrame())
    spaces = scored.get("space") or ([run["space"]] if run.get("space") else [])
    rows = [("Experiment", run.get("experiment", NOT_RECORDED), "configuration"),
            ("Search space", _joined([SPACE_TITLES.get(s, s) for s in spaces]), "scores table"),
            ("Architectures per data set", per_dataset(summary.get("n_archs", {})),
             "statistics"),
            ("Architecture sample seed", str(run.get("sample_seed", NOT_RECORDED)),
             "configuration"),
            ("Architecture sampler", SAMPLER_TEXT.get(run.get("sampler", "uniform"),
                                                      NOT_RECORDED), "configuration")]
    rows += _protocol_scoring(scored, run.get("protocol", {}))
    rows += [("Seeds per architecture", seeds_text(summary), "statistics"),
             ("Architectures without a path from input to output", paths_text(summary),
              "statistics")]
    rows.append(("Images", _image_text(run.get("images", {})), "configuration, image files"))
    rows += [("Scores", f"{len(summary.get('scores', []))}: {_joined(summary.get('scores'))}",
              "statistics"),
             ("Rank combination", " + ".join(summary.get("rank_combination", [])) or "none",
              "statistics"),
             ("Correlation intervals", f"95% percentile bootstrap, {summary.get('bootstrap')} "
              f"resamples, seed {summary.get('seed')}", "statistics"),
             ("Best accuracy retrieved", f"{summary.get('best_of_runs')} run(s) of "
              f"{summary.get('best_of_n')} architectures" + (
                  f" from a pool of {int(best['pool_size'].max())}" if not best.empty else ""),
              "statistics")]
    if not nf.empty:
        worst = nf[nf["n_nonfinite"] > 0].sort_values("n_nonfinite", ascending=False)
        rows.append(("Non-finite score values", f"{int(nf['n_nonfinite'].sum())} of "
                     f"{int(nf['n_rows'].sum())} rows" + (": " + ", ".join(
                         f"{r.score} on {DATASET_TITLES.get(r.dataset, r.dataset)}: "
                         f"{int(r.n_nonfinite)}" for r in worst.head(8).itertuples())
                         + (", ..." if len(worst) > 8 else "") if len(worst) else ""),
                     "statistics"))
    if run.get("timing_n_archs") is not None:
        rows.append(("Standalone timing", f"{run['timing_n_archs']} architecture(s) per data "
                     "set, each score alone", "configuration"))
    if run.get("search"):
        rows.append(("Searches", run["search"], "configuration"))
    rows.append(("Notes of the statistics", "; ".join(summary.get("notes", [])) or "none",
                 "statistics"))
    return pd.DataFrame(rows, columns=["setting", "value", "source"])


def papers_protocols(published: dict) -> pd.DataFrame:
    """The protocol each paper states for the values we compare with (quoted)."""
    rows = []
    for block in published.values():
        if not isinstance(block, dict) or "protocol" not in block or "paper" not in block:
            continue
        short = next((p.short for p in catalog.PAPERS.values() if p.source == block["paper"]),
                     block["paper"])
        rows.append({"item": f"{short} {block.get('reference', '')}".strip(),
                     "protocol": " ".join(str(block["protocol"]).split())})
    return pd.DataFrame(rows, columns=["item", "protocol"])


def protocol_tex(table: pd.DataFrame, papers: pd.DataFrame) -> str:
    rows = [[tex_escape(r.setting), tex_escape(r.value), tex_escape(r.source)]
            for r in table.itertuples()]
    text = longtable(["Setting", "This run", "Read from"], rows,
                     paragraph_column(0.2) + paragraph_column(0.55) + paragraph_column(0.15),
                     "protocol",
                     "Everything here is read from this run's files (the scores table, the "
                     "statistics' summary, the configuration the workflow passed and the image "
                     "files); ``not recorded'' where none of them says.")
    if not papers.empty:
        rows = [[tex_escape(r.item), tex_escape(r.protocol)] for r in papers.itertuples()]
        header = ["Published values", "Protocol the paper states (quoted from published.yaml)"]
        text += longtable(header, rows, paragraph_column(0.25) + paragraph_column(0.68),
                          "papers_protocol",
                          "The papers' protocols, for comparison with the scale of this run.")
    return text


def section(doc: Document) -> str:
    """How correlations are computed, then the protocol table."""
    dropped = (doc.summary.get("require_path") or {}).get("required")
    return ("\\section{Run: protocol and scale}\n"
            "Correlations are Kendall $\\tau_b$ and Spearman $\\rho$ with test accuracy (200 "
            "epochs, mean over training seeds) unless a table says validation accuracy. "
            "Non-finite scores are ranked last (worst in the score's direction) or dropped, "
            "as each table says, with their counts. In this run every score of an "
            f"architecture is {tex_escape(seeds_phrase(doc.summary))}, and every statistic "
            "ranks that value. Architectures without a path from input to output are "
            + ("dropped before every statistic, as the rank-based authors' search space "
               "leaves them out" if dropped else "kept and ranked with the others")
            + " (\\texttt{stats.require\\_path}; their counts are in the table). ``Above the "
            "median'' holds the architectures scoring strictly better than the median score. "
            "Signs are kept.\n"
            + doc.table("protocol"))


def tables(inputs: RunInputs) -> Tables:
    return {"protocol": protocol_table(inputs.summary, inputs.stats, inputs.scored, inputs.run),
            "papers_protocol": papers_protocols(inputs.published)}


def texts(inputs: RunInputs, tables: Tables) -> dict[str, str]:
    return {"protocol": protocol_tex(tables["protocol"], tables["papers_protocol"])}


SECTION = Section("protocol", section, tables, texts)
