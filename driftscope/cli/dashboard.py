"""``driftscope dashboard``: start the Streamlit dashboard."""

import argparse

from driftscope.cli.common import add_config_argument
from driftscope.cli.pending import not_available


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``dashboard`` command."""
    parser = commands.add_parser("dashboard", help="start the Streamlit dashboard")
    add_config_argument(parser)
    parser.set_defaults(handler=not_available("dashboard", "the dashboard"))
