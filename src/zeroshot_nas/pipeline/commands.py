"""Workflow-level commands: ``validate-config``, ``sample-archs``, ``progress`` and the score
archive pair ``cache-export`` / ``cache-import``."""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import numpy as np
import yaml

from zeroshot_nas.config import seed_argument
from zeroshot_nas.spaces import SPACES
from zeroshot_nas.spaces.sampling import SAMPLERS, UNIFORM

log = logging.getLogger(__name__)
RATE_WINDOW_S = 3600.0


def load_config(path: str | Path) -> dict:
    """A configuration file, validated, with every default filled in."""
    from zeroshot_nas.config import ConfigError, read_yaml, validate_config

    try:
        return validate_config(read_yaml(path))
    except ConfigError as err:
        raise ConfigError(f"{path}: {err}") from None


def _cmd_validate(args: argparse.Namespace) -> int:
    resolved = load_config(args.configfile)
    if args.print:
        print(yaml.safe_dump(resolved, sort_keys=False))
    return 0


def _cmd_sample(args: argparse.Namespace) -> int:
    from zeroshot_nas import io
    from zeroshot_nas.spaces.sampling import sample_architectures

    n = args.n if args.n == "all" else int(args.n)
    archs = sample_architectures(args.space, n, args.seed, table=args.table,
                                 sampler=args.sampler)
    io.write_text(args.out, "\n".join(archs) + "\n")
    log.info("sampled %d %s architectures into %s", len(archs), args.space, args.out)
    return 0


def experiment_progress(config: dict, name: str, now: float | None = None) -> list[dict]:
    """Per data set and seed of one experiment: architectures whose every score is cached,
    out of the sample, the recent rate, the estimated time left at that rate, and, for
    :func:`run_time_left`, the scoring seconds of each done architecture (its cached scores'
    own), each score's seconds by cache file (``entry_seconds``: experiments sharing a cache
    count a shared score once) and when the architectures of the last hour were done."""
    from zeroshot_nas.pipeline.plan import sample_settings, seeds_of
    from zeroshot_nas.spaces import arch_id
    from zeroshot_nas.spaces.sampling import sample_from_settings

    e = config["experiments"][name]
    now = time.time() if now is None else now
    archs = [arch_id(e["space"], a) for a in sample_from_settings(sample_settings(e))]
    rows = []
    for dataset in e["datasets"]:
        images = Path("data/images") / f"{dataset}.npz"
        for seed in seeds_of(e, dataset):
            done = (_done_architectures(config, e, images, dataset, seed, archs)
                    if images.exists() else [])
            recent = sorted(t for t, _, _ in done if now - t <= RATE_WINDOW_S)
            row = {"experiment": name, "dataset": dataset, "seed": seed, "total": len(archs),
                   "done": len(done), "per_hour": 0.0, "eta_hours": None,
                   "arch_seconds": [sum(secs.values()) for _, _, secs in done],
                   "entry_seconds": {path: secs for _, path, secs in done}, "recent": recent}
            if len(recent) >= 2:
                row["per_hour"] = len(recent) / max(now - recent[0], 1.0) * 3600.0
                row["eta_hours"] = (row["total"] - row["done"]) / row["per_hour"]
            rows.append(row)
    return rows


def _done_architectures(config: dict, e: dict, images: Path, dataset: str, seed: int,
                        archs: list[str]) -> list[tuple[float, str, dict[str, float]]]:
    """(cache file time, cache file, each score's seconds) of every architecture whose every
    score of ``e`` is cached for this data set and seed, and would be served to the run
    (``cache_numerics``)."""
    from zeroshot_nas.config import experiment_proxies
    from zeroshot_nas.proxies import Protocol
    from zeroshot_nas.proxies.numerics import numerics_environment, resolve_device
    from zeroshot_nas.scoring import cached_entries, run_batch

    names = experiment_proxies(e)
    protocol = Protocol.from_experiment(e, seed=seed, device="cpu")
    _, cache = run_batch(images, e["space"], dataset, protocol, config["cache_dir"])
    numerics = numerics_environment(resolve_device(protocol.device))
    done = []
    for a in archs:
        entries = cached_entries(cache, a, "fused", names, numerics, config["cache_numerics"])
        if len(entries) == len(names):
            path = cache.path(a)
            done.append((path.stat().st_mtime, str(path),
                         {score: float(entry["seconds"]) for score, entry in entries.items()}))
    return done


def run_time_left(rows: list[dict], now: float) -> dict:
    """The whole run's scoring left, which holds however the jobs move between rows: the
    cost of an architecture of an experiment and data set is the median of its done
    architectures' scoring seconds over every seed (a median, so that architectures scored
    on a loaded machine do not set it); the work left is Σ architectures left × cost, the
    pace Σ architectures done in the last hour × cost per wall second (every job together).
    ``unknown``: architectures left of an experiment and data set with none done yet.
    ``run_hours``: the whole run, done and left, at those median costs: what it takes one job
    on an otherwise idle machine, which the wall seconds of scores made beside other work
    overstate. ``scored_hours``: the scoring done so far, Σ the done architectures' scores'
    own seconds, a score two experiments share counted once: what a run resumed across
    machines and sessions cost in job-hours, however it was split."""
    pooled: dict[tuple[str, str], list[float]] = {}
    for r in rows:
        pooled.setdefault((r["experiment"], r["dataset"]), []).extend(r["arch_seconds"])
    cost = {key: float(np.median(v)) for key, v in pooled.items() if v}
    left_s = done_s = run_s = 0.0
    unknown = 0
    for r in rows:
        key, left = (r["experiment"], r["dataset"]), r["total"] - r["done"]
        if key not in cost:
            unknown += left
            continue
        left_s += left * cost[key]
        done_s += len(r["recent"]) * cost[key]
        run_s += r["total"] * cost[key]
    since = [r["recent"][0] for r in rows if r["recent"]]
    pace = done_s / max(now - min(since), 1.0) if since else 0.0
    return {"done": sum(r["done"] for r in rows), "total": sum(r["total"] for r in rows),
            "scored_hours": _scored_seconds(rows) / 3600.0,
            "scoring_hours_left": left_s / 3600.0, "run_hours": run_s / 3600.0,
            "unknown": unknown,
            "eta_hours": left_s / pace / 3600.0 if pace > 0 else None}


def _scored_seconds(rows: list[dict]) -> float:
    """Σ the seconds of every distinct (cache file, score) the rows' done architectures hold."""
    merged: dict[str, dict[str, float]] = {}
    for r in rows:
        for path, seconds in r.get("entry_seconds", {}).items():
            merged.setdefault(path, {}).update(seconds)
    return sum(sum(seconds.values()) for seconds in merged.values())


def _cmd_progress(args: argparse.Namespace) -> int:
    config = load_config(args.configfile)
    now = time.time()
    rows = []
    for name in config["experiments"]:
        for row in experiment_progress(config, name, now):
            rows.append(row)
            eta = "—" if row["eta_hours"] is None else f"{row['eta_hours']:.1f} h"
            print(f"{row['experiment']} {row['dataset']:15s} seed {row['seed']}: "
                  f"{row['done']:6d} / {row['total']} architectures scored "
                  f"({row['per_hour']:.0f}/h in the last hour), time left {eta}")
    total = run_time_left(rows, now)
    eta = ("— (nothing scored in the last hour)" if total["eta_hours"] is None
           else f"about {total['eta_hours']:.1f} h at the last hour's pace")
    unknown = (f"; {total['unknown']} architecture(s) of a data set not yet started are not "
               "counted" if total["unknown"] else "")
    print(f"all: {total['done']} / {total['total']} scored ({total['scored_hours']:.1f} "
          f"job-hours, the cached scores' own seconds); "
          f"{total['scoring_hours_left']:.1f} h of scoring left (job-hours), {eta}{unknown}; "
          f"the whole run at the median costs: {total['run_hours']:.1f} job-hours")
    return 0


def _cmd_cache_export(args: argparse.Namespace) -> int:
    from zeroshot_nas.score_archive import export_archive

    cache_dir = _cache_dir(args)
    n = export_archive(cache_dir, args.out, exclude=args.exclude)
    log.info("packed %d score entries of %s into %s%s", n, cache_dir, args.out,
             f" (leaving out those in {len(args.exclude)} earlier archive(s))"
             if args.exclude else "")
    return 0


def _cmd_cache_import(args: argparse.Namespace) -> int:
    from zeroshot_nas.score_archive import import_archive

    cache_dir = _cache_dir(args)
    counts = import_archive(args.archives, cache_dir)
    log.info("into %s: %d score entries added, %d already there (kept), %d rejected",
             cache_dir, counts.added, counts.kept, counts.rejected)
    return 1 if counts.rejected else 0


def _cache_dir(args: argparse.Namespace) -> str:
    return args.cache_dir or load_config(args.configfile)["cache_dir"]


def _register_archive(subparsers: argparse._SubParsersAction) -> None:
    cache_help = "the score cache (default: the configuration's cache_dir)"
    e = subparsers.add_parser(
        "cache-export", help="pack a score cache into one Parquet archive",
        description="Packs every entry of a score cache (value, status, seconds, definition "
        "and checksum, per architecture, protocol, data set, seed and batch) into one Parquet "
        "file that cache-import writes into another cache; with --exclude, only entries not "
        "in the given earlier archives (successive parts of one long run).")
    e.add_argument("--configfile", default="config.yaml")
    e.add_argument("--cache-dir", default=None, help=cache_help)
    e.add_argument("--out", required=True, help="the archive to write (.parquet)")
    e.add_argument("--exclude", nargs="*", default=[], metavar="ARCHIVE",
                   help="earlier archives whose entries are left out")
    e.set_defaults(func=_cmd_cache_export)

    i = subparsers.add_parser(
        "cache-import", help="write score archives into a score cache",
        description="Writes the entries of score archives (cache-export) into a score cache, "
        "after checking each against its folder identity and checksum; an intact entry "
        "already in the cache is kept. A run serves an imported score only where its "
        "definition (score and engine versions, torch build and CPU kernels) is the run's "
        "own. Exits 1 if any entry was rejected.")
    i.add_argument("archives", nargs="+", help="archives made by cache-export")
    i.add_argument("--configfile", default="config.yaml")
    i.add_argument("--cache-dir", default=None, help=cache_help)
    i.set_defaults(func=_cmd_cache_import)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("validate-config", help="validate a workflow config file")
    p.add_argument("configfile")
    p.add_argument("--print", action="store_true", help="print the config with defaults")
    p.set_defaults(func=_cmd_validate)

    s = subparsers.add_parser("sample-archs", help="seeded architecture sample, one per line")
    s.add_argument("--space", default="nb201", choices=list(SPACES))
    s.add_argument("--table", choices=["mlfe", "naslib"], default=None,
                   help="nb101 only: the pinned table to sample from (default mlfe)")
    s.add_argument("--n", required=True, help="number of architectures or 'all'")
    s.add_argument("--seed", type=seed_argument, default=0)
    s.add_argument("--sampler", choices=list(SAMPLERS), default=UNIFORM,
                   help="nb201 only: rank-based-authors draws as the rank-based authors' "
                        "Table 1 script did (default uniform)")
    s.add_argument("--out", required=True, help="output file")
    s.set_defaults(func=_cmd_sample)

    g = subparsers.add_parser(
        "progress", help="how much of a configuration's scoring is cached, with an ETA",
        description="Counts, per experiment, data set and seed, the sampled architectures "
        "whose every score is cached, and estimates the time left from the last hour's rate; "
        "its last line, the whole run's time left from the cached scores' own seconds and "
        "the last hour's pace over every job. "
        "Run it from the project folder while (or after) the workflow runs.")
    g.add_argument("--configfile", default="config.yaml")
    g.set_defaults(func=_cmd_progress)
    _register_archive(subparsers)
