"""Command of the figures stage: ``figures``."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

log = logging.getLogger(__name__)


def _figures(args: argparse.Namespace) -> int:
    from zeroshot_nas.plots import figures
    from zeroshot_nas.stats import analysis

    df = analysis.load_scores(args.scores)
    stats, _ = analysis.read_stats(args.stats)
    results = figures.make_all_figures(df, stats, args.out)
    out = Path(args.out)
    manifest = {
        "made": {r.name: [p.name for p in r.paths] for r in results if r.made},
        "skipped": {r.name: r.note for r in results if not r.made},
    }
    (out / "figures_manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    for r in results:
        if not r.made:
            log.warning(r.note)
    log.info("%d figure(s) drawn into %s, %d skipped", len(manifest["made"]), out,
             len(manifest["skipped"]))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the figures command to the CLI."""
    p = subparsers.add_parser("figures", help="every figure of the papers from a run")
    p.add_argument("--scores", required=True, help="results/<experiment>/scores.parquet")
    p.add_argument("--stats", required=True, help="folder written by `stats`")
    p.add_argument("--out", default="figures", help="output folder (PNG, PDF, captions)")
    p.set_defaults(func=_figures)
