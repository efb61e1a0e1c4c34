"""``zeroshot-nas score`` and ``zeroshot-nas list-proxies``."""

from __future__ import annotations

import argparse
from pathlib import Path

from .protocol import BN_MODES, DTYPES, INITS, Protocol
from .registry import REGISTRY, resolve_names


def read_archs(path: str | Path) -> list[str]:
    """One arch string per line; blank lines and ``#`` comments are ignored."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"architecture list {p} does not exist")
    archs = [ln.strip() for ln in p.read_text(encoding="utf-8").splitlines()]
    archs = [a for a in archs if a and not a.startswith("#")]
    if not archs:
        raise ValueError(f"architecture list {p} is empty")
    return archs


def cmd_score(args: argparse.Namespace) -> int:
    import torch

    from zeroshot_nas.scoring import score_archs

    if args.threads is not None:
        if args.threads < 1:
            raise ValueError(f"--threads must be >= 1, got {args.threads}")
        torch.set_num_threads(args.threads)
    if args.device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("--device cuda requested but CUDA is not available")
    protocol = Protocol(
        batch_size=args.batch_size,
        bn_mode=args.bn_mode,
        dtype=args.dtype,
        init=args.init,
        seed=args.seed,
        device=args.device
        if args.device != "auto"
        else ("cuda" if torch.cuda.is_available() else "cpu"),
        ntk_batch_size=args.ntk_batch_size,
    )
    score_archs(
        args.space,
        args.dataset,
        args.seed,
        read_archs(args.archs),
        resolve_names(args.proxies),
        protocol,
        args.images,
        args.cache_dir,
        args.out,
        mode=args.mode,
        progress=not args.no_progress,
    )
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    header = f"{'name':15s} {'family':11s} {'better':7s} {'[0,1]':6s} {'labels':7s} paper"
    print(header)
    print("-" * len(header))
    for spec in REGISTRY.values():
        print(
            f"{spec.name:15s} {spec.family:11s} {'higher' if spec.higher_is_better else 'lower':7s} "
            f"{'yes' if spec.bounded01 else 'no':6s} {'yes' if spec.needs_labels else 'no':7s} "
            f"{spec.paper}"
        )
        if args.verbose_descriptions:
            print(f"{'':15s} {spec.description}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``score`` and ``list-proxies`` to the CLI."""
    p = subparsers.add_parser("score", help="score architectures with training-free proxies")
    p.add_argument("--space", required=True, choices=["nb201", "nats_sss"])
    p.add_argument("--dataset", required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--archs", required=True, help="file with one arch string per line")
    p.add_argument("--proxies", default="all", help="comma-separated names, or 'all'")
    p.add_argument("--images", required=True, help="prepared image sample (.npz)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--ntk-batch-size", type=int, default=16)
    p.add_argument("--bn-mode", choices=BN_MODES, default="train")
    p.add_argument("--dtype", choices=DTYPES, default="float32")
    p.add_argument("--init", choices=INITS, default="default")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="cpu")
    p.add_argument("--mode", choices=["fused", "standalone"], default="fused")
    p.add_argument("--cache-dir", required=True)
    p.add_argument("--out", required=True, help="output Parquet file")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_score)

    q = subparsers.add_parser("list-proxies", help="table of the registered proxies")
    q.add_argument("--verbose-descriptions", action="store_true", help="print definitions too")
    q.set_defaults(func=cmd_list)
