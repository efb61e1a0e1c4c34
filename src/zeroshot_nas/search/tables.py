"""Search-result tables: our runs summarised (mean ± std over runs of the chosen
architecture's 200-epoch validation and test accuracy, and search seconds) next to the
values the papers print, with the benchmark optimum as the last row; CSV and LaTeX.

Standard deviations are population standard deviations (``ddof=0``, as ``numpy.std`` in the
reference implementations). Published cells are quoted verbatim from ``published.yaml``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

DATASETS = ("cifar10", "cifar100", "ImageNet16-120")
DATASET_TITLES = {
    "cifar10": "CIFAR-10",
    "cifar100": "CIFAR-100",
    "ImageNet16-120": "ImageNet16-120",
}
SPACE_TITLES = {"nb201": "NAS-Bench-201 (NATS topology space)", "nats_sss": "NATS size space"}
TRAINING_BASED = ("random_train", "rea", "area")
#: Order of our methods in a table: training-based, then training-free.
ALGORITHM_ORDER = ("random_train", "rea", "area", "random_score", "ga_rank", "sa_rank")


@dataclass(frozen=True)
class PublishedTable:
    key: str
    space: str
    title: str
    source: str
    rows: list[dict]


def load_published(path: str | Path | None = None) -> dict[str, PublishedTable]:
    """The quoted tables of ``published.yaml`` (or another file of the same layout)."""
    if path is None:
        text = resources.files("zeroshot_nas.search").joinpath("published.yaml").read_text("utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    tables = {}
    for key, t in data["tables"].items():
        for row in t["rows"]:
            for ds in DATASETS:
                cells = row.get(ds)
                if not (isinstance(cells, list) and len(cells) == 2):
                    raise ValueError(
                        f"published table {key}, row {row.get('method')!r}: "
                        f"{ds} needs [validation, test] cells"
                    )
                for cell in cells:
                    parse_cell(cell)
        tables[key] = PublishedTable(
            key, t["space"], t["title"], " ".join(t["source"].split()), t["rows"]
        )
    return tables


_CELL = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*±\s*(\d+(?:\.\d+)?)\s*$")


def parse_cell(cell: object) -> tuple[float, float]:
    """(mean, std) of a quoted cell "m ± s"; NaNs for the source's empty cell "X"."""
    if cell is None or str(cell).strip() == "X":
        return (math.nan, math.nan)
    match = _CELL.match(str(cell))
    if not match:
        raise ValueError(f"published cell {cell!r} is neither 'mean ± std' nor 'X'")
    return float(match.group(1)), float(match.group(2))


def parse_seconds(text: object) -> float:
    """Search seconds as printed ("12,000", "457.54", "X")."""
    if text is None or str(text).strip() == "X":
        return math.nan
    return float(str(text).replace(",", "").replace(" ", ""))


# ----------------------------------------------------------------------------- our runs


def load_runs(paths: list[str | Path]) -> pd.DataFrame:
    """Concatenate run tables written by ``zeroshot-nas search``."""
    if not paths:
        raise ValueError("no run files given")
    frames = []
    for p in paths:
        path = Path(p)
        if not path.is_file():
            raise FileNotFoundError(f"search run file {path} does not exist")
        frames.append(pd.read_parquet(path))
    return pd.concat(frames, ignore_index=True)


def _method_sort_key(algorithm: str, method: str) -> tuple:
    n = re.search(r"N=([\d,]+)", method)
    size = int(n.group(1).replace(",", "")) if n else 0
    base = method.split(" (")[0]
    return (
        ALGORITHM_ORDER.index(algorithm) if algorithm in ALGORITHM_ORDER else 99,
        size,
        base == "rank",
        base,
    )


def summarise(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per (space, algorithm, method, dataset): runs, mean and std of the chosen
    architecture's validation and test accuracy, mean seconds and evaluations, budget."""

    def std0(x: pd.Series) -> float:
        x = x.dropna()
        return float(np.std(x, ddof=0)) if len(x) else math.nan

    grouped = runs.groupby(["space", "algorithm", "method", "dataset"], sort=False)
    out = grouped.agg(
        runs=("run", "count"),
        valid_mean=("valid_acc", "mean"),
        valid_std=("valid_acc", std0),
        test_mean=("test_acc", "mean"),
        test_std=("test_acc", std0),
        seconds_mean=("seconds", "mean"),
        evaluations_mean=("evaluations", "mean"),
        train_evals_mean=("train_evals", "mean"),
        score_evals_mean=("score_evals", "mean"),
        budget=("budget", "first"),
        time_simulated=("time_simulated", "first"),
        accuracies=("test_acc", lambda x: int(np.isfinite(x.to_numpy(dtype=float)).sum())),
    ).reset_index()
    keys = [
        (_method_sort_key(a, m), DATASETS.index(d) if d in DATASETS else 9)
        for a, m, d in zip(out["algorithm"], out["method"], out["dataset"], strict=True)
    ]
    order = sorted(range(len(out)), key=lambda i: keys[i])
    return out.iloc[order].reset_index(drop=True)


def benchmark_optimum(benchmark: pd.DataFrame | None) -> dict[str, tuple[float, float]]:
    """Best 200-epoch validation and best test accuracy per data set (taken separately)."""
    if benchmark is None or len(benchmark) == 0:
        return {}
    best = benchmark.groupby("dataset")[["valid_acc", "test_acc"]].max()
    return {ds: (float(r.valid_acc), float(r.test_acc)) for ds, r in best.iterrows()}


# ----------------------------------------------------------------------------- tables


def build_table(
    summary: pd.DataFrame,
    space: str,
    published: PublishedTable | None,
    optimum: dict[str, tuple[float, float]],
) -> pd.DataFrame:
    """The long form of one search table: our rows (where accuracies exist), the quoted
    rows, and the benchmark optimum; numeric columns per data set."""
    rows = []
    ours = summary[summary["space"] == space]
    ours = ours[ours["accuracies"] > 0]
    if not len(ours) and not optimum:
        rows.append(
            {
                "section": "This work",
                "group": "",
                "algorithm": "",
                "source": "note",
                "method": f"Accuracies unavailable: no benchmark table with trained "
                f"accuracies for the {SPACE_TITLES.get(space, space)}; "
                "our searches there are not shown.",
                "search_seconds": math.nan,
                "seconds_simulated": False,
                "runs": np.nan,
                "budget": "",
            }
        )
    for (algorithm, method), grp in ours.groupby(["algorithm", "method"], sort=False):
        row = {
            "section": "This work",
            "group": "Training-based (benchmark lookup)"
            if algorithm in TRAINING_BASED
            else "Training-free",
            "method": method,
            "algorithm": algorithm,
            "source": "this run",
        }
        c10 = grp[grp["dataset"] == "cifar10"]
        secs = c10 if len(c10) else grp
        row["search_seconds"] = float(secs["seconds_mean"].mean())
        row["seconds_simulated"] = bool(secs["time_simulated"].any())
        row["runs"] = int(grp["runs"].max())
        budgets = {d: b for d, b in zip(grp["dataset"], grp["budget"], strict=True)}
        row["budget"] = "; ".join(f"{d}: {b}" for d, b in budgets.items())
        for ds in DATASETS:
            sub = grp[grp["dataset"] == ds]
            vals = sub.iloc[0] if len(sub) else None
            for split in ("valid", "test"):
                row[f"{ds}_{split}_mean"] = (
                    float(vals[f"{split}_mean"]) if vals is not None else math.nan
                )
                row[f"{ds}_{split}_std"] = (
                    float(vals[f"{split}_std"]) if vals is not None else math.nan
                )
            row[f"{ds}_seconds"] = float(vals["seconds_mean"]) if vals is not None else math.nan
        rows.append(row)
    if published is not None:
        for prow in published.rows:
            row = {
                "section": f"Published: {published.title}",
                "group": prow["group"],
                "method": prow["method"],
                "algorithm": "",
                "source": "published",
                "search_seconds": parse_seconds(prow.get("search_seconds")),
                "seconds_simulated": False,
                "runs": np.nan,
                "budget": "",
                "search_seconds_text": str(prow.get("search_seconds")),
            }
            for ds in DATASETS:
                for split, cell in zip(("valid", "test"), prow[ds], strict=True):
                    m, s = parse_cell(cell)
                    row[f"{ds}_{split}_mean"], row[f"{ds}_{split}_std"] = m, s
                    row[f"{ds}_{split}_text"] = str(cell)
                row[f"{ds}_seconds"] = math.nan
            rows.append(row)
    row = {
        "section": "Benchmark",
        "group": "",
        "method": "Benchmark optimum",
        "algorithm": "",
        "source": "benchmark table",
        "search_seconds": math.nan,
        "seconds_simulated": False,
        "runs": np.nan,
        "budget": "",
    }
    for ds in DATASETS:
        v, t = optimum.get(ds, (math.nan, math.nan))
        row.update(
            {
                f"{ds}_valid_mean": v,
                f"{ds}_valid_std": math.nan,
                f"{ds}_test_mean": t,
                f"{ds}_test_std": math.nan,
                f"{ds}_seconds": math.nan,
            }
        )
    rows.append(row)
    return pd.DataFrame(rows)


def _fmt(mean: float, std: float, digits: int = 2) -> str:
    if not math.isfinite(mean):
        return "--"
    if not math.isfinite(std):
        return f"{mean:.{digits}f}"
    return f"${mean:.{digits}f} \\pm {std:.{digits}f}$"


def _fmt_published(text: str) -> str:
    # Quoted cells are printed exactly as the source wrote them.
    text = text.strip()
    return text if text == "X" else "$" + text.replace("±", "\\pm") + "$"


def _fmt_seconds(x: float, simulated: bool = False) -> str:
    if not math.isfinite(x):
        return "--"
    text = f"{x:,.0f}" if x >= 100 else f"{x:.2f}"
    return text.replace(",", "{,}") + ("$^{s}$" if simulated else "")


def _tex(text: str) -> str:
    return (
        text.replace("\\", "\\textbackslash{}")
        .replace("&", "\\&")
        .replace("%", "\\%")
        .replace("_", "\\_")
        .replace("#", "\\#")
    )


def to_latex(table: pd.DataFrame, space: str) -> str:
    """A booktabs ``tabular`` in the papers' layout (notes go in a separate file)."""
    ncol = 3 + 2 * len(DATASETS)
    lines = [
        f"% Generated by `zeroshot-nas search-tables` ({SPACE_TITLES.get(space, space)}); "
        "do not edit.",
        "\\begin{tabular}{@{}llr" + "cc" * len(DATASETS) + "@{}}",
        "\\toprule",
        "Method & Source & Search (s) & "
        + " & ".join(f"\\multicolumn{{2}}{{c}}{{{DATASET_TITLES[d]}}}" for d in DATASETS)
        + " \\\\",
        " ".join(f"\\cmidrule(lr){{{4 + 2 * i}-{5 + 2 * i}}}" for i in range(len(DATASETS))),
        " & & & " + " & ".join(["validation & test"] * len(DATASETS)) + " \\\\",
    ]
    current = (None, None)
    for _, r in table.iterrows():
        if (r["section"], r["group"]) != current:
            if r["section"] != current[0]:
                lines.append("\\midrule")
                lines.append(
                    f"\\multicolumn{{{ncol}}}{{l}}{{\\textbf{{{_tex(r['section'])}}}}} \\\\"
                )
            if r["group"]:
                lines.append(f"\\multicolumn{{{ncol}}}{{l}}{{\\textit{{{_tex(r['group'])}}}}} \\\\")
            current = (r["section"], r["group"])
        if r["source"] == "note":
            lines.append(f"\\multicolumn{{{ncol}}}{{l}}{{{_tex(r['method'])}}} \\\\")
            continue
        published = r["source"] == "published"
        cells = []
        for ds in DATASETS:
            for split in ("valid", "test"):
                if published:
                    cells.append(_fmt_published(r[f"{ds}_{split}_text"]))
                else:
                    cells.append(_fmt(r[f"{ds}_{split}_mean"], r[f"{ds}_{split}_std"]))
        source = {"this run": "ours", "published": "quoted", "benchmark table": "benchmark"}[
            r["source"]
        ]
        if published:
            seconds = _tex(str(r["search_seconds_text"])).replace(",", "{,}")
        else:
            seconds = _fmt_seconds(r["search_seconds"], bool(r["seconds_simulated"]))
        lines.append(" & ".join([_tex(r["method"]), source, seconds, *cells]) + " \\\\")
    lines.append("\\bottomrule")
    lines.append("\\end{tabular}")
    return "\n".join(lines) + "\n"


def notes_latex(notes: list[str]) -> str:
    """The notes as a small paragraph to set under the table."""
    body = " ".join(_tex(n).replace("+-", "$\\pm$").replace(" x ", " $\\times$ ") for n in notes)
    return (
        "% Generated by `zeroshot-nas search-tables`; do not edit.\n{\\footnotesize " + body + "}\n"
    )


def table_notes(
    table: pd.DataFrame,
    summary: pd.DataFrame,
    space: str,
    published: PublishedTable | None,
    has_accuracies: bool,
) -> list[str]:
    """Plain-text notes that must travel with a table: what is simulated, what is missing."""
    notes = []
    if not has_accuracies:
        notes.append(
            f"Accuracies unavailable: there is no benchmark table with trained accuracies for "
            f"the {SPACE_TITLES.get(space, space)} here, so our searches in it cannot be "
            "evaluated and no rows of ours are shown (none are invented). A benchmark table "
            "converted from the official NATS-Bench size-space files gives them."
        )
    ours = summary[(summary["space"] == space) & (summary["accuracies"] > 0)]
    tb = ours[ours["algorithm"].isin(TRAINING_BASED)]
    if len(tb):
        timed = sorted(set(tb.loc[tb["time_simulated"], "dataset"]))
        counted = sorted(set(tb.loc[~tb["time_simulated"], "dataset"]))
        if timed:
            notes.append(
                "s: simulated training time: 12 epochs x the benchmark's time per epoch, "
                f"charged on {', '.join(DATASET_TITLES[d] for d in timed)}; budget "
                f"{tb.loc[tb['time_simulated'], 'budget'].iloc[0]}."
            )
        if counted:
            notes.append(
                "The sources give no training times for "
                f"{', '.join(DATASET_TITLES[d] for d in counted)}: training-based searches "
                "there were budgeted in trainings "
                f"({tb.loc[~tb['time_simulated'], 'budget'].iloc[0]}) and charged no time."
            )
    tf = ours[~ours["algorithm"].isin(TRAINING_BASED)]
    if len(tf):
        notes.append(
            "Training-free searches are charged the measured seconds of the scores they used "
            "(recorded by the scoring runs on this machine); Search (s) is the mean on "
            "CIFAR-10 (or over the data sets run)."
        )
    if len(ours):
        lo, hi = int(ours["runs"].min()), int(ours["runs"].max())
        notes.append(
            f"Ours: mean +- std (ddof=0) over {lo if lo == hi else f'{lo}-{hi}'} "
            "runs of the chosen architecture's 200-epoch accuracy; CIFAR-10 validation is "
            "the cifar10-valid split."
        )
    if published is not None:
        notes.append(f"Quoted rows: {published.source}")
    return notes


def _match_key(method: str) -> str:
    """Common key of one of our method labels and the papers' name for the same method."""
    key = method.lower().replace(",", "").replace("naswot v1", "jacob_cov")
    return re.sub(r"^rk\b", "rank", key)


def compare_published(table: pd.DataFrame) -> pd.DataFrame:
    """Our value, the printed value and the difference (ours − printed) for every method
    present on both sides, per data set and split."""
    ours = table[table["source"] == "this run"]
    pub = table[table["source"] == "published"]
    pub_by_key = {_match_key(m): r for m, (_, r) in zip(pub["method"], pub.iterrows(), strict=True)}
    rows = []
    for _, r in ours.iterrows():
        p = pub_by_key.get(_match_key(r["method"]))
        if p is None:
            continue
        for ds in DATASETS:
            for split in ("valid", "test"):
                mine, theirs = r[f"{ds}_{split}_mean"], p[f"{ds}_{split}_mean"]
                rows.append(
                    {
                        "method": r["method"],
                        "published_method": p["method"],
                        "dataset": ds,
                        "split": split,
                        "ours_mean": mine,
                        "ours_std": r[f"{ds}_{split}_std"],
                        "published_mean": theirs,
                        "published_std": p[f"{ds}_{split}_std"],
                        "difference": mine - theirs,
                    }
                )
    cols = [
        "method",
        "published_method",
        "dataset",
        "split",
        "ours_mean",
        "ours_std",
        "published_mean",
        "published_std",
        "difference",
    ]
    return pd.DataFrame(rows, columns=cols)


def write_tables(
    runs: pd.DataFrame,
    out_dir: str | Path,
    benchmarks: dict[str, pd.DataFrame | None],
    published: dict[str, PublishedTable] | None = None,
) -> list[Path]:
    """Write ``search_summary.csv`` and, per quoted table, ``search_<key>.csv``/``.tex``
    (+ ``.notes.txt``). Our rows for a space appear only where accuracies exist."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    published = load_published() if published is None else published
    summary = summarise(runs)
    written = [out / "search_summary.csv"]
    summary.to_csv(written[0], index=False)
    for key, pub in published.items():
        bench = benchmarks.get(pub.space)
        has_acc = bench is not None and len(bench) > 0
        table = build_table(summary, pub.space, pub, benchmark_optimum(bench))
        notes = table_notes(table, summary, pub.space, pub, has_acc)
        csv = out / f"search_{key}.csv"
        table.to_csv(csv, index=False)
        tex = out / f"search_{key}.tex"
        tex.write_text(to_latex(table, pub.space), encoding="utf-8")
        notes_tex = out / f"search_{key}_notes.tex"
        notes_tex.write_text(notes_latex(notes), encoding="utf-8")
        comparison = out / f"search_{key}_comparison.csv"
        compare_published(table).to_csv(comparison, index=False)
        written += [csv, tex, notes_tex, comparison]
    return written


def write_paper_include(
    tables_dir: str | Path,
    paper_generated: str | Path,
    figures: list[Path],
    published: dict[str, PublishedTable] | None = None,
) -> Path:
    """Write ``search_tables.tex`` for the paper: every quoted search table as a captioned
    table (our rows beside the published ones, with its notes) and the anytime figure(s).

    The table files are copied next to it so the paper folder is self-contained.
    """
    import os
    import shutil

    tables = Path(tables_dir)
    out = Path(paper_generated)
    out.mkdir(parents=True, exist_ok=True)
    published = load_published() if published is None else published
    parts = ["% Generated by `zeroshot-nas search-tables`; do not edit.\n"]
    for key, pub in published.items():
        tex = tables / f"search_{key}.tex"
        notes = tables / f"search_{key}_notes.tex"
        if not tex.exists():
            continue
        shutil.copyfile(tex, out / tex.name)
        if notes.exists():
            shutil.copyfile(notes, out / notes.name)
        caption = _tex(f"{pub.title} Our runs beside the published values ({pub.source}).")
        parts.append(
            "\\begin{table}[htbp]\n\\centering\n\\footnotesize\n"
            f"\\caption{{{caption}}}\n\\label{{tab:{key}}}\n"
            f"\\resizebox{{\\linewidth}}{{!}}{{\\input{{generated/{tex.name}}}}}\n"
            + (f"\\par\\smallskip\\input{{generated/{notes.name}}}\n" if notes.exists() else "")
            + "\\end{table}\n"
        )
    for figure in figures:
        if figure.suffix != ".pdf":
            continue
        rel = Path(os.path.relpath(figure.resolve(), start=out.parent.resolve())).as_posix()
        parts.append(
            "\\begin{figure}[htbp]\n\\centering\n"
            f"\\includegraphics[width=0.9\\linewidth]{{{rel}}}\n"
            "\\caption{Anytime search curves: best test accuracy found against charged search "
            "seconds (training-free methods are charged the measured seconds of their scores; "
            "training-based ones the simulated training time), mean over runs.}\n"
            f"\\label{{fig:{figure.stem}}}\n\\end{{figure}}\n"
        )
    path = out / "search_tables.tex"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
