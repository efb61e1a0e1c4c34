"""PS, "Improving zero-shot NAS with parameters scoring": its Table 1 (score features, from
our proxy registry), Figures 3 to 5 in numbers (best accuracy retrieved and the best
architecture's percentile, monotonicity and slope, seconds per architecture), its claims
(WPJS/WPJSI on top, the percentile bound, parameter-space scores ahead), and the section."""

from __future__ import annotations

import numpy as np
import pandas as pd

from zeroshot_nas.spaces.common import DATASET_TITLES
from zeroshot_nas.stats import analysis, names

from .claims import (
    CONTRADICTED,
    NOT_SUPPORTED,
    SUPPORTED,
    UNTESTABLE,
    Claim,
    interval_text,
    rows_by_dataset,
)
from .document import Document, RunInputs, Section, Tables, subsection
from .latex import dataset_cell, group_row, longtable, missing_table, number, stacked_header
from .tex import tex_escape


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
        return missing_table("ps_table1", caption,
                             "the proxy registry has none of these scores")
    header = ["Score", *[stacked_header(t, "ours / paper") for t, _ in PS_FEATURES],
              stacked_header("bounded", "in [0, 1]"), stacked_header("higher is", "better"),
              "differs"]

    def mark(v: bool) -> str:
        return r"$\times$" if v else r"$\cdot$"

    rows = []
    for _, r in table[table["in_registry"]].iterrows():
        differs = [t for t, key in PS_FEATURES if bool(r[key]) != bool(r[f"{key}_paper"])]
        rows.append([tex_escape(r["label"]),
                     *[f"{mark(r[key])} / {mark(r[f'{key}_paper'])}" for _, key in PS_FEATURES],
                     "yes" if r["bounded01"] else "no", "yes" if r["higher_is_better"] else "no",
                     tex_escape(", ".join(differs) or "none")])
    return longtable(header, rows, "lcccccl", "ps_table1", caption)


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
        return missing_table("ps_best", caption, "no best-accuracy statistics")
    pct = ps_percentile_table(stats, published)
    opt = stats.get("benchmark_best", pd.DataFrame())
    opt = opt.set_index("dataset")["best_test_acc"] if not opt.empty else pd.Series(dtype=float)
    header = ["Score", "test", "valid", "percentile", "max", "paper", r"$\Delta$ (max)"]
    rows: list = []
    for dataset in analysis.ordered_datasets(best["dataset"]):
        rows.append(group_row(f"{dataset_cell(dataset)} (optimum, test: "
                              f"{number(opt.get(dataset))})", len(header)))
        for score in _ps_order(best["score"]):
            b = best[(best["score"] == score) & (best["dataset"] == dataset)]
            if b.empty:
                continue
            b = b.iloc[0]
            p = pct[(pct["score"] == score) & (pct["dataset"] == dataset)].iloc[0]
            rows.append([tex_escape(names.label(score)),
                         f"{number(b['test_mean'])} $\\pm$ {number(b['test_std'])}",
                         f"{number(b['valid_mean'])} $\\pm$ {number(b['valid_std'])}",
                         f"{number(b['percentile_mean'], 1)} $\\pm$ "
                         f"{number(b['percentile_std'], 1)}",
                         number(b["percentile_max"], 1), number(p["paper_upper_bound"], 1),
                         number(p["diff_max_vs_paper"], 1, signed=True)])
    r = best.iloc[0]
    caption += (f" Ours: {names.counted(int(r['runs']), 'run')} of {int(r['sample_size'])} "
                f"architectures drawn from {int(r['pool_size'])} scored ones (paper: 5 runs of "
                "1000).")
    return longtable(header, rows, "lrrrrrr", "ps_best", caption)


def ps_quality_tex(stats: dict[str, pd.DataFrame]) -> str:
    mono = stats.get("monotonicity", pd.DataFrame())
    slopes = stats.get("slopes", pd.DataFrame())
    caption = ("Monotonicity with test accuracy and $|$slope$|$ of the regression of test "
               "accuracy on log(1 $-$ score) (standardised score for unbounded scores), all "
               "architectures vs those above the median score; non-finite scores dropped. The "
               "paper prints these only as charts (no published numbers).")
    if mono.empty:
        return missing_table("ps_quality", caption, "no monotonicity statistics")
    mono = mono[mono["policy"] == "dropped"]
    header = ["Score", "mono. all", "mono. above", "$|$slope$|$ all", "$|$slope$|$ above",
              "regressor"]
    rows: list = []
    for dataset in analysis.ordered_datasets(mono["dataset"]):
        rows.append(group_row(dataset_cell(dataset), len(header)))
        for score in _ps_order(mono["score"]):
            m = mono[(mono["score"] == score) & (mono["dataset"] == dataset)].set_index("subset")
            s = slopes[(slopes["score"] == score) & (slopes["dataset"] == dataset)]
            s = s.set_index("subset")
            if m.empty:
                continue
            rows.append([tex_escape(names.label(score)),
                         number(m["monotonicity"].get("all", np.nan), 3),
                         number(m["monotonicity"].get("above_median", np.nan), 3),
                         number(s["abs_slope"].get("all", np.nan)),
                         number(s["abs_slope"].get("above_median", np.nan)),
                         tex_escape(s["transform"].iloc[0]) if not s.empty else "--"])
    return longtable(header, rows, "lrrrrl", "ps_quality", caption)


def timing_tex(stats: dict[str, pd.DataFrame]) -> str:
    timing = stats.get("timing", pd.DataFrame())
    caption = ("Seconds per architecture per score (median over architectures; mean $\\pm$ "
               "std). Standalone: each score alone, with its own passes (the ones to compare); "
               "fused: scores sharing passes in the scoring run. The paper prints no numbers.")
    if timing.empty:
        return missing_table("timing", caption, "no timings")
    header = ["Score", "Data set", "mode", "$n$", "median (s)", "mean $\\pm$ std (s)"]
    rows = []
    for _, r in timing.sort_values(["mode", "score", "dataset"]).iterrows():
        rows.append([tex_escape(names.label(r["score"])), dataset_cell(r["dataset"]),
                     tex_escape(r["mode"]), str(int(r["n"])), number(r["seconds_median"], 3),
                     f"{number(r['seconds_mean'], 3)} $\\pm$ {number(r['seconds_std'], 3)}"])
    return longtable(header, rows, "lllrrr", "timing", caption)


def claim_wpjs_top(stats: dict[str, pd.DataFrame]) -> Claim:
    """PS Section 5: WPJS and WPJSI are the top performers."""
    claim = ("WPJS and WPJSI are the top performers: best accuracy found with the smallest "
             "variance and best monotonicity above the median (Section 5).")
    taus = {s: rows_by_dataset(stats, s) for s in ("wpjs", "wpjsi")}
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
                         f"test accuracy {interval_text(r)}"
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


def wpjs_paragraph(doc: Document) -> str:
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


def section(doc: Document) -> str:
    return ("\\section{PS: Improving zero-shot NAS with parameters scoring}\n"
            "Figures and tables below carry the paper's own numbers. The paper's protocol "
            "(quoted): " + tex_escape(doc.published["ps_percentile"]["protocol"]) + "; the "
            "scale of this run is in Section~1.\n"
            + subsection("PS Table 1: summary of scores features", doc.table("ps_table1"))
            + subsection("PS Figure 1: monotonicity on familiar functions",
                         doc.figure("ps_fig1"))
            + subsection("PS Figure 2: metrics score versus accuracy", doc.figure("ps_fig2"))
            + subsection("PS Figure 3: best accuracy retrieved and time per architecture",
                         doc.figure("ps_fig3"), doc.table("ps_best"), doc.table("timing"))
            + subsection("PS Figures 4 and 5: monotonicity and slope",
                         doc.figure("ps_fig4"), doc.figure("ps_fig5"), doc.table("ps_quality"))
            + subsection("PS Section 5: percentile of the best architecture",
                         doc.figure("ps_percentile"))
            + subsection("PS claims checked", wpjs_paragraph(doc), doc.claims_block("ps"),
                         doc.figure("ps_tensors") if doc.figures.get("ps_tensors") else ""))


def tables(inputs: RunInputs) -> Tables:
    stats = inputs.stats
    found = {"ps_table1": ps_table1(stats, inputs.published, inputs.registry),
             "ps_percentile": ps_percentile_table(stats, inputs.published)}
    for key in ("monotonicity", "timing"):
        if not stats.get(key, pd.DataFrame()).empty:
            found["ps_quality" if key == "monotonicity" else key] = stats[key]
    return found


def texts(inputs: RunInputs, tables: Tables) -> dict[str, str]:
    stats, published = inputs.stats, inputs.published
    return {"ps_table1": ps_table1_tex(tables["ps_table1"]),
            "ps_best": ps_best_tex(stats, published),
            "ps_quality": ps_quality_tex(stats),
            "timing": timing_tex(stats)}


def claims(inputs: RunInputs) -> list[Claim]:
    return [claim_wpjs_top(inputs.stats), claim_percentile(inputs.stats, inputs.published),
            claim_parameter_space(inputs.stats)]


SECTION = Section("ps", section, tables, texts, claims)
