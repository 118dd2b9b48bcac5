"""``driftscope demo``: build a demo store with real drift and open the dashboard."""

import argparse

from driftscope.cli.common import add_config_argument
from driftscope.cli.pending import not_available


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``demo`` command."""
    parser = commands.add_parser("demo", help="build a demo store with real drift and open the dashboard")
    add_config_argument(parser)
    parser.set_defaults(handler=not_available("demo", "the demo"))
