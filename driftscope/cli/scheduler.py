"""``driftscope scheduler``: run sources and monitors on their schedules."""

import argparse

from driftscope.cli.common import add_config_argument
from driftscope.cli.pending import not_available


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``scheduler`` command."""
    parser = commands.add_parser("scheduler", help="run sources and monitors on their schedules")
    add_config_argument(parser)
    parser.set_defaults(handler=not_available("scheduler", "the scheduler"))
