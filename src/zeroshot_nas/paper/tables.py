"""Tables and sections of the paper (``results/<experiment>/paper/generated/*.tex``, CSV
twins, and the report's captions of those CSVs).

Every number written here comes from the statistics of the run; the papers' values are read
from ``paper/published.yaml`` and printed next to ours with the difference (ours − paper).
Figures and tables are named by the paper they reproduce ("PS Figure 3"), from
:mod:`zeroshot_nas.plots.catalog`. Tables are ``longtable``s (they break across pages) and
every figure is an unbreakable box scaled to the text block, its height included, set in
reading order (not a float).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from zeroshot_nas import io
from zeroshot_nas.plots import catalog
from zeroshot_nas.spaces.common import DATASET_TITLES, SPACE_TITLES
from zeroshot_nas.stats import analysis, names

from .published import load_published
from .tex import tex_escape

log = logging.getLogger(__name__)

FIGURE_HEIGHT = r"0.62\textheight"  # image + the longest caption stay within one page
SEARCH_KEYS = ("rank_based_table2", "rank_based_table3", "naswot_table")


def _num(v: float | None, digits: int = 2, signed: bool = False) -> str:
    if v is None or not np.isfinite(v):
        return "--"
    if abs(v) >= 1e5:  # e.g. slopes on a standardised score with extreme outliers
        mant, exp = f"{v:.2e}".split("e")
        return f"${'+' if signed and v > 0 else ''}{mant}\\times 10^{{{int(exp)}}}$"
    return f"{v:+.{digits}f}" if signed else f"{v:.{digits}f}"


def _ci(row: pd.Series | None, digits: int = 2) -> str:
    if row is None:
        return "--"
    s = _num(row["value"], digits)
    if np.isfinite(row["ci_low"]):
        s += rf" {{\scriptsize[{_num(row['ci_low'], digits)}, {_num(row['ci_high'], digits)}]}}"
    return s


def _diff(ours: float | None, paper: float | None, digits: int = 2) -> float | None:
    if ours is None or paper is None or not np.isfinite(ours):
        return None
    return ours - paper


_corr_row = analysis.correlation_row


def _ds(dataset: str) -> str:
    return tex_escape(DATASET_TITLES.get(dataset, dataset))


def _p(width: float) -> str:
    """A ragged-right paragraph column of ``width`` times the line width."""
    return rf">{{\raggedright\arraybackslash}}p{{{width}\linewidth}}"


def _longtable(header: list[str], rows: list[list[str]], align: str, key: str,
               caption: str) -> str:
    """A table that breaks across pages, captioned with the paper's number of ``key``
    (a catalogue table) and its header repeated on every page."""
    entry = catalog.resolve_table(key)
    heading = tex_escape(entry.heading)
    ncol = len(header)
    head = " & ".join(header) + r" \\"
    lines = [r"\begingroup\footnotesize\setlength{\tabcolsep}{4pt}",
             rf"\begin{{longtable}}{{{align}}}",
             rf"\papercaption{{{heading}}}{{{tex_escape(entry.item.title)}. {caption}}}\\",
             r"\toprule", head, r"\midrule", r"\endfirsthead",
             rf"\multicolumn{{{ncol}}}{{l}}{{\textbf{{{heading}}} (continued)}}\\",
             r"\toprule", head, r"\midrule", r"\endhead",
             r"\midrule",
             rf"\multicolumn{{{ncol}}}{{r}}{{\emph{{continued on the next page}}}}\\",
             r"\endfoot", r"\bottomrule", r"\endlastfoot"]
    lines += [r if isinstance(r, str) else " & ".join(r) + r" \\" for r in rows]
    lines += [r"\end{longtable}", r"\endgroup", ""]
    return "\n".join(lines)


def _stack(*lines: str) -> str:
    """A header cell of several centred lines (keeps narrow columns narrow)."""
    return r"\begin{tabular}[b]{@{}c@{}}" + r" \\ ".join(lines) + r"\end{tabular}"


def _group_row(text: str, ncol: int) -> str:
    """A full-width row naming the group (data set) of the rows below it."""
    return rf"\multicolumn{{{ncol}}}{{l}}{{\textit{{{text}}}}} \\"


def _missing_table(key: str, caption: str, why: str) -> str:
    entry = catalog.resolve_table(key)
    # the first line says why in plain text, for the "not reproduced" section
    return (f"% missing: {' '.join(why.split())}\n"
            rf"\missing{{\textbf{{{tex_escape(entry.heading)}.}} "
            rf"{tex_escape(entry.item.title)}. {caption} "
            rf"\emph{{Not produced by this run: {tex_escape(why)}.}}}}" + "\n")


# ------------------------------------------------------------------------------------------
def rank_based_table(stats: dict[str, pd.DataFrame], published: dict) -> pd.DataFrame:
    """Kendall/Spearman per score and data set (rank-based Table 1) with the paper's values."""
    pub = published["rank_based_table1"]
    corr = stats.get("correlations", pd.DataFrame())
    rows = []
    for score in pub["values"]:
        for i, dataset in enumerate(pub["datasets"]):
            rec = {"score": score, "dataset": dataset}
            for method in ("kendall", "spearman"):
                r = _corr_row(corr, score, dataset, method, "test_acc")
                d = _corr_row(corr, score, dataset, method, "test_acc", policy="dropped")
                paper = pub["values"][score][method][i]
                ours = None if r is None else float(r["value"])
                rec.update({
                    f"{method}": ours,
                    f"{method}_ci_low": None if r is None else float(r["ci_low"]),
                    f"{method}_ci_high": None if r is None else float(r["ci_high"]),
                    f"{method}_dropped": None if d is None else float(d["value"]),
                    f"{method}_paper": paper,
                    f"{method}_diff": _diff(ours, paper),
                })
            r = _corr_row(corr, score, dataset, "kendall", "test_acc")
            rec["n"] = None if r is None else int(r["n"])
            rec["n_nonfinite"] = None if r is None else int(r["n_nonfinite"])
            rows.append(rec)
    return pd.DataFrame(rows)


def rank_based_tex(table: pd.DataFrame, corr: pd.DataFrame) -> str:
    header = ["Score", r"$\tau$ ours [95\% CI]", r"$\tau$ paper", r"$\Delta\tau$",
              r"$\rho$ ours [95\% CI]", r"$\rho$ paper", r"$\Delta\rho$",
              r"$\tau$ dropped", r"$n$ (non-fin.)"]
    rows: list = []
    for dataset in analysis.ordered_datasets(table["dataset"]):
        group = []
        for _, r in table[table["dataset"] == dataset].iterrows():
            if r["n"] is None or pd.isna(r["n"]):
                continue
            k = _corr_row(corr, r["score"], dataset, "kendall", "test_acc")
            s = _corr_row(corr, r["score"], dataset, "spearman", "test_acc")
            group.append([tex_escape(names.RANK_BASED.get(r["score"], names.label(r["score"]))),
                          _ci(k), _num(r["kendall_paper"]), _num(r["kendall_diff"], signed=True),
                          _ci(s), _num(r["spearman_paper"]),
                          _num(r["spearman_diff"], signed=True), _num(r["kendall_dropped"]),
                          f"{int(r['n'])} ({int(r['n_nonfinite'])})"])
        rows += [_group_row(_ds(dataset), len(header)), *group] if group else []
    caption = (r"Kendall $\tau$ and Spearman $\rho$ between score and test accuracy. Ours: "
               r"non-finite scores ranked last (worst), 95\% percentile-bootstrap intervals; "
               r"``$\tau$ dropped'' drops them instead. Paper: published values (all NATS "
               r"architectures, mean of three initialisations). $\Delta$ = ours $-$ paper; "
               r"``--'': the paper prints no value. NI and the rank combination (a rank sum, "
               r"smaller is better, so its correlations are negative when it works) are ours "
               r"only.")
    if not rows:
        return _missing_table("rank_based_table1", caption, "none of its scores was scored")
    return _longtable(header, rows, "lrrrrrrrr", "rank_based_table1", caption)


def ssnr_table(stats: dict[str, pd.DataFrame], published: dict) -> pd.DataFrame:
    """Spearman (CIFAR-10) and Kendall (CIFAR-10, CIFAR-100) of the SSNR scores vs paper."""
    corr = stats.get("correlations", pd.DataFrame())
    sp = published["ssnr_spearman"]
    kt = published["ssnr_table1"]
    rows = []
    for score in names.SSNR:
        for dataset in analysis.DATASET_ORDER:
            for method in ("spearman", "kendall"):
                paper = None
                if method == "spearman" and dataset == sp["dataset"]:
                    paper = sp["values"].get(score)
                if method == "kendall" and dataset in kt["datasets"]:
                    paper = kt["values"][score]["kendall"][kt["datasets"].index(dataset)]
                r = _corr_row(corr, score, dataset, method, "test_acc")
                ours = None if r is None else float(r["value"])
                rows.append({"score": score, "dataset": dataset, "method": method,
                             "ours": ours,
                             "ci_low": None if r is None else float(r["ci_low"]),
                             "ci_high": None if r is None else float(r["ci_high"]),
                             "paper": paper, "diff": _diff(ours, paper),
                             "n": None if r is None else int(r["n"])})
    return pd.DataFrame(rows)


def ssnr_tex(table: pd.DataFrame, corr: pd.DataFrame) -> str:
    header = ["Score", "Statistic", r"ours [95\% CI]", "paper", r"$\Delta$", "$n$"]
    rows: list = []
    for dataset in analysis.ordered_datasets(table["dataset"]):
        group = []
        for _, r in table[table["dataset"] == dataset].iterrows():
            if r["ours"] is None or pd.isna(r["ours"]):
                continue
            c = _corr_row(corr, r["score"], dataset, r["method"], "test_acc")
            group.append([tex_escape(names.label(r["score"])),
                          "Spearman $\\rho$" if r["method"] == "spearman" else "Kendall $\\tau$",
                          _ci(c, 4), _num(r["paper"], 4), _num(r["diff"], 4, signed=True),
                          str(int(r["n"]))])
        rows += [_group_row(_ds(dataset), len(header)), *group] if group else []
    caption = (r"Spearman $\rho$ (printed under the paper's Figure~2, all NAS-Bench-201 "
               r"models) and Kendall $\tau$ (its Table~1, NASLib, test size 5000) with test "
               r"accuracy. Paper values are published; $\Delta$ = ours $-$ paper; ``--'': the "
               r"paper prints no value for that data set.")
    if not rows:
        return _missing_table("ssnr_table", caption, "synflow/ssnr/ssnr_layerwise not scored")
    return _longtable(header, rows, "llrrrr", "ssnr_table", caption)


def nwot_table(stats: dict[str, pd.DataFrame], published: dict) -> pd.DataFrame:
    corr = stats.get("correlations", pd.DataFrame())
    pub = published["nwot_fig1"]
    rows = []
    for i, dataset in enumerate(pub["datasets"]):
        for policy in ("kept_worst", "dropped"):
            r = _corr_row(corr, names.JACOBIAN, dataset, "kendall", "valid_acc", policy=policy)
            paper = pub["values"][names.JACOBIAN]["kendall"][i]
            ours = None if r is None else float(r["value"])
            rows.append({"dataset": dataset, "policy": policy, "kendall": ours,
                         "ci_low": None if r is None else float(r["ci_low"]),
                         "ci_high": None if r is None else float(r["ci_high"]),
                         "paper": paper, "diff": _diff(ours, paper),
                         "n": None if r is None else int(r["n"]),
                         "n_nonfinite": None if r is None else int(r["n_nonfinite"])})
    return pd.DataFrame(rows)


def nwot_tex(table: pd.DataFrame, corr: pd.DataFrame, published: dict) -> str:
    header = ["Data set", "Non-finite scores", r"$\tau$ ours [95\% CI]", "paper", r"$\Delta$",
              "$n$ (non-fin.)"]
    rows = []
    for _, r in table.iterrows():
        if r["kendall"] is None or pd.isna(r["kendall"]):
            continue
        c = _corr_row(corr, names.JACOBIAN, r["dataset"], "kendall", "valid_acc",
                      policy=r["policy"])
        rows.append([_ds(r["dataset"]), "ranked last" if r["policy"] == "kept_worst"
                     else "dropped", _ci(c), _num(r["paper"]), _num(r["diff"], signed=True),
                     f"{int(r['n'])} ({int(r['n_nonfinite'])})"])
    caption = (r"Kendall $\tau$ of the Jacobian score (jacob\_cov) with validation accuracy. "
               r"Paper: " + tex_escape(published["nwot_fig1"]["note"]))
    if not rows:
        return _missing_table("nwot_table", caption, "jacob_cov not scored")
    return _longtable(header, rows, "llrrrr", "nwot_table", caption)


def ps_table1(stats: dict[str, pd.DataFrame], published: dict, registry=None) -> pd.DataFrame:
    """Score features (parameters-scoring Table 1) generated from the registry: noise from
    the ``noise`` family, parameter space from the ``parameters`` family, cosine similarity
    from the description (cosine, or built on JSC); the paper's marks alongside."""
    if registry is None:
        try:
            from zeroshot_nas.proxies import REGISTRY as registry
        except ImportError:
            registry = {}
    pub = published["ps_table1"]
    rows = []
    for score in pub["scores"]:
        spec = registry.get(score) if hasattr(registry, "get") else None
        rec = {"score": score, "label": names.label(score), "in_registry": spec is not None}
        if spec is not None:
            family, desc = spec.family.lower(), spec.description.lower()
            rec.update({
                "noise": family == "noise" or "noise" in desc,
                "parameter_space": family.startswith("param"),
                # cosine scores say "cos(...)"/"cosine", or build on JSC (the cosine JS)
                "cosine_similarity": "cos" in desc or "jsc" in desc,
                "family": spec.family, "higher_is_better": spec.higher_is_better,
                "bounded01": spec.bounded01, "needs_labels": spec.needs_labels,
            })
        for feat, members in pub["features"].items():
            rec[f"{feat}_paper"] = score in members
        rows.append(rec)
    return pd.DataFrame(rows)


PS_FEATURES = (("noise", "noise"), ("parameter space", "parameter_space"),
               ("cosine similarity", "cosine_similarity"))


def ps_table1_tex(table: pd.DataFrame) -> str:
    caption = ("The paper's marks (``paper'') beside ours, generated from our proxy registry "
               "(family and description); ``differs'' lists the features where they "
               "disagree. Transposed from the paper's layout (one row per score) to fit the "
               "page.")
    if not table["in_registry"].any():
        return _missing_table("ps_table1", caption, "the proxy registry has none of these scores")
    header = ["Score", *[_stack(t, "ours / paper") for t, _ in PS_FEATURES],
              _stack("bounded", "in [0, 1]"), _stack("higher is", "better"), "differs"]

    def mark(v: bool) -> str:
        return r"$\times$" if v else r"$\cdot$"

    rows = []
    for _, r in table[table["in_registry"]].iterrows():
        differs = [t for t, key in PS_FEATURES if bool(r[key]) != bool(r[f"{key}_paper"])]
        rows.append([tex_escape(r["label"]),
                     *[f"{mark(r[key])} / {mark(r[f'{key}_paper'])}" for _, key in PS_FEATURES],
                     "yes" if r["bounded01"] else "no", "yes" if r["higher_is_better"] else "no",
                     tex_escape(", ".join(differs) or "none")])
    return _longtable(header, rows, "lcccccl", "ps_table1", caption)


def ps_percentile_table(stats: dict[str, pd.DataFrame], published: dict) -> pd.DataFrame:
    best = stats.get("best_retrieved", pd.DataFrame())
    if best.empty:
        return pd.DataFrame()
    pub = published["ps_percentile"]["values"]
    t = best[["score", "dataset", "runs", "sample_size", "percentile_mean", "percentile_std",
              "percentile_max"]].copy()
    t["paper_upper_bound"] = t["score"].map(pub)
    t["diff_max_vs_paper"] = t["percentile_max"] - t["paper_upper_bound"]
    return t


def _ps_order(scores: pd.Series) -> list[str]:
    """Parameters-scoring scores in the paper's order, then the others."""
    return list(dict.fromkeys(names.present(
        [*names.PARAMETERS_SCORING, *sorted(scores.unique())], scores)))


def ps_best_tex(stats: dict[str, pd.DataFrame], published: dict) -> str:
    best = stats.get("best_retrieved", pd.DataFrame())
    caption = ("Accuracy (\\%) of the top-scored architecture of each sample (mean $\\pm$ std "
               "over runs) and the percentile of the sample's best architecture in the score "
               "ranking (mean $\\pm$ std and max over runs; paper: the upper bound its "
               "Discussion states for all three data sets; $\\Delta$ = our max $-$ paper).")
    if best.empty:
        return _missing_table("ps_best", caption, "no best-accuracy statistics")
    pct = ps_percentile_table(stats, published)
    opt = stats.get("benchmark_best", pd.DataFrame())
    opt = opt.set_index("dataset")["best_test_acc"] if not opt.empty else pd.Series(dtype=float)
    header = ["Score", "test", "valid", "percentile", "max", "paper", r"$\Delta$ (max)"]
    rows: list = []
    for dataset in analysis.ordered_datasets(best["dataset"]):
        rows.append(_group_row(f"{_ds(dataset)} (optimum, test: {_num(opt.get(dataset))})",
                               len(header)))
        for score in _ps_order(best["score"]):
            b = best[(best["score"] == score) & (best["dataset"] == dataset)]
            if b.empty:
                continue
            b = b.iloc[0]
            p = pct[(pct["score"] == score) & (pct["dataset"] == dataset)].iloc[0]
            rows.append([tex_escape(names.label(score)),
                         f"{_num(b['test_mean'])} $\\pm$ {_num(b['test_std'])}",
                         f"{_num(b['valid_mean'])} $\\pm$ {_num(b['valid_std'])}",
                         f"{_num(b['percentile_mean'], 1)} $\\pm$ {_num(b['percentile_std'], 1)}",
                         _num(b["percentile_max"], 1), _num(p["paper_upper_bound"], 1),
                         _num(p["diff_max_vs_paper"], 1, signed=True)])
    r = best.iloc[0]
    caption += (f" Ours: {names.counted(int(r['runs']), 'run')} of {int(r['sample_size'])} "
                f"architectures drawn from {int(r['pool_size'])} scored ones (paper: 5 runs of "
                "1000).")
    return _longtable(header, rows, "lrrrrrr", "ps_best", caption)


def ps_quality_tex(stats: dict[str, pd.DataFrame]) -> str:
    mono = stats.get("monotonicity", pd.DataFrame())
    slopes = stats.get("slopes", pd.DataFrame())
    caption = ("Monotonicity with test accuracy and $|$slope$|$ of the regression of test "
               "accuracy on log(1 $-$ score) (standardised score for unbounded scores), all "
               "architectures vs those above the median score; non-finite scores dropped. The "
               "paper prints these only as charts (no published numbers).")
    if mono.empty:
        return _missing_table("ps_quality", caption, "no monotonicity statistics")
    mono = mono[mono["policy"] == "dropped"]
    header = ["Score", "mono. all", "mono. above", "$|$slope$|$ all", "$|$slope$|$ above",
              "regressor"]
    rows: list = []
    for dataset in analysis.ordered_datasets(mono["dataset"]):
        rows.append(_group_row(_ds(dataset), len(header)))
        for score in _ps_order(mono["score"]):
            m = mono[(mono["score"] == score) & (mono["dataset"] == dataset)].set_index("subset")
            s = slopes[(slopes["score"] == score) & (slopes["dataset"] == dataset)]
            s = s.set_index("subset")
            if m.empty:
                continue
            rows.append([tex_escape(names.label(score)),
                         _num(m["monotonicity"].get("all", np.nan), 3),
                         _num(m["monotonicity"].get("above_median", np.nan), 3),
                         _num(s["abs_slope"].get("all", np.nan)),
                         _num(s["abs_slope"].get("above_median", np.nan)),
                         tex_escape(s["transform"].iloc[0]) if not s.empty else "--"])
    return _longtable(header, rows, "lrrrrl", "ps_quality", caption)


def timing_tex(stats: dict[str, pd.DataFrame]) -> str:
    timing = stats.get("timing", pd.DataFrame())
    caption = ("Seconds per architecture per score (median over architectures; mean $\\pm$ "
               "std). Standalone: each score alone, with its own passes (the ones to compare); "
               "fused: scores sharing passes in the scoring run. The paper prints no numbers.")
    if timing.empty:
        return _missing_table("timing", caption, "no timings")
    header = ["Score", "Data set", "mode", "$n$", "median (s)", "mean $\\pm$ std (s)"]
    rows = []
    for _, r in timing.sort_values(["mode", "score", "dataset"]).iterrows():
        rows.append([tex_escape(names.label(r["score"])), _ds(r["dataset"]),
                     tex_escape(r["mode"]), str(int(r["n"])), _num(r["seconds_median"], 3),
                     f"{_num(r['seconds_mean'], 3)} $\\pm$ {_num(r['seconds_std'], 3)}"])
    return _longtable(header, rows, "lllrrr", "timing", caption)


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
        "RunNonFinite": str(int(nf["n_nonfinite"].sum())) if not nf.empty else "0",
        "RunNotes": "; ".join(summary.get("notes", [])) or "none",
    }
    return "".join(rf"\newcommand{{\{k}}}{{{tex_escape(v)}}}" + "\n" for k, v in macros.items())


# ------------------------------------------------------------------------------ protocol
NOT_RECORDED = "not recorded"


def _joined(values, default: str = NOT_RECORDED) -> str:
    values = [str(v) for v in (values or [])]
    return ", ".join(values) if values else default


def _per_dataset(mapping: dict) -> str:
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
    return _per_dataset(parts)


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
            ("Architectures per data set", _per_dataset(summary.get("n_archs", {})),
             "statistics"),
            ("Architecture sample seed", str(run.get("sample_seed", NOT_RECORDED)),
             "configuration")]
    rows += _protocol_scoring(scored, run.get("protocol", {}))
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
    text = _longtable(["Setting", "This run", "Read from"], rows,
                      _p(0.2) + _p(0.55) + _p(0.15), "protocol",
                      "Everything here is read from this run's files (the scores table, the "
                      "statistics' summary, the configuration the workflow passed and the image "
                      "files); ``not recorded'' where none of them says.")
    if not papers.empty:
        rows = [[tex_escape(r.item), tex_escape(r.protocol)] for r in papers.itertuples()]
        header = ["Published values", "Protocol the paper states (quoted from published.yaml)"]
        text += _longtable(header, rows, _p(0.25) + _p(0.68), "papers_protocol",
                           "The papers' protocols, for comparison with the scale of this run.")
    return text


# -------------------------------------------------------------------------------- claims
SUPPORTED, CONTRADICTED, NOT_SUPPORTED, UNTESTABLE = (
    "supported", "contradicted", "not supported", "not testable here")


@dataclass
class Claim:
    """A paper's claim, the numbers of this run that bear on it, and our verdict."""

    paper: str
    claim: str
    evidence: str
    verdict: str


def _rows_by_dataset(stats, score: str, method: str = "kendall", target: str = "test_acc"):
    corr = stats.get("correlations", pd.DataFrame())
    if corr.empty:
        return {}
    datasets = analysis.ordered_datasets(corr["dataset"])
    found = {d: _corr_row(corr, score, d, method, target) for d in datasets}
    return {d: r for d, r in found.items() if r is not None}


def _interval_text(row: pd.Series) -> str:
    return f"{row['value']:.2f} [{row['ci_low']:.2f}, {row['ci_high']:.2f}]"


def claim_wpjs_top(stats: dict[str, pd.DataFrame]) -> Claim:
    """PS Section 5: WPJS and WPJSI are the top performers."""
    claim = ("WPJS and WPJSI are the top performers: best accuracy found with the smallest "
             "variance and best monotonicity above the median (Section 5).")
    taus = {s: _rows_by_dataset(stats, s) for s in ("wpjs", "wpjsi")}
    if not any(taus.values()):
        return Claim("ps", claim, "WPJS and WPJSI were not scored in this run.", UNTESTABLE)
    best = stats.get("best_retrieved", pd.DataFrame())
    if best.empty:
        best = pd.DataFrame(columns=["score", "dataset", "test_mean"])
    ps = best[best["score"].isin(names.PARAMETERS_SCORING)]
    parts, ranks = [], []
    for score, rows in taus.items():
        for d, r in rows.items():
            t = ps[ps["dataset"] == d].sort_values("test_mean", ascending=False)
            rank = list(t["score"]).index(score) + 1 if score in set(t["score"]) else None
            ranks.append(rank)
            parts.append(f"{names.label(score)} on {DATASET_TITLES.get(d, d)}: Kendall tau with "
                         f"test accuracy {_interval_text(r)}"
                         + (f", best accuracy retrieved ranked {rank} of {len(t)}"
                            if rank else ""))
    rows = [r for rows in taus.values() for r in rows.values()]
    if all(r["ci_high"] < 0 for r in rows):
        verdict = CONTRADICTED
    elif all(r["ci_low"] > 0 for r in rows) and all(k is not None and k <= 2 for k in ranks):
        verdict = SUPPORTED
    else:
        verdict = NOT_SUPPORTED
    return Claim("ps", claim, "; ".join(parts) + ".", verdict)


def claim_percentile(stats: dict[str, pd.DataFrame], published: dict) -> Claim:
    """PS Section 5: where WPJS/WPJSI (and JS) place the sample's best architecture."""
    bounds = published["ps_percentile"]["values"]
    claim = ("WPJS and WPJSI placed the best architecture of a 1000-architecture sample "
             f"within the top {bounds.get('wpjs')} percentile for the three data sets; JS "
             f"within the {bounds.get('js')} percentile (Section 5).")
    best = stats.get("best_retrieved", pd.DataFrame())
    tested = best[best["score"].isin([s for s in ("wpjs", "wpjsi") if s in bounds])] \
        if not best.empty else best
    if tested.empty:
        return Claim("ps", claim, "WPJS and WPJSI were not scored in this run.", UNTESTABLE)
    shown = best[best["score"].isin(list(bounds))]
    evidence = "; ".join(
        f"{names.label(r.score)} on {DATASET_TITLES.get(r.dataset, r.dataset)}: max "
        f"{r.percentile_max:.1f} (paper {bounds[r.score]})" for r in shown.itertuples())
    r0 = best.iloc[0]
    evidence += (f". Percentile of the best of {int(r0['sample_size'])} architectures, worst "
                 f"of {int(r0['runs'])} run(s).")
    within = (tested["percentile_max"] <= tested["score"].map(bounds)).all()
    return Claim("ps", claim, evidence, SUPPORTED if within else CONTRADICTED)


def claim_parameter_space(stats: dict[str, pd.DataFrame]) -> Claim:
    """PS Section 5: parameter-space scores outperform the input-space ones."""
    claim = ("PJS, PJSC, WPJS and WPJSI all outperformed the other scores in terms of best "
             "architecture selected (Section 5, Figure 3).")
    best = stats.get("best_retrieved", pd.DataFrame())
    param = ["pjs", "pjsc", "wpjs", "wpjsi"]
    other = [s for s in names.PARAMETERS_SCORING if s not in param]
    if best.empty or not (set(param) & set(best["score"])) or not (set(other) & set(best["score"])):
        return Claim("ps", claim, "Parameter- and input-space scores were not both scored.",
                     UNTESTABLE)
    parts, wins = [], []
    for d in analysis.ordered_datasets(best["dataset"]):
        b = best[best["dataset"] == d].set_index("score")["test_mean"]
        p, o = b.reindex(param).dropna(), b.reindex(other).dropna()
        if p.empty or o.empty:
            continue
        wins.append(p.min() > o.max())
        parts.append(f"{DATASET_TITLES.get(d, d)}: worst parameter-space score "
                     f"{names.label(p.idxmin())} {p.min():.2f}% vs best other "
                     f"{names.label(o.idxmax())} {o.max():.2f}%")
    verdict = SUPPORTED if wins and all(wins) else NOT_SUPPORTED
    return Claim("ps", claim, "; ".join(parts) + " (mean test accuracy of the top-scored "
                 "architecture).", verdict)


def _better_claim(stats, paper: str, claim: str, better: str, worse: list[str], method: str,
                  target: str = "test_acc", absolute: bool = False) -> Claim:
    """``better`` correlates more strongly with accuracy than every score of ``worse``, on
    every data set (|value| when ``absolute``: rank sums correlate negatively)."""
    ours = _rows_by_dataset(stats, better, method, target)
    if not ours or not worse:
        return Claim(paper, claim, f"{names.label(better)} was not scored in this run.",
                     UNTESTABLE)
    parts, wins = [], []
    for d, r in ours.items():
        rivals = {s: _rows_by_dataset(stats, s, method, target).get(d) for s in worse}
        rivals = {s: x for s, x in rivals.items() if x is not None}
        size = (lambda x: abs(x)) if absolute else (lambda x: x)
        wins.append(bool(rivals) and all(size(r["value"]) > size(x["value"])
                                         for x in rivals.values()))
        parts.append(f"{DATASET_TITLES.get(d, d)}: {names.label(better)} "
                     f"{_interval_text(r)} vs " + ", ".join(
                         f"{names.label(s)} {_interval_text(x)}" for s, x in rivals.items()))
    verdict = SUPPORTED if all(wins) else NOT_SUPPORTED
    stat = {"kendall": "Kendall tau", "spearman": "Spearman rho"}[method]
    return Claim(paper, claim, f"{stat}" + (" (absolute values compared)" if absolute else "")
                 + ": " + "; ".join(parts) + ".", verdict)


def claims_table(stats: dict[str, pd.DataFrame], summary: dict, published: dict) -> pd.DataFrame:
    """Every claim we check, with the evidence of this run and a verdict."""
    members = list(summary.get("rank_combination", []))
    sp = published["ssnr_spearman"]["values"]
    claims = [
        claim_wpjs_top(stats), claim_percentile(stats, published), claim_parameter_space(stats),
        _better_claim(stats, "rb", "Combining " + ", ".join(names.label(m) for m in members)
                      + " by rank evaluates architectures better than each of them alone "
                      "(abstract, Section 1).", analysis.RANK_COMBINATION, members, "kendall",
                      absolute=True),
        claim_jacobian(stats),
        _better_claim(stats, "ssnr", f"Layer-wise SSNR tracks accuracy better than the "
                      f"saliency sum (Spearman {sp['ssnr_layerwise']} vs {sp['synflow']}).",
                      "ssnr_layerwise", ["synflow"], "spearman"),
        _better_claim(stats, "ssnr", f"Overall SSNR tracks accuracy better than the saliency "
                      f"sum (Spearman {sp['ssnr']} vs {sp['synflow']}).", "ssnr", ["synflow"],
                      "spearman"),
    ]
    return pd.DataFrame([c.__dict__ for c in claims])


def claim_jacobian(stats: dict[str, pd.DataFrame]) -> Claim:
    """NWOT: the Jacobian score predicts trained accuracy; with no rival score, the sign of
    its interval on every data set decides."""
    claim = ("The Jacobian score of an untrained network is highly indicative of its trained "
             "accuracy (abstract, Figure 1).")
    rows = _rows_by_dataset(stats, names.JACOBIAN, "kendall", "valid_acc")
    if not rows:
        return Claim("nwot", claim, f"{names.JACOBIAN} was not scored in this run.", UNTESTABLE)
    evidence = "Kendall tau with validation accuracy: " + "; ".join(
        f"{DATASET_TITLES.get(d, d)}: {_interval_text(r)}" for d, r in rows.items()) + "."
    if all(r["ci_low"] > 0 for r in rows.values()):
        verdict = SUPPORTED
    elif all(r["ci_high"] < 0 for r in rows.values()):
        verdict = CONTRADICTED
    else:
        verdict = NOT_SUPPORTED
    return Claim("nwot", claim, evidence, verdict)


def claims_tex(claims: pd.DataFrame, paper: str) -> str:
    sub = claims[claims["paper"] == paper]
    if sub.empty:
        return ""
    rows = [[tex_escape(r.claim), tex_escape(r.evidence),
             rf"\textbf{{{tex_escape(r.verdict)}}}"] for r in sub.itertuples()]
    return _longtable(["The paper's claim", "This run", "Verdict"], rows,
                      _p(0.3) + _p(0.5) + _p(0.12), "claims",
                      "Claims checked against this run's statistics (95\\% bootstrap "
                      "intervals in brackets). Supported: the run agrees on every data set; "
                      "contradicted: it shows the opposite on every data set; not supported: "
                      "neither.")


# ------------------------------------------------------------------------ not reproduced
def not_reproduced_table(skipped: dict[str, str], missing: dict[str, str]) -> pd.DataFrame:
    """What the papers have and we do not reproduce (always), then what this run did not
    draw or compute (its figures' skip notes, tables without a row)."""
    rows = [{"paper": catalog.PAPERS[n.paper].short, "item": n.item, "why": n.why,
             "scope": "pipeline"} for n in catalog.NOT_REPRODUCED]
    def short(paper: str) -> str:
        return catalog.PAPERS[paper].short if paper in catalog.PAPERS else "run"

    for name, note in skipped.items():
        entry = catalog.resolve_figure(name)
        why = note.split(": not drawn: ", 1)[-1]
        rows.append({"paper": short(entry.paper), "item": entry.heading,
                     "why": f"Not drawn by this run: {why}.", "scope": "this run"})
    for key, why in missing.items():
        entry = catalog.resolve_table(key)
        rows.append({"paper": short(entry.paper), "item": entry.heading,
                     "why": f"Not computed by this run: {why}.", "scope": "this run"})
    return pd.DataFrame(rows, columns=["paper", "item", "why", "scope"])


def not_reproduced_tex(table: pd.DataFrame) -> str:
    text = ""
    for scope, caption in (("pipeline", "Every figure and table of the four papers (as "
                            "provided in shared/papers) that this pipeline does not reproduce, "
                            "and why; published values of those we quote are in the tables "
                            "above."),
                           ("this run", "Figures and tables this run did not draw or compute, "
                            "with the reason its stages recorded (a smaller configuration "
                            "scores fewer scores or data sets).")):
        sub = table[table["scope"] == scope]
        if sub.empty:
            continue
        rows = [[tex_escape(r.paper), tex_escape(r.item), tex_escape(r.why)]
                for r in sub.itertuples()]
        text += _longtable(["Paper", "Figure or table", "Why"], rows,
                           _p(0.07) + _p(0.36) + _p(0.47), "not_reproduced", caption)
    return text


# ------------------------------------------------------------------------------- figures
def figure_tex(figures_dir: Path, name: str, paper_dir: Path,
               width: str = r"\linewidth") -> str | None:
    """A figure environment for ``name`` when the run drew it, captioned with the paper's
    number and title and the text of its .txt; scaled to the text block (width and height).
    The graphics path is relative to ``paper_dir``, where LaTeX runs."""
    pdf = figures_dir / f"{name}.pdf"
    txt = figures_dir / f"{name}.txt"
    if not pdf.exists():
        return None
    caption = txt.read_text(encoding="utf-8").strip() if txt.exists() else ""
    entry = catalog.resolve_figure(name)
    rel = Path(os.path.relpath(pdf.resolve(), start=paper_dir.resolve())).as_posix()
    # Not a float: an unbreakable box in reading order. It moves to the next page when it
    # does not fit, and cannot overflow one (image at most FIGURE_HEIGHT, caption below);
    # floats beside the longtables did overflow pages.
    return ("\\par\\medskip\\noindent\\begin{minipage}{\\linewidth}\n\\centering\n"
            f"\\includegraphics[width={width},height={FIGURE_HEIGHT},keepaspectratio]{{{rel}}}\n"
            f"\\captionof*{{figure}}{{\\textbf{{{tex_escape(entry.heading)}.}}\\enspace "
            f"{tex_escape(entry.item.title)}. {tex_escape(caption)}}}\n"
            "\\end{minipage}\\par\\medskip\n")


def search_table_tex(key: str, source: str, with_notes: bool) -> str:
    """A quoted search table of the search stage (``search_<key>.tex``) as a float scaled to
    the text block, under the paper's number."""
    entry = catalog.resolve_table(f"search_{key}")
    caption = tex_escape(f"{entry.item.title}. Our runs beside the published values "
                         f"({' '.join(source.split())})")
    return ("\\par\\medskip\\noindent\\begin{minipage}{\\linewidth}\n\\centering\\footnotesize\n"
            f"\\captionof*{{table}}{{\\textbf{{{tex_escape(entry.heading)}.}}\\enspace "
            f"{caption}}}\n"
            "\\begin{adjustbox}{max width=\\linewidth,max totalheight=0.6\\textheight}\n"
            f"\\input{{generated/search_{key}.tex}}\n\\end{{adjustbox}}\n"
            + (f"\\par\\smallskip\\raggedright\\input{{generated/search_{key}_notes.tex}}\n"
               if with_notes else "") + "\\end{minipage}\\par\\medskip\n")


# ------------------------------------------------------------------------------ sections
@dataclass
class Document:
    """What the sections are written from: the run's statistics and the pieces already
    written into ``out`` (figure snippets, tables, search tables)."""

    out: Path
    stats: dict[str, pd.DataFrame]
    summary: dict
    published: dict
    claims: pd.DataFrame
    figures: dict[str, list[str]] = field(default_factory=dict)  # catalogue key -> stems
    skipped: dict[str, str] = field(default_factory=dict)  # figure -> why not drawn
    missing: dict[str, str] = field(default_factory=dict)  # table key -> why not computed
    search: list[str] = field(default_factory=list)  # quoted search tables written

    def table(self, key: str) -> str:
        path = self.out / f"{key}.tex"
        return rf"\input{{generated/{key}.tex}}" if path.exists() else ""

    def figure(self, key: str) -> str:
        """Every drawn figure of catalogue ``key`` (each data set and part), or a box with
        the reason the run recorded for not drawing it."""
        stems = self.figures.get(key, [])
        if stems:
            return "\n".join(rf"\input{{generated/fig_{s}.tex}}" for s in stems)
        notes = [n.split(": not drawn: ", 1)[-1] for name, n in self.skipped.items()
                 if catalog.resolve_figure(name).item.key == key]
        item = catalog.FIGURES.get(key)
        heading = tex_escape(item.label if item else key)
        return (rf"\missing{{\textbf{{{heading}}} was not drawn by this run"
                + (": " + tex_escape("; ".join(dict.fromkeys(notes))) if notes else "")
                + ".}")


def _subsection(title: str, *blocks: str) -> str:
    return ("\\subsection*{" + tex_escape(title) + "}\n"
            + "\n".join(b for b in blocks if b) + "\n")


def _claims_block(doc: Document, paper: str) -> str:
    return rf"\input{{generated/claims_{paper}.tex}}" if (
        doc.out / f"claims_{paper}.tex").exists() else ""


def _wpjs_paragraph(doc: Document) -> str:
    """Say so where this run contradicts the paper's finding on WPJS/WPJSI."""
    claim = claim_wpjs_top(doc.stats)
    if claim.verdict != CONTRADICTED:
        return ""
    return ("\\paragraph{Where this run contradicts the paper.} The paper finds WPJS and WPJSI "
            "the top performers of its scores. In this run both correlate \\emph{negatively} "
            "with test accuracy on every data set, the opposite sign, with 95\\% bootstrap "
            "intervals that exclude zero: " + tex_escape(claim.evidence) + " We report "
            "them in the direction the paper gives them (higher is better), not flipped. The "
            "figure ``PS evidence'' below shows what drives the sign: both definitions carry a "
            "factor $1/N$, $N$ the number of parameter tensors the score uses "
            "(\\texttt{tensors\\_used} in each row's \\texttt{extra}), and larger $N$ goes with "
            "higher accuracy.\n")


def section_ps(doc: Document) -> str:
    return ("\\section{PS: Improving zero-shot NAS with parameters scoring}\n"
            "Figures and tables below carry the paper's own numbers. The paper's protocol "
            "(quoted): " + tex_escape(doc.published["ps_percentile"]["protocol"]) + "; the "
            "scale of this run is in Section~1.\n"
            + _subsection("PS Table 1: summary of scores features", doc.table("ps_table1"))
            + _subsection("PS Figure 1: monotonicity on familiar functions",
                          doc.figure("ps_fig1"))
            + _subsection("PS Figure 2: metrics score versus accuracy", doc.figure("ps_fig2"))
            + _subsection("PS Figure 3: best accuracy retrieved and time per architecture",
                          doc.figure("ps_fig3"), doc.table("ps_best"), doc.table("timing"))
            + _subsection("PS Figures 4 and 5: monotonicity and slope",
                          doc.figure("ps_fig4"), doc.figure("ps_fig5"), doc.table("ps_quality"))
            + _subsection("PS Section 5: percentile of the best architecture",
                          doc.figure("ps_percentile"))
            + _subsection("PS claims checked", _wpjs_paragraph(doc), _claims_block(doc, "ps"),
                          doc.figure("ps_tensors") if doc.figures.get("ps_tensors") else ""))


def _search_blocks(doc: Document, keys: tuple[str, ...]) -> str:
    shown = [k for k in keys if k in doc.search]
    if not shown:
        return (r"\missing{The search tables were not produced by this run (searches disabled "
                r"or not run); the published rows are in \texttt{paper/published.yaml}.}")
    return "\n".join(rf"\input{{generated/search_float_{k}.tex}}" for k in shown)


def section_rb(doc: Document) -> str:
    anytime = "\n".join(rf"\input{{generated/fig_{s}.tex}}"
                        for s in doc.figures.get("search_anytime", []))
    return ("\\section{RB: Rank-based training-free NAS}\n"
            "The paper's Table 1 quotes FreeREA's correlations (all NATS-Bench topology "
            "architectures, three initialisations averaged); its Tables 2 and 3 compare "
            "searches. NI and the rank combination (sum of per-score ranks, directions from "
            "our proxy registry, never from accuracies) have no published correlation.\n"
            + _subsection("RB Table 1: correlation with test accuracy",
                          doc.table("rank_based_table1"), doc.figure("rb_table1"))
            + _subsection("RB Tables 2 and 3: searches",
                          _search_blocks(doc, SEARCH_KEYS[:2]), anytime)
            + _subsection("RB claims checked", _claims_block(doc, "rb")))


def section_nwot(doc: Document) -> str:
    return ("\\section{NWOT: Neural architecture search without training}\n"
            "The provided text of the paper ends after its Figure~1; it prints no "
            "correlation value. Panel (b) (NAS-Bench-201) is drawn per data set.\n"
            + _subsection("NWOT Figure 1(b): histograms of the Jacobian correlations",
                          doc.figure("nwot_fig1"), doc.table("nwot_table"))
            + _subsection("NWOT search results", _search_blocks(doc, SEARCH_KEYS[2:]))
            + _subsection("NWOT claims checked", _claims_block(doc, "nwot")))


def section_ssnr(doc: Document) -> str:
    return ("\\section{SSNR: Layer-wise saliency signal-to-noise ratio}\n"
            "The paper prints Spearman correlations under its Figure~2 and Kendall "
            "correlations in its Table~1 (NASLib, test size 5000).\n"
            + _subsection("SSNR Figure 2: models in score-accuracy space",
                          doc.figure("ssnr_fig2"))
            + _subsection("SSNR Table 1 and the Spearman values of Figure 2",
                          doc.table("ssnr_table"), doc.figure("ssnr_table1"))
            + _subsection("SSNR claims checked", _claims_block(doc, "ssnr")))


def section_protocol(doc: Document) -> str:
    return ("\\section{Run: protocol and scale}\n"
            "Correlations are Kendall $\\tau_b$ and Spearman $\\rho$ with test accuracy (200 "
            "epochs, mean over training seeds) unless a table says validation accuracy. "
            "Non-finite scores are ranked last (worst in the score's direction) or dropped, "
            "as each table says, with their counts. Scores computed with several seeds are "
            "averaged per architecture before ranking. ``Above the median'' holds the "
            "architectures scoring strictly better than the median score. Signs are kept.\n"
            + doc.table("protocol"))


def section_not_reproduced(doc: Document) -> str:
    return "\\section{Not reproduced}\n" + doc.table("not_reproduced")


SECTIONS = {"protocol": section_protocol, "ps": section_ps, "rb": section_rb,
            "nwot": section_nwot, "ssnr": section_ssnr,
            "not_reproduced": section_not_reproduced}


# -------------------------------------------------------------------------------- report
REPORT_DIR = "report"  # reStructuredText captions the Snakemake report includes
REPORT_MAX_ROWS = 60  # larger tables are attached, not printed in the caption
STATS_DESCRIPTIONS = {
    "correlations": "Kendall tau-b and Spearman rho of every score with test and validation "
                    "accuracy per data set, subset (all, above the median) and non-finite policy "
                    "(kept_worst: ranked last; dropped), with 95% percentile-bootstrap intervals "
                    "(value, ci_low, ci_high) and n.",
    "monotonicity": "Monotonicity (|Kendall tau-a|, parameters scoring) with test accuracy.",
    "slopes": "Linear regression of test accuracy on log(1 - score) (bounded scores) or the "
              "standardised score: slope, |slope|, intercept, r, n.",
    "best_retrieved": "Best accuracy retrieved: test/validation accuracy of the top-scored "
                      "architecture of each sample (mean and std over runs) and the "
                      "percentile of the sample's best architecture.",
    "best_retrieved_runs": "Every run behind best_retrieved.",
    "timing": "Seconds per architecture per score, data set and mode.",
    "nonfinite": "Counts of each status (ok, nan, +inf, -inf, error) per score and data set.",
    "benchmark_best": "Highest test and validation accuracy per data set.",
    "score_specs": "Direction and bounds of every score, as the statistics used them.",
}


def _cell(v: object) -> str:
    if isinstance(v, float | np.floating):
        return "" if not np.isfinite(v) else f"{v:.4g}"
    return " ".join(str(v).split())


def report_rst(title: str, text: str, table: pd.DataFrame | None) -> str:
    """A report caption: bold title, text, and the table inline when it is small."""
    body = f"**{catalog.rst_escape(title)}.** {catalog.rst_escape(text)}\n"
    if table is None or table.empty or len(table) > REPORT_MAX_ROWS:
        rows = 0 if table is None else len(table)
        return body + (f"\n{rows} rows; open the file for the full table.\n" if rows else "")
    def quoted(v: object) -> str:
        # cells are parsed as reStructuredText too: "|a|" would be a substitution
        return '"' + catalog.rst_escape(_cell(v)).replace('"', '""') + '"'

    lines = ["", ".. csv-table::", "   :header: " + ", ".join(map(quoted, table.columns)), ""]
    for row in table.itertuples(index=False):
        lines.append("   " + ", ".join(map(quoted, row)))
    return body + "\n".join(lines) + "\n"


def write_report_captions(out: Path, tables: dict[str, pd.DataFrame],
                          stats: dict[str, pd.DataFrame]) -> list[Path]:
    """``report/<csv>.rst`` for every table CSV and ``report/stats_<name>.rst`` for every
    statistics table, for the report's caption templates to include."""
    written = []
    for stem, table in tables.items():
        entry = catalog.resolve_table(stem)
        text = (f"{entry.item.title}. The table of the PDF, as CSV: our values beside the "
                "printed ones and their difference where the paper prints values.")
        written.append(io.write_text(out / REPORT_DIR / f"{stem}.rst",
                                     report_rst(entry.heading, text, table)))
    for name in analysis.OUTPUT_TABLES:
        table = stats.get(name)
        text = STATS_DESCRIPTIONS.get(name, name)
        written.append(io.write_text(out / REPORT_DIR / f"stats_{name}.rst",
                                     report_rst(f"Statistics: {name}", text, table)))
    return written


# ----------------------------------------------------------------------------- the whole
def _figure_order(stem: str) -> tuple:
    r = catalog.resolve_figure(stem)
    ds = list(analysis.DATASET_ORDER)
    return (ds.index(r.dataset) if r.dataset in ds else -1, r.part or 0, stem)


def _write_figures(doc: Document, figures_dir: Path | None,
                   search_figures: list[Path]) -> list[Path]:
    """fig_<name>.tex for every drawn figure (and the search stage's anytime figures),
    grouped by catalogue key in the document's order."""
    written = []
    pdfs = sorted(figures_dir.glob("*.pdf")) if figures_dir is not None else []
    for pdf in [*pdfs, *search_figures]:
        text = figure_tex(pdf.parent, pdf.stem, doc.out.parent)
        if text:
            written.append(io.write_text(doc.out / f"fig_{pdf.stem}.tex", text))
            key = catalog.resolve_figure(pdf.stem).item.key
            key = "search_anytime" if key.startswith("search_anytime") else key
            doc.figures.setdefault(key, []).append(pdf.stem)
    for key in doc.figures:
        doc.figures[key].sort(key=_figure_order)
    if figures_dir is not None and (figures_dir / "figures_manifest.json").exists():
        manifest = json.loads((figures_dir / "figures_manifest.json").read_text())
        doc.skipped = dict(manifest.get("skipped", {}))
    return written


def _copy_search(doc: Document, search_dir: Path | None) -> list[Path]:
    """The search stage's tables into ``generated/`` and a float per quoted table."""
    if search_dir is None:
        return []
    written = []
    for tex in sorted(Path(search_dir).glob("*.tex")):
        written.append(io.write_text(doc.out / tex.name, tex.read_text(encoding="utf-8")))
    quoted = doc.published.get("search_tables", {})
    for key in SEARCH_KEYS:
        if (doc.out / f"search_{key}.tex").exists() and key in quoted:
            notes = (doc.out / f"search_{key}_notes.tex").exists()
            written.append(io.write_text(doc.out / f"search_float_{key}.tex", search_table_tex(
                key, str(quoted[key].get("source", "")), notes)))
            doc.search.append(key)
    return written


def _manifest_run(figures_dir: Path | None) -> dict:
    """What the figures stage read from the scores table about the run (its manifest)."""
    path = None if figures_dir is None else figures_dir / "figures_manifest.json"
    if path is None or not path.exists():
        return {}
    return dict(json.loads(path.read_text(encoding="utf-8")).get("run", {}))


def _compute_tables(stats, summary: dict, published: dict, registry, scored: dict,
                    run: dict, search_dir: Path | None) -> dict[str, pd.DataFrame]:
    """Every table of the document as a DataFrame, keyed by its CSV's name."""
    tables = {
        "rank_based_table1": rank_based_table(stats, published),
        "ssnr_correlations": ssnr_table(stats, published),
        "nwot_kendall": nwot_table(stats, published),
        "ps_table1": ps_table1(stats, published, registry),
        "ps_percentile": ps_percentile_table(stats, published),
        "protocol": protocol_table(summary, stats, scored, run),
        "papers_protocol": papers_protocols(published),
        "claims": claims_table(stats, summary, published),
    }
    for key in ("monotonicity", "timing"):
        if not stats.get(key, pd.DataFrame()).empty:
            tables["ps_quality" if key == "monotonicity" else key] = stats[key]
    if search_dir is not None:
        for key in SEARCH_KEYS:
            csv = Path(search_dir) / f"search_{key}.csv"
            if csv.exists():
                tables[f"search_{key}"] = pd.read_csv(csv)
    return tables


def _table_texts(tables: dict[str, pd.DataFrame], stats, published: dict) -> dict[str, str]:
    corr = stats.get("correlations", pd.DataFrame())
    texts = {
        "rank_based_table1": rank_based_tex(tables["rank_based_table1"], corr),
        "ssnr_table": ssnr_tex(tables["ssnr_correlations"], corr),
        "nwot_table": nwot_tex(tables["nwot_kendall"], corr, published),
        "ps_table1": ps_table1_tex(tables["ps_table1"]),
        "ps_best": ps_best_tex(stats, published),
        "ps_quality": ps_quality_tex(stats),
        "timing": timing_tex(stats),
        "protocol": protocol_tex(tables["protocol"], tables["papers_protocol"]),
    }
    for paper in catalog.PAPERS:
        texts[f"claims_{paper}"] = claims_tex(tables["claims"], paper)
    return {k: v for k, v in texts.items() if v}


def write_paper_tables(
    stats_dir: Path | str,
    out_dir: Path | str,
    figures_dir: Path | str | None = None,
    published_path: Path | str | None = None,
    registry=None,
    search_dir: Path | str | None = None,
    run: dict | None = None,
) -> list[Path]:
    """Write ``<out_dir>/*.tex`` (tables, run macros, one file per drawn figure, the search
    tables of ``search_dir`` when given, one ``section_<key>.tex`` per section of
    ``paper/main.tex``), the tables as CSV and the report's captions of them. ``run``: the
    settings the workflow passes (experiment, image sources and counts, configuration);
    the scores table's own protocol columns come from the figures' manifest. Figure paths
    are written relative to ``out_dir``'s parent (the paper folder, where LaTeX runs).
    Returns the written paths."""
    stats, summary = analysis.read_stats(stats_dir)
    published = load_published(published_path)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    fdir = Path(figures_dir) if figures_dir is not None else None
    sdir = Path(search_dir) if search_dir is not None else None
    tables = _compute_tables(stats, summary, published, registry, _manifest_run(fdir),
                             run or {}, sdir)
    doc = Document(out, stats, summary, published, tables["claims"])
    written = [io.write_text(out / "run_macros.tex", run_macros(summary, stats))]
    for key, text in _table_texts(tables, stats, published).items():
        written.append(io.write_text(out / f"{key}.tex", text))
        if text.startswith("% missing: "):
            doc.missing[key] = text.splitlines()[0].removeprefix("% missing: ")
    anytime = sorted((sdir.parent / "figures").glob("*.pdf")) if sdir is not None else []
    written += _write_figures(doc, fdir, anytime)
    written += _copy_search(doc, sdir)
    tables["not_reproduced"] = not_reproduced_table(doc.skipped, doc.missing)
    written.append(io.write_text(out / "not_reproduced.tex",
                                 not_reproduced_tex(tables["not_reproduced"])))
    for name, table in tables.items():
        written.append(io.write_csv(out / f"{name}.csv", table))
    for key, section in SECTIONS.items():
        written.append(io.write_text(out / f"section_{key}.tex", section(doc)))
    written += write_report_captions(out, tables, stats)
    return written
