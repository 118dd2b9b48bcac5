"""``driftscope monitor``: compute drift and performance monitors."""

import argparse

from driftscope.cli.common import add_config_argument
from driftscope.cli.pending import not_available


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``monitor`` command."""
    parser = commands.add_parser("monitor", help="compute drift and performance monitors")
    add_config_argument(parser)
    parser.set_defaults(handler=not_available("monitor", "the monitors"))
    report = commands.add_parser("report", help="write Evidently's drift report for one window as HTML")
    add_config_argument(report)
    report.set_defaults(handler=not_available("report", "the monitors"))
