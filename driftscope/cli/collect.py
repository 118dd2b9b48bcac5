"""``driftscope collect``: pull predictions and labels from the configured sources."""

import argparse

from driftscope.cli.common import add_config_argument
from driftscope.cli.pending import not_available


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``collect`` command."""
    parser = commands.add_parser("collect", help="pull predictions and labels from the configured sources")
    add_config_argument(parser)
    parser.set_defaults(handler=not_available("collect", "the collectors"))
    quarantine = commands.add_parser("quarantine", help="list or replay quarantined rows")
    add_config_argument(quarantine)
    quarantine.set_defaults(handler=not_available("quarantine", "the collectors"))
