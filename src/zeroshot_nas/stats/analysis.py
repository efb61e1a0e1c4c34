"""Table-level statistics: from the merged scores table to tidy result tables.

Input: the long table ``results/<experiment>/scores.parquet`` (one row per architecture,
data set, seed and score, joined with the benchmark accuracies). Output: a folder of tidy
CSV + Parquet tables (see :data:`OUTPUT_TABLES`) and ``summary.json``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from zeroshot_nas import io
from zeroshot_nas.config import schema_default
from zeroshot_nas.spaces.common import DATASETS
from zeroshot_nas.stats import comparison, connectivity, core, crosscheck, seeds
from zeroshot_nas.stats.bootstrap import bootstrap_correlation
from zeroshot_nas.stats.names import RANK_COMBINATION

log = logging.getLogger(__name__)

DATASET_ORDER = tuple(DATASETS)
REQUIRED_COLUMNS = ("arch", "dataset", "seed", "score", "value", "status", "test_acc", "valid_acc")
TARGETS = ("test_acc", "valid_acc")
SUBSETS = ("all", "above_median")
METHODS = ("kendall", "spearman")
OUTPUT_TABLES = (
    "correlations",
    "monotonicity",
    "slopes",
    "best_retrieved",
    "best_retrieved_runs",
    "timing",
    "nonfinite",
    "benchmark_best",
    "score_specs",
    "seed_correlations",
    "seed_spread",
    "freerea_check",
    "freerea_accuracy",
    "comparison",
)
# Written only by runs whose scores carry their columns (NAS-Bench-101's tables).
OPTIONAL_TABLES = ("nb101_row_correlations", "naslib_agreement", "naslib_correlations")


@dataclass(frozen=True)
class ScoreInfo:
    """What the statistics need to know about a score."""

    name: str
    higher_is_better: bool
    bounded01: bool
    family: str = ""
    paper: str = ""


def registry_info(name: str) -> ScoreInfo:
    """Direction and bounds of a registered score (``zeroshot_nas.proxies.get_spec``)."""
    from zeroshot_nas.proxies import get_spec

    spec = get_spec(name)
    return ScoreInfo(
        name=name,
        higher_is_better=bool(spec.higher_is_better),
        bounded01=bool(spec.bounded01),
        family=str(getattr(spec, "family", "")),
        paper=str(getattr(spec, "paper", "")),
    )


def _stats_default(key: str):
    return field(default=schema_default("stats", key))


@dataclass
class StatsConfig:
    """Parameters of a statistics run; defaults from the workflow schema's ``stats``."""

    bootstrap: int = _stats_default("bootstrap")
    best_of_n: int = _stats_default("best_of_n")
    best_of_runs: int = _stats_default("best_of_runs")
    rank_combination: tuple[str, ...] = _stats_default("rank_combination")
    seed: int = _stats_default("seed")
    seed_aggregation: str = _stats_default("seed_aggregation")
    require_path: bool = _stats_default("require_path")
    highlight: tuple[str, ...] = _stats_default("highlight")
    confidence: float = 0.95
    # None: directions and bounds from the proxy registry (tests pass explicit ones)
    info: Callable[[str], ScoreInfo] | None = None

    @classmethod
    def from_config(cls, stats: dict) -> StatsConfig:
        """The settings of a validated configuration's ``stats`` section."""
        return cls(bootstrap=stats["bootstrap"], best_of_n=stats["best_of_n"],
                   best_of_runs=stats["best_of_runs"],
                   rank_combination=tuple(stats["rank_combination"]), seed=stats["seed"],
                   seed_aggregation=stats["seed_aggregation"],
                   require_path=stats["require_path"],
                   highlight=tuple(stats["highlight"]))

    def score_info(self, name: str) -> ScoreInfo:
        return (self.info or registry_info)(name)


def correlation_row(corr: pd.DataFrame, score: str, dataset: str, method: str,
                    target: str = "test_acc", policy: str = "kept_worst",
                    subset: str = "all") -> pd.Series | None:
    """One row of the ``correlations`` table (value, ci_low, ci_high, n), or None."""
    if corr.empty:
        return None
    m = corr[(corr["score"] == score) & (corr["dataset"] == dataset) & (corr["method"] == method)
             & (corr["target"] == target) & (corr["policy"] == policy)
             & (corr["subset"] == subset)]
    return None if m.empty else m.iloc[0]


def load_scores(path: Path | str) -> pd.DataFrame:
    """Read the merged scores table and check the columns the statistics use."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"scores table not found: {path}")
    df = pd.read_parquet(path)
    check_columns(df, str(path))
    return df


def check_columns(df: pd.DataFrame, where: str = "scores table") -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{where} lacks column(s) {missing}; has {list(df.columns)}")


def quality_rows(df: pd.DataFrame) -> pd.DataFrame:
    """Rows of the scoring run proper: standalone timing rows are left out when others exist."""
    if "mode" in df.columns and (df["mode"] != "standalone").any():
        return df[df["mode"] != "standalone"]
    return df


def ordered_datasets(names: Iterable[str]) -> list[str]:
    names = list(dict.fromkeys(names))
    known = [d for d in DATASET_ORDER if d in names]
    return known + sorted(n for n in names if n not in DATASET_ORDER)


def wide_scores(df: pd.DataFrame, dataset: str,
                how: str = schema_default("stats", "seed_aggregation")
                ) -> tuple[pd.DataFrame, int]:
    """One row per architecture of ``dataset``: each score's value over the run's seeds by
    the rule ``how`` (:data:`zeroshot_nas.stats.seeds.RULES`; the default averages them, as
    the rank-based paper: "computed three times with different initialisations and the
    average is taken as final score") plus test/valid accuracy. Returns (table, n_seeds).
    """
    sub = df[df["dataset"] == dataset]
    n_seeds = int(sub["seed"].nunique())
    one = seeds.collapse_seeds(sub, how)
    wide = (
        one.assign(value=one["value"].astype(float))
        .pivot_table(index="arch", columns="score", values="value", aggfunc="mean", dropna=False)
        .reindex(sorted(sub["arch"].unique()))
    )
    acc = sub.groupby("arch")[list(TARGETS)].first()
    wide = wide.join(acc)
    wide.columns.name = None
    return wide, n_seeds


def add_rank_combination(
    wide: pd.DataFrame, members: tuple[str, ...], info: Callable[[str], ScoreInfo]
) -> str | None:
    """Add the rank-combination column in place; returns a note when members are missing."""
    absent = [m for m in members if m not in wide.columns]
    if not members:
        return None
    if absent:
        return f"{RANK_COMBINATION} skipped: member score(s) {absent} not scored"
    directions = {m: info(m).higher_is_better for m in members}
    wide[RANK_COMBINATION] = core.rank_combination(wide[list(members)], directions)
    return None


def sample_combinations() -> dict:
    """The registered combinations (AZ-NAS's log-rank sum), by name."""
    from zeroshot_nas.proxies import combinations

    return combinations()


def add_combinations(wide: pd.DataFrame, info: Callable[[str], ScoreInfo]) -> list[str]:
    """Add a column for every registered combination whose parts were all scored (over the
    architectures of ``wide``); returns the names added."""
    added = []
    for name, combo in sample_combinations().items():
        if not all(part in wide.columns for part in combo.parts):
            continue
        directions = [info(part).higher_is_better for part in combo.parts]
        aggregate = getattr(core, combo.method)
        wide[name] = aggregate(wide[list(combo.parts)].to_numpy(dtype=float), directions)
        added.append(name)
    return added


def nonfinite_counts(df: pd.DataFrame) -> pd.DataFrame:
    """Counts of each status per score and data set (over all seeds' rows)."""
    counts = df.groupby(["score", "dataset", "status"]).size().unstack("status", fill_value=0)
    for status in ("ok", "nan", "+inf", "-inf", "error"):
        if status not in counts.columns:
            counts[status] = 0
    counts = counts[["ok", "nan", "+inf", "-inf", "error"]].reset_index()
    counts["n_rows"] = counts[["ok", "nan", "+inf", "-inf", "error"]].sum(axis=1)
    counts["n_nonfinite"] = counts["n_rows"] - counts["ok"]
    return counts


def _subset_masks(oriented_values: np.ndarray) -> dict[str, np.ndarray]:
    return {
        "all": np.ones(oriented_values.size, dtype=bool),
        "above_median": core.better_half_mask(oriented_values, True),
    }


def available_targets(wide: pd.DataFrame) -> list[str]:
    """The accuracies of :data:`TARGETS` a table has for at least three architectures (the
    NASLib NB101 table has validation accuracy only)."""
    return [t for t in TARGETS if int(np.isfinite(wide[t].to_numpy(dtype=float)).sum()) >= 3]


def score_quality(
    wide: pd.DataFrame, score: str, info: ScoreInfo, cfg: StatsConfig, dataset: str, n_seeds: int,
    targets: tuple[str, ...] = TARGETS,
) -> tuple[list[dict], list[dict], list[dict]]:
    """Correlations (with each of ``targets``), monotonicity and slopes (with the first of
    them: test accuracy where there is one) of one score on one data set."""
    primary = targets[0]
    raw = wide[score].to_numpy(dtype=float)
    corr_rows, mono_rows, slope_rows = [], [], []
    base = {"score": score, "dataset": dataset, "n_seeds": n_seeds,
            "higher_is_better": info.higher_is_better}
    # Without non-finite values both policies see identical data: bootstrap once.
    reuse: dict[tuple[str, str, str], tuple[float, float, float]] = {}
    for policy in core.NONFINITE_POLICIES:
        res = core.apply_nonfinite_policy(raw, info.higher_is_better, policy)
        values = res.values
        oriented = values if info.higher_is_better else -values
        for subset, mask in _subset_masks(oriented).items():
            n = int(mask.sum())
            common = {**base, "policy": policy, "subset": subset, "n": n,
                      "n_nonfinite": res.n_nonfinite}
            for target in targets:
                acc = wide[target].to_numpy(dtype=float)[res.keep][mask]
                ok = np.isfinite(acc)
                x = values[mask][ok]
                for method in METHODS:
                    key = (subset, target, method)
                    if res.n_nonfinite or key not in reuse:
                        reuse[key] = bootstrap_correlation(
                            x, acc[ok], method, cfg.bootstrap, cfg.confidence, cfg.seed
                        )
                    stat, lo, hi = reuse[key]
                    corr_rows.append({**common, "target": target, "method": method,
                                      "value": stat, "ci_low": lo, "ci_high": hi,
                                      "n": int(ok.sum())})
            acc = wide[primary].to_numpy(dtype=float)[res.keep][mask]
            ok = np.isfinite(acc)
            mono = core.monotonicity(values[mask][ok], acc[ok]) if ok.sum() >= 2 else np.nan
            mono_rows.append({**common, "target": primary, "monotonicity": mono,
                              "n": int(ok.sum())})
    # Slopes: a regression on a substituted value would be meaningless, so non-finite
    # values (and scores whose transform is not finite) are always dropped here.
    x_all, transform = core.slope_transform(raw, info.bounded01)
    acc_all = wide[primary].to_numpy(dtype=float)
    finite = np.isfinite(raw)
    oriented = np.where(info.higher_is_better, raw, -raw)
    masks = {"all": finite,
             "above_median": finite & _above_median_finite(oriented, finite)}
    for subset, mask in masks.items():
        ok = mask & np.isfinite(x_all) & np.isfinite(acc_all)
        fit = core.linear_slope(x_all[ok], acc_all[ok])
        slope_rows.append({**base, "subset": subset, "transform": transform,
                           "policy": "dropped", "target": primary,
                           "n_dropped": int(mask.sum() - ok.sum() + (~finite).sum()),
                           **fit, "abs_slope": abs(fit["slope"])})
    return corr_rows, mono_rows, slope_rows


def _above_median_finite(oriented: np.ndarray, finite: np.ndarray) -> np.ndarray:
    out = np.zeros(oriented.size, dtype=bool)
    if finite.any():
        out[finite] = core.better_half_mask(oriented[finite], True)
    return out


def best_retrieved(
    wide: pd.DataFrame, score: str, info: ScoreInfo, cfg: StatsConfig, dataset: str,
    dataset_index: int,
) -> tuple[dict, pd.DataFrame]:
    """Best accuracy retrieved by ``score`` on ``dataset`` (mean ± std over runs)."""
    have = wide[["test_acc", "valid_acc"]].notna().all(axis=1).to_numpy()
    # Same seed for every score of a data set: identical samples when pools are equal.
    runs = core.best_retrieved_runs(
        wide[score].to_numpy(dtype=float)[have],
        wide["test_acc"].to_numpy(dtype=float)[have],
        wide["valid_acc"].to_numpy(dtype=float)[have],
        info.higher_is_better,
        cfg.best_of_runs,
        cfg.best_of_n,
        cfg.seed + 1000 * dataset_index,
    )
    runs.insert(0, "score", score)
    runs.insert(1, "dataset", dataset)
    runs["arch"] = wide.index.to_numpy()[have][runs["top_position"].to_numpy()]
    ddof = 1 if len(runs) > 1 else 0
    summary = {
        "score": score,
        "dataset": dataset,
        "runs": len(runs),
        "sample_size": int(runs["sample_size"].iloc[0]),
        "pool_size": int(have.sum()),
        "test_mean": runs["test_acc"].mean(),
        "test_std": runs["test_acc"].std(ddof=ddof),
        "valid_mean": runs["valid_acc"].mean(),
        "valid_std": runs["valid_acc"].std(ddof=ddof),
        "percentile_mean": runs["percentile_of_best"].mean(),
        "percentile_std": runs["percentile_of_best"].std(ddof=ddof),
        "percentile_max": runs["percentile_of_best"].max(),
    }
    return summary, runs.drop(columns="top_position")


def timing_table(df: pd.DataFrame) -> pd.DataFrame:
    """Seconds per architecture per score, data set and mode (standalone runs are the ones
    to compare scores by; fused rows share passes and are listed for completeness)."""
    if "seconds" not in df.columns:
        return pd.DataFrame(columns=["score", "dataset", "mode", "n", "seconds_mean",
                                     "seconds_median", "seconds_std"])
    mode = df["mode"] if "mode" in df.columns else pd.Series("unknown", index=df.index)
    t = df.assign(mode=mode, seconds=df["seconds"].astype(float))
    t = t[np.isfinite(t["seconds"])]
    g = t.groupby(["score", "dataset", "mode"])["seconds"]
    out = g.agg(n="size", seconds_mean="mean", seconds_median="median", seconds_std="std")
    return out.reset_index()


def benchmark_best(df: pd.DataFrame, benchmark: pd.DataFrame | None) -> pd.DataFrame:
    """Highest test/validation accuracy per data set: the whole benchmark when given,
    else the scored sample (the ``source`` column says which)."""
    src = benchmark if benchmark is not None else df
    label = "benchmark" if benchmark is not None else "scored sample"
    g = src.groupby("dataset")[list(TARGETS)].max().reset_index()
    g = g.rename(columns={"test_acc": "best_test_acc", "valid_acc": "best_valid_acc"})
    g["source"] = label
    return g


def compute_stats(
    df: pd.DataFrame,
    cfg: StatsConfig | None = None,
    benchmark: pd.DataFrame | None = None,
    timings: pd.DataFrame | None = None,
    freerea: pd.DataFrame | None = None,
) -> tuple[dict[str, pd.DataFrame], dict]:
    """Every statistic of the papers, as tidy tables, plus a summary dict with notes on
    what could not be computed (missing scores, too few finite values). ``freerea``
    (FreeREA's published scores, ``data.freerea_scores``) adds the ``freerea_check`` table."""
    cfg = cfg or StatsConfig()
    check_columns(df)
    notes: list[str] = []
    scored, paths = connectivity.drop_without_path(quality_rows(df), cfg.require_path)
    datasets = ordered_datasets(scored["dataset"].unique())
    names = sorted(scored["score"].unique())
    combo = tuple(cfg.rank_combination)
    infos = _score_infos(names, combo, cfg)
    parts = _QualityParts()
    for d_i, dataset in enumerate(datasets):
        _dataset_quality(scored, dataset, d_i, names, infos, combo, cfg, parts, notes)
    timing_src = timings if timings is not None else df
    specs = pd.DataFrame(
        [{"score": i.name, "higher_is_better": i.higher_is_better, "bounded01": i.bounded01,
          "family": i.family, "paper": i.paper} for i in infos.values()]
    )
    tables = {
        "correlations": pd.DataFrame(parts.corr),
        "monotonicity": pd.DataFrame(parts.mono),
        "slopes": pd.DataFrame(parts.slopes),
        "best_retrieved": pd.DataFrame(parts.best),
        "best_retrieved_runs": pd.concat(parts.best_runs, ignore_index=True) if parts.best_runs
        else pd.DataFrame(),
        "timing": timing_table(timing_src),
        "nonfinite": nonfinite_counts(scored),
        "benchmark_best": benchmark_best(scored, benchmark),
        "score_specs": specs,
        "seed_correlations": pd.DataFrame(parts.seed_corr,
                                          columns=seeds.SEED_CORRELATION_COLUMNS),
        "seed_spread": pd.DataFrame(parts.seed_spread, columns=seeds.SEED_SPREAD_COLUMNS),
    }
    tables["comparison"] = comparison.comparison_table(tables, datasets, cfg.highlight)
    notes += comparison.highlight_notes(tables["comparison"], cfg.highlight)
    freerea_descriptions = _freerea_tables(scored, freerea, benchmark, datasets, cfg,
                                           tables, notes)
    tables.update(_nb101_tables(scored, infos, cfg))
    summary = _summary(scored, datasets, names, combo, cfg, notes)
    summary["require_path"] = paths
    summary.update(freerea_descriptions)
    for note in notes:
        log.warning(note)
    return tables, summary


def _freerea_tables(scored: pd.DataFrame, freerea: pd.DataFrame | None,
                    benchmark: pd.DataFrame | None, datasets: list[str], cfg: StatsConfig,
                    tables: dict[str, pd.DataFrame], notes: list[str]) -> dict[str, str]:
    """Adds the tables that FreeREA's published scores allow (our scores against theirs;
    theirs against test accuracy when the benchmark is given) and returns the summary's
    description of each table added."""
    if freerea is None:
        return {}
    check = crosscheck.freerea_check(scored, freerea, cfg.seed_aggregation)
    tables["freerea_check"] = check
    notes += [f"freerea_check {r.dataset} {r.freerea_metric}: {r.note}"
              for r in check.itertuples() if r.note]
    descriptions = {"freerea_check": crosscheck.DESCRIPTION}
    if benchmark is not None:
        tables["freerea_accuracy"] = crosscheck.freerea_accuracy(freerea, benchmark, datasets)
        descriptions["freerea_accuracy"] = crosscheck.ACCURACY_DESCRIPTION
    return descriptions


def _score_infos(names: list[str], combo: tuple[str, ...],
                 cfg: StatsConfig) -> dict[str, ScoreInfo]:
    """What the statistics know of each scored name, of the rank combination (when
    configured) and of every sample-level combination whose parts were all scored."""
    infos = {n: cfg.score_info(n) for n in names}
    if combo:
        infos[RANK_COMBINATION] = ScoreInfo(RANK_COMBINATION, False, False, "combination",
                                            "rank-based-training-free-nas")
    for name, spec in sample_combinations().items():
        if all(part in names for part in spec.parts):
            infos[name] = ScoreInfo(name, True, False, "combination", spec.paper)
    return infos


def _nb101_tables(scored: pd.DataFrame, infos: dict[str, ScoreInfo],
                  cfg: StatsConfig) -> dict[str, pd.DataFrame]:
    """The NB101 tables a run's scores allow: correlations over MLFE's 2,000 rows, and the
    agreement with NASLib's precomputed scores (each only where its columns are present)."""
    from zeroshot_nas.stats import nb101

    tables = {
        "nb101_row_correlations": nb101.row_correlations(
            scored, lambda n: infos[n].higher_is_better, cfg.bootstrap, cfg.seed,
            cfg.seed_aggregation),
        "naslib_agreement": nb101.naslib_agreement(scored, cfg.bootstrap, cfg.seed,
                                                   cfg.seed_aggregation),
        "naslib_correlations": nb101.naslib_correlations(
            scored, lambda n: cfg.score_info(n).higher_is_better, cfg.bootstrap, cfg.seed),
    }
    return {name: table for name, table in tables.items() if not table.empty}


@dataclass
class _QualityParts:
    """Rows of the score-quality tables, collected over data sets and scores."""

    corr: list[dict] = field(default_factory=list)
    mono: list[dict] = field(default_factory=list)
    slopes: list[dict] = field(default_factory=list)
    best: list[dict] = field(default_factory=list)
    best_runs: list[pd.DataFrame] = field(default_factory=list)
    seed_corr: list[dict] = field(default_factory=list)
    seed_spread: list[dict] = field(default_factory=list)


def _dataset_quality(
    scored: pd.DataFrame,
    dataset: str,
    dataset_index: int,
    names: list[str],
    infos: dict[str, ScoreInfo],
    combo: tuple[str, ...],
    cfg: StatsConfig,
    parts: _QualityParts,
    notes: list[str],
) -> None:
    """Add the quality rows of every score of one data set to ``parts``, and a note for
    whatever could not be computed there."""
    wide, n_seeds = wide_scores(scored, dataset, cfg.seed_aggregation)
    note = add_rank_combination(wide, combo, cfg.score_info) if combo else None
    if note:
        notes.append(f"{dataset}: {note}")
    combined = add_combinations(wide, cfg.score_info)
    targets = tuple(available_targets(wide))
    if not targets:
        # e.g. the NATS size space, for which no trained accuracies are available here
        notes.append(f"{dataset}: fewer than 3 architectures with test or validation "
                     "accuracy; no score-quality statistics")
        return
    if targets != TARGETS:
        notes.append(f"{dataset}: only {', '.join(targets)} available: correlations with it "
                     f"alone, monotonicity and slopes with {targets[0]}, no best accuracy "
                     "retrieved (it reports test and validation accuracy)")
    for score in [n for n in [*names, RANK_COMBINATION, *combined] if n in wide.columns]:
        n_finite = int(np.isfinite(wide[score].to_numpy(dtype=float)).sum())
        if n_finite < 3:
            notes.append(f"{dataset}: {score} has {n_finite} finite value(s); skipped")
            continue
        c, m, s = score_quality(wide, score, infos[score], cfg, dataset, n_seeds, targets)
        parts.corr += c
        parts.mono += m
        parts.slopes += s
        if targets != TARGETS:
            continue
        summary, runs = best_retrieved(wide, score, infos[score], cfg, dataset, dataset_index)
        parts.best.append(summary)
        parts.best_runs.append(runs)
    if n_seeds >= 2:
        per_seed = per_seed_values(scored[scored["dataset"] == dataset], wide, names, combo,
                                   cfg.score_info)
        corr, spread = seeds.seed_tables(per_seed, wide["test_acc"], dataset,
                                         lambda n: infos[n].higher_is_better,
                                         cfg.seed_aggregation)
        parts.seed_corr += corr
        parts.seed_spread += spread


def per_seed_values(
    sub: pd.DataFrame, wide: pd.DataFrame, names: list[str], combo: tuple[str, ...],
    info: Callable[[str], ScoreInfo],
) -> dict[str, pd.DataFrame]:
    """Per score, its values on one data set as architectures (``wide``'s) × seeds, and the
    rank combination of each seed's own values when every member was scored."""
    per_seed = {name: seeds.seed_matrix(sub[sub["score"] == name], wide.index)
                for name in names}
    if combo and all(m in per_seed for m in combo):
        directions = {m: info(m).higher_is_better for m in combo}
        columns = per_seed[combo[0]].columns
        per_seed[RANK_COMBINATION] = pd.DataFrame(
            {seed: core.rank_combination(
                pd.DataFrame({m: per_seed[m][seed] for m in combo}), directions)
             for seed in columns}, index=wide.index)
    return per_seed


def _summary(
    scored: pd.DataFrame,
    datasets: list[str],
    names: list[str],
    combo: tuple[str, ...],
    cfg: StatsConfig,
    notes: list[str],
) -> dict:
    """``summary.json``: the run's settings and what the tables' columns mean."""
    return {
        "datasets": datasets,
        "scores": names,
        "rank_combination": list(combo),
        "n_archs": {d: int(scored.loc[scored["dataset"] == d, "arch"].nunique())
                    for d in datasets},
        "bootstrap": cfg.bootstrap,
        "confidence": cfg.confidence,
        "best_of_n": cfg.best_of_n,
        "best_of_runs": cfg.best_of_runs,
        "seed": cfg.seed,
        "highlight": list(cfg.highlight),
        "comparison": {"ranked_by": comparison.SORT_DESCRIPTION,
                       "kendall": "Kendall tau with test accuracy over the architectures "
                                  "ranked, non-finite values ranked last, sign "
                                  "flipped for scores where lower is better",
                       "seconds": "median seconds per architecture, standalone timings "
                                  "where the score has any, else fused"},
        "seeds": sorted(int(s) for s in scored["seed"].unique()),
        "seed_aggregation": {
            "rule": cfg.seed_aggregation,
            "description": seeds.RULES[cfg.seed_aggregation],
            "n_seeds": {d: int(scored.loc[scored["dataset"] == d, "seed"].nunique())
                        for d in datasets},
            "applied": any(scored.loc[scored["dataset"] == d, "seed"].nunique() > 1
                           for d in datasets),
            "per_seed_tables": "seed_correlations (each seed's own Kendall and Spearman "
                               "with test accuracy, non-finite values ranked last) and "
                               "seed_spread (their mean, std, min and max beside the "
                               "aggregated value's, the mean Kendall between seeds, the "
                               "median relative std across seeds); empty with one seed",
        },
        "subsets": {"above_median": "strictly better than the median score in the "
                    "score's direction"},
        "slopes": "accuracy on log(1 - score) for scores bounded in [0, 1]; on the "
                  "standardised score otherwise; non-finite values dropped",
        "nonfinite_policies": {"kept_worst": "non-finite values ranked last (worst in the "
                               "score's direction)", "dropped": "non-finite values removed"},
        "notes": notes,
    }


def write_stats(tables: dict[str, pd.DataFrame], summary: dict, out_dir: Path | str) -> None:
    """Write every table as CSV and Parquet, and summary.json, into ``out_dir``."""
    out = Path(out_dir)
    for name, table in tables.items():
        io.write_csv(out / f"{name}.csv", table)
        io.write_parquet(out / f"{name}.parquet", table)
    io.write_json(out / "summary.json", summary, indent=2, default=str)


def read_stats(stats_dir: Path | str) -> tuple[dict[str, pd.DataFrame], dict]:
    """Read back what :func:`write_stats` wrote."""
    d = Path(stats_dir)
    if not (d / "summary.json").exists():
        raise FileNotFoundError(f"no statistics in {d} (summary.json missing); run `stats` first")
    tables = {}
    for name in (*OUTPUT_TABLES, *OPTIONAL_TABLES):
        path = d / f"{name}.parquet"
        tables[name] = pd.read_parquet(path) if path.exists() else pd.DataFrame()
    return tables, json.loads((d / "summary.json").read_text())
