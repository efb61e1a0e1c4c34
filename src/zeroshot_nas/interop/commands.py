"""``zeroshot-nas export`` and ``import-naslib``: a run's scores in NASLib's zero-cost layout
and back (see :mod:`zeroshot_nas.interop.naslib`)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

log = logging.getLogger(__name__)


def cmd_export(args: argparse.Namespace) -> int:
    from .naslib import write_naslib

    scores = [s.strip() for s in args.proxies.split(",") if s.strip()] if args.proxies else None
    counts = write_naslib(args.scores, args.out, seed=args.seed, scores=scores)
    log.info("wrote %s (architectures per data set: %s)", args.out, counts)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from zeroshot_nas import io

    from .naslib import read_naslib

    table = read_naslib(args.file)
    out = Path(args.out)
    if out.suffix not in (".parquet", ".csv"):
        raise ValueError(f"--out must end in .parquet or .csv, got {out}")
    (io.write_parquet if out.suffix == ".parquet" else io.write_csv)(out, table)
    log.info("read %d scores of %d architectures from %s into %s", len(table),
             table["arch"].nunique(), args.file, out)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``export`` and ``import-naslib`` to the CLI."""
    p = subparsers.add_parser(
        "export", help="a run's NB201 scores as NAS-Bench-Suite-Zero JSON (NASLib zc layout)")
    p.add_argument("--scores", required=True, help="results/<experiment>/scores.parquet")
    p.add_argument("--out", required=True, help="output JSON, e.g. zc_nasbench201.json")
    p.add_argument("--seed", type=int, default=None,
                   help="the seed to export (required when the run has several)")
    p.add_argument("--proxies", default=None, help="comma-separated scores (default: all)")
    p.set_defaults(func=cmd_export)

    q = subparsers.add_parser(
        "import-naslib", help="a NAS-Bench-Suite-Zero NB201 JSON file as a long score table")
    q.add_argument("file", help="zc_nasbench201.json (final or early layout)")
    q.add_argument("--out", required=True, help="output table (.parquet or .csv)")
    q.set_defaults(func=cmd_import)
