"""``driftscope apply``: register what the config declares."""

import argparse
from collections import Counter

from driftscope.cli.common import add_config_argument, load, open_store


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``apply`` command."""
    parser = commands.add_parser("apply", help="register models, versions, reference data and monitors")
    add_config_argument(parser)
    parser.add_argument("--replace-references", action="store_true",
                        help="replace a version's reference data when the file changed")
    parser.set_defaults(handler=_apply)


def _apply(args: argparse.Namespace) -> int:
    from driftscope.apply import apply_config

    config = load(args)
    with open_store(config) as engine:
        applied = apply_config(config, engine, replace_references=args.replace_references)
    for item in applied:
        if item.change != "unchanged":
            print(f"{item.change:9} {item.kind:9} {item.name}")
    totals = Counter(item.change for item in applied)
    print(f"apply: {totals['created']} created, {totals['updated']} updated, {totals['unchanged']} unchanged")
    return 0
