"""The ``driftscope`` command line: one module per command group, each with ``register(subparsers)``."""

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from driftscope import __version__
from driftscope.cli import (
    alerts,
    apply_cmd,
    archive,
    collect,
    config_cmd,
    dashboard,
    db,
    demo,
    exporter,
    monitor,
    scheduler,
)
from driftscope.errors import ConfigError, DriftscopeError

if TYPE_CHECKING:
    from sqlalchemy.exc import DBAPIError

COMMAND_MODULES = (db, config_cmd, apply_cmd, collect, archive, monitor, alerts, scheduler, exporter, dashboard, demo)


def build_parser() -> argparse.ArgumentParser:
    """The full parser: ``driftscope --help`` lists every command."""
    parser = argparse.ArgumentParser(
        prog="driftscope",
        description="Model monitoring and drift detection: collect, monitor, alert, explore.",
    )
    parser.add_argument("--version", action="version", version=f"driftscope {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMAND_MODULES:
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0 ok, 1 failure, 2 usage or config error)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    if not args.verbose:
        logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        return int(args.handler(args) or 0)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except DriftscopeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # SQLAlchemy is imported only by commands that use a store
        from sqlalchemy.exc import InterfaceError, OperationalError

        if not isinstance(exc, OperationalError | InterfaceError):
            raise
        if args.verbose:
            logging.getLogger(__name__).exception("the database failed")
        print(f"error: {store_failure(exc)}", file=sys.stderr)
        return 1


def store_failure(exc: "DBAPIError") -> str:
    """One line for a store that cannot be reached or used: which URL (password masked), why, what to check."""
    from driftscope.storage.db import failed_store

    reason = str(exc.orig if exc.orig is not None else exc).strip().splitlines() or ["unknown error"]
    store = failed_store(exc) or "the configured database"
    return (f"cannot use the database {store}: {reason[0]} -- check that the server runs and is reachable, that "
            "the database (or the SQLite file's folder) exists, and the credentials in database_url or "
            "DRIFTSCOPE_DATABASE_URL")
