"""``zeroshot-nas score``, ``merge-scores`` and ``list-proxies``.

Option defaults are the protocol's, which come from the workflow schema.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from zeroshot_nas.config import check_ntk_batch_size, seed_argument
from zeroshot_nas.score_cache import NUMERICS_POLICIES
from zeroshot_nas.spaces import SPACES

from .protocol import BN_MODES, DTYPES, GRADIENT_LAYOUTS, INITS, KAIMING_MODES, Protocol
from .registry import REGISTRY, combinations, resolve_names

DEFAULT = Protocol()


def cmd_score(args: argparse.Namespace) -> int:
    import torch

    from zeroshot_nas.errors import UserError
    from zeroshot_nas.proxies.numerics import resolve_device
    from zeroshot_nas.scoring import score_archs
    from zeroshot_nas.spaces.sampling import read_archs

    check_ntk_batch_size(args.ntk_batch_size, args.batch_size, "--ntk-batch-size")
    if args.device == "cuda" and not torch.cuda.is_available():
        raise UserError("--device cuda requested but CUDA is not available")
    protocol = Protocol(
        batch_size=args.batch_size,
        bn_mode=args.bn_mode,
        dtype=args.dtype,
        init=args.init,
        kaiming_mode=args.kaiming_mode,
        gradient_layout=args.gradient_layout,
        seed=args.seed,
        device=resolve_device(args.device).type,
        ntk_batch_size=args.ntk_batch_size,
        threads=args.threads,
    )
    score_archs(args.space, args.dataset, args.seed, read_archs(args.archs),
                resolve_names(args.proxies), protocol, args.images, args.cache_dir, args.out,
                mode=args.mode, progress=not args.no_progress,
                cache_numerics=args.cache_numerics)
    return 0


def cmd_merge(args: argparse.Namespace) -> int:
    from zeroshot_nas.scoring import merge_scores

    merge_scores([Path(p) for p in args.shards],
                 Path(args.benchmark) if args.benchmark else None, Path(args.out))
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    header = f"{'name':17s} {'family':11s} {'better':7s} {'[0,1]':6s} {'labels':7s} paper"
    print(header)
    print("-" * len(header))
    for spec in REGISTRY.values():
        print(
            f"{spec.name:17s} {spec.family:11s} {'higher' if spec.higher_is_better else 'lower':7s} "
            f"{'yes' if spec.bounded01 else 'no':6s} {'yes' if spec.needs_labels else 'no':7s} "
            f"{spec.paper}"
        )
        if args.verbose_descriptions:
            print(f"{'':17s} {spec.description}")
            if spec.source:
                print(f"{'':17s} source: {spec.source}")
            if spec.needs_space:
                print(f"{'':17s} needs the search space's cell (not for any network)")
            if spec.heavy:
                print(f"{'':17s} heavy: left out of 'all' (name it to score it)")
    heavy = [spec.name for spec in REGISTRY.values() if spec.heavy]
    if heavy:
        print(f"\nLeft out of 'all' as heavy (name them, e.g. [all, {heavy[0]}]): "
              f"{', '.join(heavy)}")
    print("\ncombined over the architectures compared (added by the statistics):")
    for combo in combinations().values():
        print(f"{combo.name:17s} {'+'.join(combo.parts)} ({combo.method}, higher is better) "
              f"{combo.paper}")
        if args.verbose_descriptions:
            print(f"{'':17s} {combo.description}")
            if combo.source:
                print(f"{'':17s} source: {combo.source}")
    return 0


def add_protocol_options(p: argparse.ArgumentParser) -> None:
    """The protocol's options, with the schema's defaults."""
    p.add_argument("--batch-size", type=int, default=DEFAULT.batch_size)
    p.add_argument("--ntk-batch-size", type=int, default=DEFAULT.ntk_batch_size)
    p.add_argument("--bn-mode", choices=BN_MODES, default=DEFAULT.bn_mode)
    p.add_argument("--dtype", choices=DTYPES, default=DEFAULT.dtype)
    p.add_argument("--init", choices=INITS, default=DEFAULT.init)
    p.add_argument("--kaiming-mode", choices=KAIMING_MODES, default=DEFAULT.kaiming_mode)
    p.add_argument("--gradient-layout", choices=GRADIENT_LAYOUTS, default=DEFAULT.gradient_layout)
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default=DEFAULT.device)
    p.add_argument("--threads", type=int, default=DEFAULT.threads,
                   help="torch CPU threads (part of the protocol: another count changes the "
                   "last bits of some scores)")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``score``, ``merge-scores`` and ``list-proxies`` to the CLI."""
    p = subparsers.add_parser("score", help="score architectures with training-free proxies")
    p.add_argument("--space", required=True, choices=list(SPACES))
    p.add_argument("--dataset", required=True)
    p.add_argument("--seed", type=seed_argument, default=0)
    p.add_argument("--archs", required=True, help="file with one arch string per line")
    p.add_argument("--proxies", default="all", help="comma-separated names, or 'all'")
    p.add_argument("--images", required=True, help="prepared image sample (.npz)")
    add_protocol_options(p)
    p.add_argument("--mode", choices=["fused", "standalone"], default="fused")
    p.add_argument("--cache-dir", required=True)
    p.add_argument("--cache-numerics", choices=list(NUMERICS_POLICIES), default="exact",
                   help="any-cpu: also serve cached CPU values of this torch build computed on "
                        "another vector instruction set (default: only this machine's)")
    p.add_argument("--out", required=True, help="output Parquet file")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_score)

    m = subparsers.add_parser("merge-scores", help="merge shard tables with the benchmark")
    m.add_argument("--shards", nargs="+", required=True)
    m.add_argument("--benchmark", default=None)
    m.add_argument("--out", required=True)
    m.set_defaults(func=cmd_merge)

    q = subparsers.add_parser("list-proxies", help="table of the registered proxies")
    q.add_argument("--verbose-descriptions", action="store_true", help="print definitions too")
    q.set_defaults(func=cmd_list)
