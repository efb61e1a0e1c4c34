"""Every figure of the four papers, drawn from our scores and statistics.

Each function returns a :class:`FigureResult`: the files written (PNG, PDF, caption) or,
when the run lacks the scores or data sets a figure needs, no files and a note that says
what is missing. Nothing here raises because a small configuration scored less. The
figures themselves live in :mod:`.ps`, :mod:`.correlations` and :mod:`.nwot_ssnr`; this
module draws them all and writes the manifest and the report's captions.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from zeroshot_nas.plots import catalog
from zeroshot_nas.plots.base import FigureResult
from zeroshot_nas.plots.catalog import rst_escape
from zeroshot_nas.plots.compare import compare_scores
from zeroshot_nas.plots.correlations import rb_table1, ssnr_table1
from zeroshot_nas.plots.nwot_ssnr import (
    _histogram,
    nwot_fig1_jacobian_histograms,
    ssnr_fig2_score_accuracy,
)
from zeroshot_nas.plots.ps import (
    ps_fig1_monotonicity_examples,
    ps_fig2_score_vs_accuracy,
    ps_fig3_best_and_time,
    ps_fig4_monotonicity,
    ps_fig5_slopes,
    ps_percentile,
    ps_tensors,
)
from zeroshot_nas.stats import analysis, seeds

__all__ = [
    "FigureResult", "_histogram", "compare_scores", "draw_figures", "make_all_figures",
    "nwot_fig1_jacobian_histograms", "ps_fig1_monotonicity_examples",
    "ps_fig2_score_vs_accuracy", "ps_fig3_best_and_time", "ps_fig4_monotonicity",
    "ps_fig5_slopes", "ps_percentile", "ps_tensors", "rb_table1", "rst_escape",
    "run_protocol", "spec_lookup", "ssnr_fig2_score_accuracy", "ssnr_table1",
]

log = logging.getLogger(__name__)
REPORT_DIR = "report"  # captions for the Snakemake report, beside the figures
PROTOCOL_COLUMNS = ("space", "batch_size", "bn_mode", "dtype", "init", "device", "mode",
                    "protocol_key", "numerics")


def spec_lookup(stats: dict[str, pd.DataFrame]):
    """Directions/bounds as the statistics run recorded them (``score_specs``), falling back
    to the proxy registry for scores it does not list."""
    specs = stats.get("score_specs", pd.DataFrame())
    known = {} if specs.empty else {
        r["score"]: analysis.ScoreInfo(r["score"], bool(r["higher_is_better"]),
                                       bool(r["bounded01"]), str(r["family"]), str(r["paper"]))
        for _, r in specs.iterrows()}

    def info(name: str) -> analysis.ScoreInfo:
        return known[name] if name in known else analysis.registry_info(name)

    return info


def make_all_figures(
    df: pd.DataFrame, stats: dict[str, pd.DataFrame], out_dir: Path | str, info=None,
    summary: dict | None = None,
) -> list[FigureResult]:
    """Draw every figure the run's data allow; the notes of skipped ones say why.
    ``info`` gives score directions/bounds (default: the statistics' ``score_specs``);
    ``summary`` (the statistics' ``summary.json``) feeds the comparison's caption."""
    info = info or spec_lookup(stats)
    out = Path(out_dir)
    datasets = analysis.ordered_datasets(analysis.quality_rows(df)["dataset"].unique())
    results = [compare_scores(stats, out, run_protocol(df), summary),
               ps_fig1_monotonicity_examples(out)]
    results += [ps_fig2_score_vs_accuracy(df, out, d, info) for d in datasets]
    results += [ps_fig3_best_and_time(stats, out), ps_fig4_monotonicity(stats, out),
                ps_fig5_slopes(stats, out), ps_percentile(stats, out),
                ps_tensors(df, out, stats), rb_table1(stats, out)]
    results += [nwot_fig1_jacobian_histograms(df, out, d, stats=stats) for d in datasets]
    results += [ssnr_fig2_score_accuracy(df, out, d, stats) for d in datasets]
    results.append(ssnr_table1(stats, out))
    return results


def run_protocol(df: pd.DataFrame) -> dict:
    """What the scores table says about how the run scored: the protocol columns' values,
    the scoring seeds and the architectures per data set (those columns a table lacks are
    left out, never guessed)."""
    rows = analysis.quality_rows(df)
    out: dict = {c: sorted(str(v) for v in rows[c].dropna().unique())
                 for c in PROTOCOL_COLUMNS if c in rows.columns}
    out["seeds"] = sorted(int(s) for s in rows["seed"].unique())
    out["n_archs"] = {d: int(rows.loc[rows["dataset"] == d, "arch"].nunique())
                      for d in analysis.ordered_datasets(rows["dataset"].unique())}
    out["scores"] = sorted(rows["score"].unique())
    return out


def write_report_captions(out: Path, results: list[FigureResult]) -> None:
    """``report/<name>.rst`` per drawn figure: the paper's number and title, then the
    caption text of ``<name>.txt``, for the report's caption template to include."""
    from zeroshot_nas import io

    for r in results:
        for txt in (p for p in r.paths if p.suffix == ".txt"):
            entry = catalog.resolve_figure(txt.stem)
            body = (f"**{rst_escape(entry.heading)}.** {rst_escape(entry.item.title)}.\n\n"
                    f"{rst_escape(txt.read_text(encoding='utf-8'))}\n")
            io.write_text(out / REPORT_DIR / f"{txt.stem}.rst", body)


def draw_figures(scores: str | Path, stats_dir: str | Path, out: str | Path) -> list[FigureResult]:
    """Every figure of the papers from a run's merged scores and statistics into ``out``,
    with ``figures_manifest.json`` saying which were drawn, why others were not, and what
    the scores table says about the run's protocol."""
    from zeroshot_nas import io

    df = analysis.load_scores(scores)
    stats, summary = analysis.read_stats(stats_dir)
    # the figures rank the same per-architecture values as the statistics they sit beside
    how = summary.get("seed_aggregation", {}).get("rule", analysis.StatsConfig.seed_aggregation)
    results = make_all_figures(seeds.collapse_seeds(df, how), stats, out, summary=summary)
    write_report_captions(Path(out), results)
    manifest = {
        "made": {r.name: [p.name for p in r.paths] for r in results if r.made},
        "skipped": {r.name: r.note for r in results if not r.made},
        "run": run_protocol(df),
    }
    io.write_json(Path(out) / "figures_manifest.json", manifest, indent=2)
    for r in results:
        if not r.made:
            log.warning(r.note)
    log.info("%d figure(s) drawn into %s, %d skipped", len(manifest["made"]), out,
             len(manifest["skipped"]))
    return results
