"""``driftscope config check``: validate a configuration file."""

import argparse

from driftscope.cli.common import add_config_argument, load


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``config`` command group."""
    parser = commands.add_parser("config", help="validate configuration")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = actions.add_parser("check", help="validate a driftscope.yaml and exit non-zero if it is invalid")
    add_config_argument(check)
    check.set_defaults(handler=_check)


def _check(args: argparse.Namespace) -> int:
    config = load(args)
    print(
        f"{args.config}: ok — {len(config.models)} models, {len(config.sources)} sources, "
        f"{len(config.monitors)} monitors, {len(config.alerts.rules)} alert rules, {len(config.channels)} channels"
    )
    return 0
