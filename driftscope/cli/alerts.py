"""``driftscope alerts`` and ``driftscope retrain``: alerts and retraining requests."""

import argparse

from driftscope.cli.common import add_config_argument
from driftscope.cli.pending import not_available


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``alerts`` command."""
    parser = commands.add_parser("alerts", help="list, acknowledge and resolve alerts")
    add_config_argument(parser)
    parser.set_defaults(handler=not_available("alerts", "alerting"))
    retrain = commands.add_parser("retrain", help="request retraining of a model version; list and complete requests")
    add_config_argument(retrain)
    retrain.set_defaults(handler=not_available("retrain", "alerting"))
