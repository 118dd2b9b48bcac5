"""``driftscope scheduler``: run sources and monitors on their schedules (or each once with ``--once``)."""

import argparse

from driftscope.cli.common import add_config_argument, load
from driftscope.durations import parse_duration


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``scheduler`` command."""
    parser = commands.add_parser(
        "scheduler", help="run sources and monitors on their schedules",
        description="Runs every scheduled source and monitor, evaluates alert rules and delivers "
        "notifications, until SIGTERM or Ctrl-C (once: finish the jobs in flight; twice: exit at once). "
        "Jobs persist in the store, so a restart resumes the schedule.",
    )
    add_config_argument(parser)
    parser.add_argument("--once", action="store_true", help="run every scheduled job once, in order, and exit")
    parser.add_argument(
        "--retry-delay", type=parse_duration, default=None, metavar="DURATION",
        help="wait before the first retry of an undelivered notification; doubles per attempt up to 1h "
        "(default: the notification backoff's base delay)",
    )
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from driftscope.alerting.notify import DEFAULT_BACKOFF
    from driftscope.scheduler import run_once, run_scheduler

    load(args)
    retry_base = args.retry_delay or DEFAULT_BACKOFF.base
    if args.once:
        return run_once(args.config, retry_base=retry_base)
    return run_scheduler(args.config, retry_base=retry_base)
