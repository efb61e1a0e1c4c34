"""Command-line entry point: the commands the Snakemake rules call.

Each subpackage contributes its commands through a ``commands`` module exposing
``register(subparsers)``; this keeps rule-facing code next to the library it calls
and lets a new stage add commands without editing this file's logic.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from zeroshot_nas.errors import UserError

COMMAND_MODULES = (
    "zeroshot_nas.data.commands",
    "zeroshot_nas.proxies.commands",
    "zeroshot_nas.pipeline.commands",
    "zeroshot_nas.stats.commands",
    "zeroshot_nas.plots.commands",
    "zeroshot_nas.search.commands",
    "zeroshot_nas.paper.commands",
    "zeroshot_nas.interop.commands",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="zeroshot-nas", description="Training-free NAS pipeline commands."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        result = args.func(args)
    except (UserError, ValueError, FileNotFoundError) as err:
        # Problems the user can fix: one clear line, non-zero exit. Anything else (a bug,
        # torch's own RuntimeError) propagates with its traceback.
        print(f"zeroshot-nas {args.command}: error: {err}", file=sys.stderr)
        return 2
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
