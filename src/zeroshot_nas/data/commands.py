"""Data commands: ``fetch``, ``build-benchmark``, ``prepare-images``."""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)


def _fetch(args: argparse.Namespace) -> int:
    from .sources import MIRROR_ENV, fetch, load_registry

    registry = load_registry(args.registry)
    mirror = args.mirror
    if os.environ.get(MIRROR_ENV):
        # The rule passes the config's data.mirror; the environment variable overrides it.
        mirror = os.environ[MIRROR_ENV]
    if args.all:
        keys = [k for k, s in registry.items() if args.include_optional or not s.optional]
    else:
        unknown = [k for k in args.key if k not in registry]
        if unknown:
            raise ValueError(f"unknown source key(s) {unknown}; known: {sorted(registry)}")
        keys = args.key
    for key in keys:
        path = fetch(key, args.dest, mirror=mirror, registry=registry)
        print(f"{key}\t{path}")
    return 0


def _build_benchmark(args: argparse.Namespace) -> int:
    from .benchmark import REQUIRED_KEYS, build_nats_sss_table, build_nb201_table, write_table
    from .sources import load_registry

    out = args.out or f"data/benchmarks/{args.space}.parquet"
    if args.nats_archive is not None:
        if args.space != "nats_sss":
            raise ValueError("--nats-archive converts the size space: give --space nats_sss")
        table = build_nats_sss_table(args.nats_archive)
    else:
        if args.space != "nb201":
            raise ValueError("--space nats_sss needs --nats-archive (its accuracies exist only "
                             "in the official NATS-Bench archive)")
        registry = load_registry(args.registry)
        root = Path(args.downloads)
        paths = {key: root / registry[key].relpath for key in REQUIRED_KEYS}
        table = build_nb201_table(paths, registry=registry)
    write_table(table, out)
    log.info("wrote %s (%d rows)", out, len(table))
    return 0


def _prepare_images(args: argparse.Namespace) -> int:
    from .images import prepare_images

    if args.sample_dir is not None:
        source, kind = args.sample_dir, "sample"
    elif args.cifar_tarball is not None:
        source, kind = args.cifar_tarball, "cifar-tarball"
    elif args.freerea_batches is not None:
        source, kind = args.freerea_batches, "freerea-batches"
    else:
        source, kind = args.imagenet16_dir, "imagenet16-dir"
    prepare_images(args.dataset, source, args.out, kind=kind)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the data commands to the ``zeroshot-nas`` parser."""
    fetch = subparsers.add_parser(
        "fetch", help="download (or copy from a mirror) registered files, verifying hashes"
    )
    which = fetch.add_mutually_exclusive_group(required=True)
    which.add_argument("--key", action="append", help="source key (repeatable)")
    which.add_argument("--all", action="store_true", help="every non-optional source")
    fetch.add_argument("--include-optional", action="store_true",
                       help="with --all, also the optional files (CIFAR tarballs)")
    fetch.add_argument("--dest", default="data/downloads", help="download root")
    fetch.add_argument("--mirror", default=None,
                       help="local mirror (<owner>/<repo>/<commit>/<path>); the environment "
                            "variable ZEROSHOT_NAS_MIRROR overrides it")
    fetch.add_argument("--registry", default=None, help="sources.yaml (default: data/)")
    fetch.set_defaults(func=_fetch)

    build = subparsers.add_parser(
        "build-benchmark", help="convert the sources into data/benchmarks/<space>.parquet"
    )
    origin = build.add_mutually_exclusive_group(required=True)
    origin.add_argument("--downloads", help="download root filled by `fetch` (nb201)")
    origin.add_argument("--nats-archive", default=None,
                        help="the official NATS-sss-v1_0-50262-simple folder (nats_sss)")
    build.add_argument("--space", choices=("nb201", "nats_sss"), default="nb201")
    build.add_argument("--out", default=None,
                       help="output Parquet (default data/benchmarks/<space>.parquet)")
    build.add_argument("--registry", default=None, help="sources.yaml (default: data/)")
    build.set_defaults(func=_build_benchmark)

    images = subparsers.add_parser(
        "prepare-images", help="write data/images/<dataset>.npz from a sample or official files"
    )
    images.add_argument("--dataset", required=True,
                        choices=("cifar10", "cifar100", "ImageNet16-120"))
    source = images.add_mutually_exclusive_group(required=True)
    source.add_argument("--sample-dir", help="folder with <dataset>.npz (or the .npz itself)")
    source.add_argument("--cifar-tarball", help="official cifar-10/100-python.tar.gz")
    source.add_argument("--freerea-batches", nargs="+",
                        help="FreeREA batch files (data/<set>__batch<B>_<k>), verified")
    source.add_argument("--imagenet16-dir",
                        help="folder of official ImageNet16 train_data_batch_*/val_data files")
    images.add_argument("--out", required=True, help="output .npz")
    images.set_defaults(func=_prepare_images)
