"""Search-result tables: our runs summarised (mean ± std over runs of the chosen
architecture's 200-epoch validation and test accuracy, and search seconds) next to the
values the papers print, with the benchmark optimum as the last row; CSV and LaTeX.

Standard deviations are population standard deviations (``ddof=0``, as ``numpy.std`` in the
reference implementations). Published cells are quoted verbatim from ``published.yaml``.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from zeroshot_nas.paper.published import load_published as published_values
from zeroshot_nas.paper.search_tex import method_key, notes_latex, to_latex
from zeroshot_nas.spaces.common import DATASET_TITLES, SPACE_TITLES

from .runner import TRAINING_BASED

DATASETS = tuple(DATASET_TITLES)
#: Epochs of the schedule whose accuracies the tables report (NB201: 200).
FULL_SCHEDULE = {"nats_sss": 90, "nb101": 108}
#: Where the accuracies of a space come from, said when a table has none.
UNAVAILABLE_HELP = {
    "nats_sss": "The official NATS-Bench size-space archive gives them (configuration key "
                "data.nats_sss_archive).",
    "nb101": "Searches run on the report experiment: make an nb101 experiment with "
             "nb101_table: mlfe the report experiment (workflow/presets/nb101.yaml).",
}
#: What "validation accuracy" is in each space's tables (NB201's default).
VALIDATION_SPLIT = {
    "nb101": "validation is NAS-Bench-101's own validation split (the cell's mean over the "
             "training runs MLFE's table holds).",
}
#: Order of our methods in a table: training-based, then training-free.
ALGORITHM_ORDER = ("random_train", "rea", "area", "reinforce", "bohb", "random_score",
                   "ga_rank", "sa_rank")


@dataclass(frozen=True)
class PublishedTable:
    key: str
    space: str
    title: str
    source: str
    rows: list[dict]


def load_published(path: str | Path | None = None) -> dict[str, PublishedTable]:
    """The quoted search tables (``search_tables`` of ``paper/published.yaml``, or of another
    file of the same layout)."""
    tables = {}
    for key, t in published_values(path)["search_tables"].items():
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


_CELL = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*(?:±\s*(\d+(?:\.\d+)?))?\s*$")


def parse_cell(cell: object) -> tuple[float, float]:
    """(mean, std) of a quoted cell "m ± s", or "m" where the source states no spread (std
    NaN); NaNs for the source's empty cell "X"."""
    if cell is None or str(cell).strip() == "X":
        return (math.nan, math.nan)
    match = _CELL.match(str(cell))
    if not match:
        raise ValueError(f"published cell {cell!r} is neither 'mean ± std', 'mean' nor 'X'")
    spread = match.group(2)
    return float(match.group(1)), float(spread) if spread is not None else math.nan


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


def _fidelities(settings: pd.Series) -> str:
    """The epochs BOHB trained for ("1,4,12"), from its runs' settings; "" for the others."""
    config = json.loads(settings.iloc[0]).get("config", {})
    return ",".join(str(e) for e in config.get("fidelities", []))


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
        fidelities=("settings", _fidelities),
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
        rows.append(_unavailable_row(space))
    for (algorithm, method), grp in ours.groupby(["algorithm", "method"], sort=False):
        rows.append(_our_row(algorithm, method, grp))
    if published is not None:
        rows += [_published_row(published.title, prow) for prow in published.rows]
    rows.append(_optimum_row(optimum))
    return pd.DataFrame(rows)


# The table's columns are the union of the rows' keys in order of first appearance, so
# every row builder below keeps its keys in the order the CSV and LaTeX outputs expect.


def _unavailable_row(space: str) -> dict:
    """A note in place of our rows, so a table never silently lacks this work's section."""
    return {
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


def _our_row(algorithm: str, method: str, grp: pd.DataFrame) -> dict:
    """One of our methods: summary rows of one (algorithm, method), one per data set."""
    row = {
        "section": "This work",
        "group": "Training-based (benchmark lookup)"
        if algorithm in TRAINING_BASED
        else "Training-free",
        "method": method,
        "algorithm": algorithm,
        "source": "this run",
    }
    # Search seconds are the papers' CIFAR-10 figure; other data sets only when it is absent.
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
    return row


def _published_row(title: str, prow: dict) -> dict:
    """A quoted row: parsed numbers for comparisons, and the verbatim cells for LaTeX."""
    row = {
        "section": f"Published: {title}",
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
    return row


def _optimum_row(optimum: dict[str, tuple[float, float]]) -> dict:
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
    return row


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
            "evaluated and no rows of ours are shown (none are invented). "
            + UNAVAILABLE_HELP.get(space, "")
        )
    ours = summary[(summary["space"] == space) & (summary["accuracies"] > 0)]
    tb = ours[ours["algorithm"].isin(TRAINING_BASED)]
    if len(tb):
        timed = sorted(set(tb.loc[tb["time_simulated"], "dataset"]))
        counted = sorted(set(tb.loc[~tb["time_simulated"], "dataset"]))
        if timed:
            notes.append(
                "s: simulated training time as NATS-Bench charges it: the epochs trained x "
                "the benchmark's time per epoch + one validation pass, charged on "
                f"{', '.join(DATASET_TITLES[d] for d in timed)}; budget "
                f"{tb.loc[tb['time_simulated'], 'budget'].iloc[0]}."
            )
        notes += _bohb_notes(tb)
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
            f"runs of the chosen architecture's {FULL_SCHEDULE.get(space, 200)}-epoch "
            "accuracy; " + VALIDATION_SPLIT.get(space, "CIFAR-10 validation is the "
                                                "cifar10-valid split.")
        )
    if published is not None:
        notes.append(f"Quoted rows: {published.source}")
    return notes


def _bohb_notes(training_based: pd.DataFrame) -> list[str]:
    """What BOHB's fidelities were: Hyperband's epochs, or one fidelity where the benchmark
    has no learning curve."""
    bohb = training_based[training_based["algorithm"] == "bohb"]
    notes = []
    for fidelities in sorted(set(bohb["fidelities"])):
        if "," in fidelities:
            notes.append(f"BOHB (hpbandster, NATS-Bench's settings) trained for {fidelities} "
                         "of the 12 epochs (Hyperband's budgets).")
        else:
            notes.append(f"BOHB: the benchmark has accuracies only after all {fidelities} "
                         "epochs of the short schedule, so BOHB ran with that one fidelity "
                         "(hpbandster's KDE model without Hyperband's early stopping).")
    return notes


def compare_published(table: pd.DataFrame) -> pd.DataFrame:
    """Our value, the printed value and the difference (ours − printed) for every method
    present on both sides, per data set and split."""
    ours = table[table["source"] == "this run"]
    pub = table[table["source"] == "published"]
    pub_by_key = {method_key(m): r for m, (_, r) in zip(pub["method"], pub.iterrows(), strict=True)}
    rows = []
    for _, r in ours.iterrows():
        p = pub_by_key.get(method_key(r["method"]))
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
