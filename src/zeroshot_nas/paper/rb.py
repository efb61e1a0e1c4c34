"""RB, "Rank-based training-free NAS algorithm": its Table 1 (correlations with test
accuracy, beside the values it quotes from FreeREA; ours are the values the run's seed
aggregation ranks, with the per-seed spread and the check against FreeREA's per-architecture
files), its search Tables 2 and 3 (quoted search tables with our runs, and our rows beside
the printed rows of the same method), the rank combination's claim, and the section."""

from __future__ import annotations

import numpy as np
import pandas as pd

from zeroshot_nas.plots import catalog
from zeroshot_nas.spaces.common import DATASET_TITLES, SPACE_TITLES
from zeroshot_nas.stats import analysis, crosscheck, names

from .claims import Claim, better_claim
from .document import Document, RunInputs, Section, Tables, subsection
from .latex import (
    dataset_cell,
    difference,
    group_row,
    interval,
    longtable,
    missing_table,
    number,
    paragraph_column,
    stacked_header,
)
from .protocol import per_dataset, seeds_phrase
from .search_tex import method_key
from .tex import tex_escape

SEARCH_TABLES = ("rank_based_table2", "rank_based_table3")
OUTSIDE = r"$^{\dagger}$"  # marks a value outside the interval it is compared with
NTK_NOTE = (
    "NTK: the paper prints one row, set beside both of ours: NTK (RB code) is the rank-based "
    "authors' code (ntk_rb: the pooled features over the whole batch, the parameters named "
    "'weight', the network's dtype, their eigenvalue order and NaN rule), NTK TE-NAS's "
    "definition (ntk: the logits over the protocol's NTK sub-batch, float64)."
)
FREEREA_NOTE = (
    "FreeREA scored every NAS-Bench-201 network once with naswot, synflow, logsynflow and "
    "the number of linear regions (one batch of 64 training images, seed 3) and published "
    "the values (NiccoloCavagnero/FreeREA@9c2a726, cached_metrics). Our scores follow the "
    "same formulas on this run's batch, images and initialisations, so the table compares the "
    "two rankings architecture by architecture, without accuracy: a correlation near 1 says "
    "both computations rank the networks alike (a gap to the printed Table 1 then lies "
    "elsewhere), a low one points at a difference of definition, batch or initialisation."
)

FREEREA_ACCURACY_NOTE = (
    "Which computation the printed Table 1 is: FreeREA's files ranked against the "
    "benchmark's test accuracy, with no score of ours, over every architecture and over "
    "those with a path only. Where the printed value is the value over all of them, "
    "rounded, the printed correlation is one initialisation's (seed 3) over all 15,625 "
    "networks, those cut off from their input included, not a mean of three; our Table 1 "
    "ranks that population when stats.require_path is false."
)


def rank_based_table(stats: dict[str, pd.DataFrame], published: dict,
                     samples: dict[str, dict[str, pd.DataFrame]] | None = None) -> pd.DataFrame:
    """Kendall/Spearman per score and data set (rank-based Table 1) with the paper's values:
    ours (the value the run's seed aggregation ranks), its interval, the difference, and
    whether the printed value lies outside our interval. A score the report experiment did
    not score on a data set is taken from ``samples`` (the statistics of the run's other
    experiments on the same space, by name: e.g. ntk_rb at the authors' batch on a sample):
    the experiment with the most initialisations, then the most architectures; ``source``
    names it ("" for the report experiment's own rows)."""
    pub = published["rank_based_table1"]
    sources = {"": stats.get("correlations", pd.DataFrame())}
    sources.update({name: s.get("correlations", pd.DataFrame())
                    for name, s in (samples or {}).items()})
    rows = []
    for score in pub["values"]:
        for i, dataset in enumerate(pub["datasets"]):
            source, corr = _table1_source(sources, score, dataset)
            rec = {"score": score, "dataset": dataset, "source": source}
            for method in ("kendall", "spearman"):
                r = analysis.correlation_row(corr, score, dataset, method, "test_acc")
                d = analysis.correlation_row(corr, score, dataset, method, "test_acc",
                                             policy="dropped")
                paper = pub["values"][score][method][i]
                ours = None if r is None else float(r["value"])
                rec.update({
                    f"{method}": ours,
                    f"{method}_ci_low": None if r is None else float(r["ci_low"]),
                    f"{method}_ci_high": None if r is None else float(r["ci_high"]),
                    f"{method}_dropped": None if d is None else float(d["value"]),
                    f"{method}_paper": paper,
                    f"{method}_diff": difference(ours, paper),
                    f"{method}_outside": outside_interval(r, paper),
                })
            r = analysis.correlation_row(corr, score, dataset, "kendall", "test_acc")
            rec["n"] = None if r is None else int(r["n"])
            rec["n_nonfinite"] = None if r is None else int(r["n_nonfinite"])
            rec["n_seeds"] = None if r is None or "n_seeds" not in r else int(r["n_seeds"])
            rows.append(rec)
    return pd.DataFrame(rows)


def _table1_source(sources: dict[str, pd.DataFrame], score: str,
                   dataset: str) -> tuple[str, pd.DataFrame]:
    """The report's correlations where it has the score, else the sample's that has it with
    the most initialisations, then the most architectures (the report's when none has)."""
    found = []
    for name, corr in sources.items():
        r = analysis.correlation_row(corr, score, dataset, "kendall", "test_acc")
        if r is not None:
            if name == "":
                return name, corr
            seeds = int(r["n_seeds"]) if "n_seeds" in r else 1
            found.append((seeds, int(r["n"]), name))
    if not found:
        return "", sources[""]
    _, _, name = max(found, key=lambda f: (f[0], f[1]))
    return name, sources[name]


def outside_interval(row: pd.Series | None, paper: float | None) -> bool | None:
    """Whether the printed value lies outside our interval (None: nothing to compare)."""
    if row is None or paper is None or not np.isfinite(row["ci_low"]):
        return None
    return not (row["ci_low"] <= paper <= row["ci_high"])


def _delta(diff: float | None, outside: object) -> str:
    return number(diff, signed=True) + (OUTSIDE if outside is True else "")


def _table1_caption(summary: dict) -> str:
    dropped = (summary.get("require_path") or {}).get("required")
    ours = (f"Ours: every score of an architecture is {seeds_phrase(summary)}, then ranked"
            + ("; architectures without a path from input to output are dropped first "
               "(stats.require_path)" if dropped else ""))
    return (r"Kendall $\tau$ and Spearman $\rho$ between score and test accuracy. "
            + tex_escape(ours) + r"; non-finite scores ranked last (worst), 95\% "
            r"percentile-bootstrap intervals; ``$\tau$ dropped'' drops them instead. Paper: "
            r"published values (all NATS architectures, mean of three initialisations). "
            r"$\Delta$ = ours $-$ paper, " + OUTSIDE + r": the printed value lies outside our "
            r"interval; ``--'': the paper prints no value. " + tex_escape(NTK_NOTE)
            + r" NI and the rank combination (a rank sum, smaller is better, so its "
            r"correlations are negative when it works) are ours only.")


def rank_based_tex(table: pd.DataFrame, summary: dict) -> str:
    header = ["Score", r"$\tau$ ours [95\% CI]", r"$\tau$ paper", r"$\Delta\tau$",
              r"$\rho$ ours [95\% CI]", r"$\rho$ paper", r"$\Delta\rho$",
              r"$\tau$ dropped", r"$n$ (non-fin.)"]
    rows: list = []
    sampled: dict[str, int] = {}
    for dataset in analysis.ordered_datasets(table["dataset"]):
        group = []
        for _, r in table[table["dataset"] == dataset].iterrows():
            if r["n"] is None or pd.isna(r["n"]):
                continue
            label = tex_escape(names.RANK_BASED.get(r["score"], names.label(r["score"])))
            if r.get("source"):
                mark = sampled.setdefault(r["source"], len(sampled) + 1)
                label += rf"$^{{{mark}}}$"
            group.append([label, _interval_of(r, "kendall"), number(r["kendall_paper"]),
                          _delta(r["kendall_diff"], r["kendall_outside"]),
                          _interval_of(r, "spearman"), number(r["spearman_paper"]),
                          _delta(r["spearman_diff"], r["spearman_outside"]),
                          number(r["kendall_dropped"]),
                          f"{int(r['n'])} ({int(r['n_nonfinite'])})"])
        rows += [group_row(dataset_cell(dataset), len(header)), *group] if group else []
    caption = _table1_caption(summary) + _sampled_caption(table, sampled)
    if not rows:
        return missing_table("rank_based_table1", caption, "none of its scores was scored")
    return longtable(header, rows, "lrrrrrrrr", "rank_based_table1", caption)


def _interval_of(r: pd.Series, method: str) -> str:
    """The table's own value and interval of ``method`` (``interval``'s form)."""
    if r[method] is None or pd.isna(r[method]):
        return "--"
    return interval(pd.Series({"value": r[method], "ci_low": r[f"{method}_ci_low"],
                               "ci_high": r[f"{method}_ci_high"]}))


def _sampled_caption(table: pd.DataFrame, sampled: dict[str, int]) -> str:
    """What each superscript says: the experiment a row comes from, its architectures and
    initialisations (the report experiment did not score that score there)."""
    parts = []
    for source, mark in sampled.items():
        rows = table[table["source"] == source]
        n = sorted({int(v) for v in rows["n"].dropna()})
        seeds = sorted({int(v) for v in rows["n_seeds"].dropna()})
        inits = ("one initialisation" if seeds == [1] else
                 f"the mean of {'/'.join(map(str, seeds))} initialisations")
        parts.append(rf"$^{{{mark}}}$ " + tex_escape(
            f"from experiment {source} ({'/'.join(map(str, n))} architectures, {inits}), "
            "which the report experiment does not score"))
    return (" " + "; ".join(parts) + ".") if parts else ""


def seed_spread_table(stats: dict[str, pd.DataFrame], published: dict,
                      table1: pd.DataFrame | None = None,
                      samples: dict[str, dict[str, pd.DataFrame]] | None = None) -> pd.DataFrame:
    """The per-seed spread (``seed_spread``) of the Table 1 scores, in the table's order: the
    report experiment's, and for a Table 1 row taken from a sample (``table1``'s ``source``)
    that sample's, named in ``source``; empty when none has two seeds."""
    order = list(published["rank_based_table1"]["values"])
    parts = [stats.get("seed_spread", pd.DataFrame()).assign(source="")]
    borrowed = pd.DataFrame(columns=["source"]) if table1 is None else table1
    for source, rows in borrowed[borrowed["source"] != ""].groupby("source"):
        spread = (samples or {}).get(source, {}).get("seed_spread", pd.DataFrame())
        if not spread.empty:
            keys = pd.MultiIndex.from_frame(rows[["score", "dataset"]])
            mine = pd.MultiIndex.from_frame(spread[["score", "dataset"]]).isin(keys)
            parts.append(spread[mine].assign(source=source))
    parts = [p for p in parts if not p.empty]
    if not parts:
        return pd.DataFrame()
    spread = pd.concat(parts, ignore_index=True)
    sub = spread[spread["score"].isin(order)].copy()
    sub["_score"] = sub["score"].map(order.index)
    sub["_dataset"] = sub["dataset"].map(analysis.ordered_datasets(sub["dataset"]).index)
    return sub.sort_values(["_dataset", "_score", "method"]).drop(
        columns=["_score", "_dataset"]).reset_index(drop=True)


def seed_spread_tex(spread: pd.DataFrame) -> str:
    header = ["Score", r"$\tau$ ranked", r"$\tau$ per seed: mean [min, max]", "sd",
              r"$\tau$ between seeds", "rel. sd", "non-finite (some/all)"]
    rows: list = []
    kendall = spread[spread["method"] == "kendall"]
    for dataset in analysis.ordered_datasets(kendall["dataset"]):
        rows.append(group_row(dataset_cell(dataset), len(header)))
        for r in kendall[kendall["dataset"] == dataset].itertuples():
            label = names.RANK_BASED.get(r.score, names.label(r.score))
            rows.append([tex_escape(label + (f" ({r.source})" if r.source else "")),
                         number(r.aggregated),
                         rf"{number(r.seed_mean)} {{\scriptsize[{number(r.seed_min)}, "
                         rf"{number(r.seed_max)}]}}", number(r.seed_std, 3),
                         number(r.between_seeds_kendall), number(r.median_relative_std, 3),
                         f"{int(r.n_some_nonfinite)}/{int(r.n_all_nonfinite)}"])
    rule = ", ".join(sorted(set(kendall["aggregation"].astype(str))))
    caption = (rf"Kendall $\tau$ with test accuracy of the value the statistics rank (the "
               rf"seeds combined by the rule \texttt{{{tex_escape(rule)}}}) and of each seed "
               r"alone (non-finite values ranked last, no bootstrap): their mean, range and "
               r"standard deviation. $\tau$ between seeds: the mean Kendall $\tau$ between two "
               r"seeds' values over the architectures; rel.\ sd: the median over architectures "
               r"of the seeds' standard deviation over the absolute mean (architectures whose "
               r"every seed is finite); the last column counts the architectures with some or "
               r"all seeds non-finite. A row naming an experiment is that experiment's (the "
               r"score's row of Table 1 comes from it).")
    return longtable(header, rows, "lrrrrrr", "rank_based_seed_spread", caption)


def freerea_table(stats: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The check against FreeREA's per-architecture scores (``freerea_check``), as computed."""
    return stats.get("freerea_check", pd.DataFrame())


def freerea_accuracy_table(stats: dict[str, pd.DataFrame], published: dict) -> pd.DataFrame:
    """FreeREA's own values against test accuracy (``freerea_accuracy``: every architecture
    of their files, and those with a path), beside the value RB Table 1 prints for the score
    each FreeREA metric is (the paper says its Table 1 is FreeREA's data)."""
    acc = stats.get("freerea_accuracy", pd.DataFrame())
    if acc.empty:
        return acc
    pub = published["rank_based_table1"]
    rows = []
    for r in acc.to_dict("records"):
        score = crosscheck.PAIRS[r["freerea_metric"]]
        printed = pub["values"].get(score)
        i = pub["datasets"].index(r["dataset"]) if r["dataset"] in pub["datasets"] else None
        for method in ("kendall", "spearman"):
            paper = None if printed is None or i is None else printed[method][i]
            ours = r.get(f"{method}_all")
            ours = None if ours is None or pd.isna(ours) else float(ours)
            r[f"{method}_paper"] = paper
            r[f"{method}_diff"] = difference(ours, paper)
        rows.append(r)
    return pd.DataFrame(rows)


def freerea_accuracy_tex(table: pd.DataFrame) -> str:
    header = ["FreeREA", r"$\tau$ all", r"$\tau$ paper", r"$\Delta\tau$", r"$\rho$ all",
              r"$\rho$ paper", r"$\Delta\rho$", r"$\tau$ path", r"$\rho$ path",
              stacked_header("$n$ all", "(non-fin.)"), "$n$ path"]
    rows: list = []
    for dataset in analysis.ordered_datasets(table["dataset"]):
        rows.append(group_row(dataset_cell(dataset), len(header)))
        for r in table[table["dataset"] == dataset].itertuples():
            if isinstance(r.note, str) and r.note:
                rows.append([tex_escape(r.freerea_metric),
                             rf"\multicolumn{{{len(header) - 1}}}{{l}}{{{tex_escape(r.note)}}}"])
                continue
            rows.append([tex_escape(r.freerea_metric), number(r.kendall_all, 3),
                         number(r.kendall_paper), number(r.kendall_diff, 3, signed=True),
                         number(r.spearman_all, 3), number(r.spearman_paper),
                         number(r.spearman_diff, 3, signed=True), number(r.kendall_path, 3),
                         number(r.spearman_path, 3),
                         f"{_count(r.n_all)} ({_count(r.n_nonfinite_all)})", _count(r.n_path)])
    caption = (r"FreeREA's published values of each network (one initialisation, seed 3, one "
               r"batch of 64) against the benchmark's test accuracy, no score of ours taking "
               r"part: over every architecture of their file (``all'', their non-finite "
               r"values, naswot's singular kernels, ranked last) beside the value RB Table 1 "
               r"prints for the same score ($\Delta$ = theirs $-$ printed; ``--'': the paper "
               r"prints none), and over the architectures with a path from input to output "
               r"only (``path''). A $\Delta$ within $\pm$0.005 says the printed value is this "
               r"computation, rounded.")
    return longtable(header, rows, "lrrrrrrrrrr", "rank_based_freerea_accuracy", caption)


def _count(value: object) -> str:
    return "--" if value is None or pd.isna(value) else str(int(value))


def freerea_tex(check: pd.DataFrame) -> str:
    header = ["FreeREA", "Ours", r"$\rho$", r"$\tau$", "compared",
              stacked_header("scored", "ours/theirs"),
              stacked_header("non-finite", "ours/theirs/both"), "Note"]
    rows: list = []
    for dataset in analysis.ordered_datasets(check["dataset"]):
        rows.append(group_row(dataset_cell(dataset), len(header)))
        for r in check[check["dataset"] == dataset].itertuples():
            note = "" if pd.isna(r.note) else str(r.note)
            rows.append([tex_escape(r.freerea_metric), tex_escape(r.score),
                         number(r.spearman, 3), number(r.kendall, 3), _count(r.n_common),
                         f"{_count(r.n_ours)}/{_count(r.n_theirs)}",
                         f"{_count(r.n_nonfinite_ours)}/{_count(r.n_nonfinite_theirs)}/"
                         f"{_count(r.n_nonfinite_both)}", tex_escape(note)])
    caption = (r"Spearman $\rho$ and Kendall $\tau$ between our score and FreeREA's published "
               r"value of the same network, over the architectures both scored with a finite "
               r"value (``compared''; the counts: architectures with a value, ours and "
               r"FreeREA's, and those non-finite on our side, theirs and both); our seeds "
               r"combined as in RB Table 1; the note says why a pair is not compared.")
    return longtable(header, rows, "llrrrrr" + paragraph_column(0.22), "rank_based_freerea",
                     caption)


def _printed_pairs(search: pd.DataFrame) -> list[tuple[pd.Series, pd.Series]]:
    """Each of our methods in a search table with the printed row of the same method."""
    printed = {method_key(r["method"]): r for _, r in
               search[search["source"] == "published"].iterrows()}
    return [(r, printed[method_key(r["method"])]) for _, r in
            search[search["source"] == "this run"].iterrows()
            if method_key(r["method"]) in printed]


def _budget_text(budget: object) -> str:
    """'cifar10: 12000 s; cifar100: 100 trainings' with the data sets' titles."""
    if budget is None or pd.isna(budget):
        return "not recorded"
    return "; ".join(DATASET_TITLES.get(d, d) + ":" + rest for d, _, rest in
                     (part.partition(":") for part in str(budget).split("; ")))


def _mean_std(mean: float, std: float) -> str:
    if not np.isfinite(mean):
        return "--"
    return number(mean) + (rf" {{\scriptsize$\pm$ {number(std)}}}" if np.isfinite(std) else "")


def _search_rows(ours: pd.Series, printed: pd.Series, ncol: int) -> list:
    """A method's heading row (runs, budget) and one row per data set it has values on."""
    name = ours["method"] + ("" if ours["method"] == printed["method"]
                             else f" (printed as {printed['method']})")
    rows: list = [group_row(tex_escape(f"{name}: {int(ours['runs'])} run(s), budget "
                                       f"{_budget_text(ours['budget'])}"), ncol)]
    for ds in DATASET_TITLES:
        if not np.isfinite(ours.get(f"{ds}_test_mean", np.nan)):
            continue
        cells = [dataset_cell(ds)]
        for split in ("test", "valid"):
            mine, theirs = ours[f"{ds}_{split}_mean"], printed[f"{ds}_{split}_mean"]
            spread = printed[f"{ds}_{split}_std"]
            diff = difference(mine, theirs if np.isfinite(theirs) else None)
            cells += [_mean_std(mine, ours[f"{ds}_{split}_std"]), _mean_std(theirs, spread),
                      _delta(diff, diff is not None and abs(diff) > spread)]
        rows.append(cells)
    return rows


def searches_tex(tables: Tables, published: dict) -> str:
    """Our searches beside the printed row of the same method, RB Tables 2 and 3; "" when
    the run has no search table with such a row."""
    header = ["Data set", "test, ours", "test, printed", r"$\Delta$", "valid., ours",
              "valid., printed", r"$\Delta$"]
    rows: list = []
    for key in SEARCH_TABLES:
        search = tables.get(f"search_{key}")
        pairs = [] if search is None else _printed_pairs(search)
        if not pairs:
            continue
        space = published["search_tables"][key]["space"]
        rows += [r"\midrule"] if rows else []
        rows.append(group_row(rf"\textbf{{{catalog.resolve_table(f'search_{key}').heading}}}, "
                              f"{tex_escape(SPACE_TITLES.get(space, space))}", len(header)))
        for ours, printed in pairs:
            rows += _search_rows(ours, printed, len(header))
    if not rows:
        return ""
    caption = (r"REINFORCE is the paper's RL. Accuracy of the chosen architecture at the benchmark's full "
               r"schedule (NAS-Bench-201: 200 epochs, CIFAR-10 validation being its "
               r"cifar10-valid split; size space: 90), mean $\pm$ std over our runs and as "
               r"printed. $\Delta$ = ours $-$ printed, " + OUTSIDE + r": our mean lies "
               r"outside the printed mean $\pm$ std. Training-based searches are charged "
               r"NATS-Bench's simulated training time where the benchmark has training times "
               r"and count trainings elsewhere: each method's budget is in its row.")
    return longtable(header, rows, "lrrrrrr", "rank_based_searches", caption)


def tables(inputs: RunInputs) -> Tables:
    out = {"rank_based_table1": rank_based_table(inputs.stats, inputs.published,
                                                 inputs.sample_stats)}
    spread = seed_spread_table(inputs.stats, inputs.published, out["rank_based_table1"],
                               inputs.sample_stats)
    if not spread.empty:
        out["rank_based_seed_spread"] = spread
    check = freerea_table(inputs.stats)
    if not check.empty:
        out["rank_based_freerea"] = check
    accuracy = freerea_accuracy_table(inputs.stats, inputs.published)
    if not accuracy.empty:
        out["rank_based_freerea_accuracy"] = accuracy
    return out


def texts(inputs: RunInputs, tables: Tables) -> dict[str, str]:
    out = {"rank_based_table1": rank_based_tex(tables["rank_based_table1"], inputs.summary),
           "rank_based_searches": searches_tex(tables, inputs.published)}
    if "rank_based_seed_spread" in tables:
        out["rank_based_seed_spread"] = seed_spread_tex(tables["rank_based_seed_spread"])
    if "rank_based_freerea" in tables:
        out["rank_based_freerea"] = freerea_tex(tables["rank_based_freerea"])
    if "rank_based_freerea_accuracy" in tables:
        out["rank_based_freerea_accuracy"] = freerea_accuracy_tex(
            tables["rank_based_freerea_accuracy"])
    return out


def claims(inputs: RunInputs) -> list[Claim]:
    """Abstract, Section 1: the rank combination beats each of its members."""
    members = list(inputs.summary.get("rank_combination", []))
    return [better_claim(inputs.stats, "rb", "Combining " + ", ".join(
        names.label(m) for m in members) + " by rank evaluates architectures better than each "
        "of them alone (abstract, Section 1).", analysis.RANK_COMBINATION, members, "kendall",
        absolute=True)]


def space_note(summary: dict) -> str:
    """The NI note: the authors' NB201 space is the cells with a path, and what this run did
    with the others."""
    record = summary.get("require_path") or {}
    counts = record.get("without_path")
    if record.get("required"):
        run = f"This run drops them too (stats.require_path): {per_dataset(counts or {})}."
    elif counts is not None:
        run = (f"This run keeps them (stats.require_path: false; {per_dataset(counts)}), so "
               "NI and every other score are also ranked on them.")
    else:
        run = "This run keeps them (stats.require_path: false)."
    return tex_escape(
        "The rank-based authors' code searches and scores NAS-Bench-201 as 15,284 "
        "architectures: their encoder keeps only the cells with a path from input to output "
        "(has_backbone in encoder/encoder.py of OEmiliatanO/Rank-Based-NAS); the other 341 "
        "all have the benchmark's chance accuracy. " + run + " Their Table 1 script does not "
        "draw the others uniformly either: one of the four input-to-output paths always gets "
        "ops other than 'none' (encoder/encoder.py at 4ccac9d), so 41.5% of its draws have no "
        "'none' edge, against 26.2% of the space; experiments.*.sampler: rank-based-authors "
        "draws the same way (the protocol table says which sampler this run used), and "
        "workflow/presets/rb-sampler.yaml measures what that changes.")


def _spread_block(doc: Document) -> str:
    table = doc.table("rank_based_seed_spread")
    if table:
        return "How far the initialisations disagree:\n" + table
    if (doc.summary.get("seed_aggregation") or {}).get("applied"):
        return ""  # several seeds, none of them of a Table 1 score
    return tex_escape(f"Every score of an architecture is {seeds_phrase(doc.summary)} in this "
                      "run, so there is no spread between initialisations to report; the "
                      "printed values average three.")


def _freerea_block(doc: Document) -> str:
    table = doc.table("rank_based_freerea")
    if table:
        accuracy = doc.table("rank_based_freerea_accuracy")
        return (tex_escape(FREEREA_NOTE) + "\n" + table
                + ("\n" + tex_escape(FREEREA_ACCURACY_NOTE) + "\n" + accuracy
                   if accuracy else ""))
    return tex_escape("Not computed by this run (stats.freerea_check: false): it compares our "
                      "naswot, synflow, logsynflow and linear_regions with FreeREA's published "
                      "value of every NAS-Bench-201 network.")


def section(doc: Document) -> str:
    anytime = "\n".join(rf"\input{{generated/fig_{s}.tex}}"
                        for s in doc.figures.get("search_anytime", []))
    return ("\\section{RB: Rank-based training-free NAS}\n"
            "The paper's Table 1 quotes FreeREA's correlations (all NATS-Bench topology "
            "architectures, three initialisations averaged); its Tables 2 and 3 compare "
            "searches. NI and the rank combination (sum of per-score ranks, directions from "
            "our proxy registry, never from accuracies) have no published correlation. "
            + space_note(doc.summary) + "\n"
            + subsection("RB Table 1: correlation with test accuracy",
                         doc.table("rank_based_table1"), _spread_block(doc),
                         doc.figure("rb_table1"))
            + subsection("RB Table 1 checked against FreeREA's per-architecture scores",
                         _freerea_block(doc))
            + subsection("RB Tables 2 and 3: searches",
                         doc.search_blocks(SEARCH_TABLES), doc.table("rank_based_searches"),
                         anytime)
            + subsection("RB claims checked", doc.claims_block("rb")))


SECTION = Section("rb", section, tables, texts, claims, SEARCH_TABLES)
