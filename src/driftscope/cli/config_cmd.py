"""``driftscope config check``: validate a configuration file."""

import argparse
import sys

from driftscope.cli.common import add_config_argument, load


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``config`` command group."""
    parser = commands.add_parser("config", help="validate configuration")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = actions.add_parser("check", help="validate a driftscope.yaml and exit non-zero if it is invalid")
    add_config_argument(check)
    check.set_defaults(handler=_check)


def _check(args: argparse.Namespace) -> int:
    from driftscope.redact import MIN_SECRET_CHARS, short_secrets  # pydantic: not for --help

    config = load(args)
    short = short_secrets(config)
    if short:
        print(f"{args.config}: secrets shorter than {MIN_SECRET_CHARS} characters at {', '.join(short)}: such a "
              "secret cannot be scrubbed from logs and stored errors without masking ordinary words (and is "
              "guessed at once); set a longer one", file=sys.stderr)
        return 1
    print(
        f"{args.config}: ok — {len(config.models)} models, {len(config.sources)} sources, "
        f"{len(config.monitors)} monitors, {len(config.alerts.rules)} alert rules, {len(config.channels)} channels"
    )
    return 0
