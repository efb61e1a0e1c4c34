"""Tables of the paper (``results/<experiment>/paper/generated/*.tex`` and CSV twins).

Every number written here comes from the statistics of the run; the papers' values are read
from ``paper/published.yaml`` and printed next to ours with the difference (ours − paper).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd

from zeroshot_nas import io
from zeroshot_nas.stats import analysis, names

from .published import load_published
from .tex import tex_escape

log = logging.getLogger(__name__)

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


def _corr_row(corr: pd.DataFrame, score: str, dataset: str, method: str, target: str,
              policy: str = "kept_worst", subset: str = "all") -> pd.Series | None:
    if corr.empty:
        return None
    m = corr[(corr["score"] == score) & (corr["dataset"] == dataset) & (corr["method"] == method)
             & (corr["target"] == target) & (corr["policy"] == policy)
             & (corr["subset"] == subset)]
    return None if m.empty else m.iloc[0]


def _tabular(header: list[str], rows: list[list[str]], align: str, caption: str,
             label: str) -> str:
    lines = [r"\begin{table}[htbp]", r"\centering", r"\small",
             rf"\caption{{{caption}}}", rf"\label{{{label}}}",
             r"\begin{adjustbox}{max width=\linewidth}", rf"\begin{{tabular}}{{{align}}}",
             r"\toprule",
             " & ".join(header) + r" \\", r"\midrule"]
    lines += [" & ".join(r) + r" \\" for r in rows]
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{adjustbox}", r"\end{table}", ""]
    return "\n".join(lines)


def _missing_table(caption: str, label: str, why: str) -> str:
    return (f"\\begin{{table}}[htbp]\\centering\\caption{{{caption}}}\\label{{{label}}}\n"
            f"\\fbox{{\\parbox{{0.9\\linewidth}}{{Not produced by this run: {tex_escape(why)}}}}}"
            "\n\\end{table}\n")


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
    header = ["Score", "Data set", r"$\tau$ ours [95\% CI]", r"$\tau$ paper", r"$\Delta\tau$",
              r"$\rho$ ours [95\% CI]", r"$\rho$ paper", r"$\Delta\rho$",
              r"$\tau$ dropped", r"$n$ (non-fin.)"]
    rows = []
    for _, r in table.iterrows():
        if r["n"] is None or pd.isna(r["n"]):
            continue
        k = _corr_row(corr, r["score"], r["dataset"], "kendall", "test_acc")
        s = _corr_row(corr, r["score"], r["dataset"], "spearman", "test_acc")
        rows.append([tex_escape(names.label(r["score"])), tex_escape(r["dataset"]),
                     _ci(k), _num(r["kendall_paper"]), _num(r["kendall_diff"], signed=True),
                     _ci(s), _num(r["spearman_paper"]), _num(r["spearman_diff"], signed=True),
                     _num(r["kendall_dropped"]), f"{int(r['n'])} ({int(r['n_nonfinite'])})"])
    caption = (r"Rank-based paper, Table~1: Kendall $\tau$ and Spearman $\rho$ between score "
               r"and test accuracy. Ours: non-finite scores ranked last (worst), 95\% "
               r"percentile-bootstrap intervals; ``$\tau$ dropped'' drops them instead. Paper: "
               r"published values (all NATS architectures, mean of three initialisations). "
               r"$\Delta$ = ours $-$ paper. The rank combination is a rank sum (smaller is "
               r"better), so its correlations are negative when it works.")
    if not rows:
        return _missing_table(caption, "tab:rank-based", "none of its scores was scored")
    return _tabular(header, rows, "llrrrrrrrr", caption, "tab:rank-based")


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
    header = ["Score", "Data set", "Statistic", "ours [95\\% CI]", "paper", r"$\Delta$", "$n$"]
    rows = []
    for _, r in table.iterrows():
        if r["ours"] is None or pd.isna(r["ours"]):
            continue
        c = _corr_row(corr, r["score"], r["dataset"], r["method"], "test_acc")
        rows.append([tex_escape(names.label(r["score"])), tex_escape(r["dataset"]),
                     "Spearman $\\rho$" if r["method"] == "spearman" else "Kendall $\\tau$",
                     _ci(c, 4), _num(r["paper"], 4), _num(r["diff"], 4, signed=True),
                     str(int(r["n"]))])
    caption = (r"Layer-wise SSNR paper: Spearman $\rho$ (text under its Figure~2) and Kendall "
               r"$\tau$ (its Table~1, NASLib, test size 5000) with test accuracy. Paper values "
               r"are published; $\Delta$ = ours $-$ paper.")
    if not rows:
        return _missing_table(caption, "tab:ssnr", "synflow/ssnr/ssnr_layerwise not scored")
    return _tabular(header, rows, "lllrrrr", caption, "tab:ssnr")


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
    header = ["Data set", "Non-finite", r"$\tau$ ours [95\% CI]", "paper", "$n$ (non-fin.)"]
    rows = []
    for _, r in table.iterrows():
        if r["kendall"] is None or pd.isna(r["kendall"]):
            continue
        c = _corr_row(corr, names.JACOBIAN, r["dataset"], "kendall", "valid_acc",
                      policy=r["policy"])
        rows.append([tex_escape(r["dataset"]), tex_escape(r["policy"]), _ci(c),
                     _num(r["paper"]), f"{int(r['n'])} ({int(r['n_nonfinite'])})"])
    caption = (r"NAS without training: Kendall $\tau$ of the Jacobian score (jacob\_cov) with "
               r"validation accuracy. Paper: " + tex_escape(published["nwot_fig1"]["note"]))
    if not rows:
        return _missing_table(caption, "tab:nwot", "jacob_cov not scored")
    return _tabular(header, rows, "llrrr", caption, "tab:nwot")


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


def ps_table1_tex(table: pd.DataFrame) -> str:
    if not table["in_registry"].any():
        return _missing_table("Parameters-scoring Table 1: score features.", "tab:ps-features",
                              "the proxy registry has none of these scores")
    t = table[table["in_registry"]]
    header = ["", *[tex_escape(s) for s in t["label"]]]
    feats = [("noise", "noise"), ("parameter space", "parameter_space"),
             ("cosine similarity", "cosine_similarity")]
    rows = []
    for title, key in feats:
        rows.append([title, *[(r"$\times$" if v else "") for v in t[key]]])
        rows.append([f"\\quad paper: {title}",
                     *[(r"$\times$" if v else "") for v in t[f"{key}_paper"]]])
    rows.append(["bounded in [0, 1]", *[("yes" if v else "no") for v in t["bounded01"]]])
    rows.append(["higher is better", *[("yes" if v else "no") for v in t["higher_is_better"]]])
    rows.append(["needs labels", *[("yes" if v else "no") for v in t["needs_labels"]]])
    caption = ("Parameters-scoring Table 1: summary of score features, generated from our proxy "
               "registry (family and description), with the paper's marks (``paper:'' rows, "
               "published) below each feature.")
    return _tabular(header, rows, "l" + "c" * len(t), caption, "tab:ps-features")


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


def ps_best_tex(stats: dict[str, pd.DataFrame], published: dict) -> str:
    best = stats.get("best_retrieved", pd.DataFrame())
    caption = ("Parameters-scoring Figure~3 and Discussion: accuracy (\\%) of the top-scored "
               "architecture of each sample (mean $\\pm$ std over runs) and the percentile of "
               "the sample's best architecture in the score ranking (mean $\\pm$ std, max over "
               "runs; paper: published upper bound for all three data sets).")
    if best.empty:
        return _missing_table(caption, "tab:ps-best", "no best-accuracy statistics")
    pct = ps_percentile_table(stats, published)
    opt = stats.get("benchmark_best", pd.DataFrame())
    opt = opt.set_index("dataset") if not opt.empty else opt
    header = ["Score", "Data set", "test", "valid", "optimum (test)", "percentile",
              "max", "paper", r"$\Delta$ (max)"]
    rows = []
    order = names.present([*names.PARAMETERS_SCORING, *sorted(best["score"].unique())],
                          best["score"])
    order = list(dict.fromkeys(order))
    for score in order:
        for dataset in analysis.ordered_datasets(best["dataset"]):
            b = best[(best["score"] == score) & (best["dataset"] == dataset)]
            if b.empty:
                continue
            b = b.iloc[0]
            p = pct[(pct["score"] == score) & (pct["dataset"] == dataset)].iloc[0]
            o = _num(opt.loc[dataset, "best_test_acc"]) if dataset in getattr(opt, "index", []) \
                else "--"
            rows.append([tex_escape(names.label(score)), tex_escape(dataset),
                         f"{_num(b['test_mean'])} $\\pm$ {_num(b['test_std'])}",
                         f"{_num(b['valid_mean'])} $\\pm$ {_num(b['valid_std'])}", o,
                         f"{_num(b['percentile_mean'], 1)} $\\pm$ {_num(b['percentile_std'], 1)}",
                         _num(b["percentile_max"], 1), _num(p["paper_upper_bound"], 1),
                         _num(p["diff_max_vs_paper"], 1, signed=True)])
    r = best.iloc[0]
    caption += (f" Ours: {int(r['runs'])} runs of {int(r['sample_size'])} architectures drawn "
                f"from {int(r['pool_size'])} scored ones.")
    return _tabular(header, rows, "llrrrrrrr", caption, "tab:ps-best")


def ps_quality_tex(stats: dict[str, pd.DataFrame]) -> str:
    mono = stats.get("monotonicity", pd.DataFrame())
    slopes = stats.get("slopes", pd.DataFrame())
    caption = ("Parameters-scoring Figures~4 and 5 in numbers: monotonicity with test accuracy "
               "and $|$slope$|$ of the regression of test accuracy on log(1 $-$ score) "
               "(standardised score for unbounded scores), all architectures vs those above "
               "the median score; non-finite scores dropped. The paper prints these only as "
               "bar charts (no published numbers).")
    if mono.empty:
        return _missing_table(caption, "tab:ps-quality", "no monotonicity statistics")
    mono = mono[mono["policy"] == "dropped"]
    header = ["Score", "Data set", "mono. all", "mono. above", "$|$slope$|$ all",
              "$|$slope$|$ above", "regressor"]
    rows = []
    order = list(dict.fromkeys(names.present(
        [*names.PARAMETERS_SCORING, *sorted(mono["score"].unique())], mono["score"])))
    for score in order:
        for dataset in analysis.ordered_datasets(mono["dataset"]):
            m = mono[(mono["score"] == score) & (mono["dataset"] == dataset)].set_index("subset")
            s = slopes[(slopes["score"] == score) & (slopes["dataset"] == dataset)]
            s = s.set_index("subset")
            if m.empty:
                continue
            rows.append([tex_escape(names.label(score)), tex_escape(dataset),
                         _num(m.loc["all", "monotonicity"], 3),
                         _num(m.loc["above_median", "monotonicity"], 3),
                         _num(s["abs_slope"].get("all", np.nan)),
                         _num(s["abs_slope"].get("above_median", np.nan)),
                         tex_escape(s["transform"].iloc[0]) if not s.empty else "--"])
    return _tabular(header, rows, "llrrrrl", caption, "tab:ps-quality")


def timing_tex(stats: dict[str, pd.DataFrame]) -> str:
    timing = stats.get("timing", pd.DataFrame())
    caption = "Seconds per architecture per score (median over architectures; mean $\\pm$ std)."
    if timing.empty:
        return _missing_table(caption, "tab:timing", "no timings")
    header = ["Score", "Data set", "mode", "$n$", "median (s)", "mean $\\pm$ std (s)"]
    rows = []
    for _, r in timing.sort_values(["mode", "score", "dataset"]).iterrows():
        rows.append([tex_escape(names.label(r["score"])), tex_escape(r["dataset"]),
                     tex_escape(r["mode"]), str(int(r["n"])), _num(r["seconds_median"], 3),
                     f"{_num(r['seconds_mean'], 3)} $\\pm$ {_num(r['seconds_std'], 3)}"])
    return _tabular(header, rows, "lllrrr", caption, "tab:timing")


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


def figure_tex(figures_dir: Path, name: str, paper_dir: Path,
               width: str = r"\linewidth") -> str | None:
    """A figure environment for ``name`` when the run drew it (caption from its .txt); the
    graphics path is relative to ``paper_dir``, where LaTeX runs."""
    pdf = figures_dir / f"{name}.pdf"
    txt = figures_dir / f"{name}.txt"
    if not pdf.exists():
        return None
    caption = txt.read_text(encoding="utf-8").strip() if txt.exists() else name
    rel = Path(os.path.relpath(pdf.resolve(), start=paper_dir.resolve())).as_posix()
    return (f"\\begin{{figure}}[htbp]\n\\centering\n\\includegraphics[width={width}]"
            f"{{{rel}}}\n\\caption{{{tex_escape(caption)}}}\n\\label{{fig:{name}}}\n"
            "\\end{figure}\n")


def write_paper_tables(
    stats_dir: Path | str,
    out_dir: Path | str,
    figures_dir: Path | str | None = None,
    published_path: Path | str | None = None,
    registry=None,
    search_dir: Path | str | None = None,
) -> list[Path]:
    """Write ``<out_dir>/*.tex`` (tables, run macros, one file per drawn figure, the search
    tables of ``search_dir`` when given) and the tables as CSV. Figure paths are written
    relative to ``out_dir``'s parent (the paper folder, where LaTeX runs). Returns the
    written paths."""
    stats, summary = analysis.read_stats(stats_dir)
    published = load_published(published_path)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    corr = stats.get("correlations", pd.DataFrame())
    written: list[Path] = []

    def put(name: str, text: str) -> None:
        written.append(io.write_text(out / name, text))

    rb = rank_based_table(stats, published)
    ss = ssnr_table(stats, published)
    nw = nwot_table(stats, published)
    ps1 = ps_table1(stats, published, registry)
    pct = ps_percentile_table(stats, published)
    for name, table in (("rank_based_table1", rb), ("ssnr_correlations", ss),
                        ("nwot_kendall", nw), ("ps_table1", ps1), ("ps_percentile", pct)):
        written.append(io.write_csv(out / f"{name}.csv", table))
    put("run_macros.tex", run_macros(summary, stats))
    put("rank_based_table1.tex", rank_based_tex(rb, corr))
    put("ssnr_table.tex", ssnr_tex(ss, corr))
    put("nwot_table.tex", nwot_tex(nw, corr, published))
    put("ps_table1.tex", ps_table1_tex(ps1))
    put("ps_best.tex", ps_best_tex(stats, published))
    put("ps_quality.tex", ps_quality_tex(stats))
    put("timing.tex", timing_tex(stats))
    if figures_dir is not None:
        fdir = Path(figures_dir)
        for pdf in sorted(fdir.glob("*.pdf")):
            text = figure_tex(fdir, pdf.stem, out.parent)
            if text:
                put(f"fig_{pdf.stem}.tex", text)
    if search_dir is not None:
        for tex in sorted(Path(search_dir).glob("*.tex")):
            put(tex.name, tex.read_text(encoding="utf-8"))
    return written
