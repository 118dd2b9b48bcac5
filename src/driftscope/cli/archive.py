"""``driftscope archive run | list | verify | restore``: the retention roll-over and its archive."""

import argparse
import sys
from datetime import datetime
from typing import TYPE_CHECKING

from driftscope.cli.common import add_config_argument, load, open_store, print_table
from driftscope.errors import ConfigError

if TYPE_CHECKING:
    from driftscope.config import Config


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``archive`` command group."""
    archive = commands.add_parser("archive", help="roll raw rows older than retention.raw over to Parquet")
    actions = archive.add_subparsers(dest="action", metavar="ACTION", required=True)
    run = actions.add_parser("run", help="archive every day older than retention.raw now (as the schedule would)")
    add_config_argument(run)
    run.set_defaults(handler=_run)
    listing = actions.add_parser("list", help="archived spans and rows per model version and kind")
    add_config_argument(listing)
    listing.set_defaults(handler=_list)
    verify = actions.add_parser("verify", help="read back every archive file and check rows and checksums")
    add_config_argument(verify)
    verify.set_defaults(handler=_verify)
    back = actions.add_parser("restore", help="put archived days of a version back into the store (idempotent)")
    add_config_argument(back)
    back.add_argument("--model", required=True)
    back.add_argument("--version", required=True)
    back.add_argument("--from", dest="start", required=True, type=_time, help="first day (ISO 8601, UTC)")
    back.add_argument("--until", dest="end", required=True, type=_time, help="end, exclusive (ISO 8601, UTC)")
    back.set_defaults(handler=_restore)


def _time(text: str) -> datetime:
    from driftscope.storage.archive import as_utc

    try:
        return as_utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r} (e.g. 2026-01-31)") from exc


def _retention(config: "Config") -> "Config":
    if config.retention is None:
        raise ConfigError("the configuration has no `retention:` section (raw, archive, schedule); "
                          "see examples/production.yaml")
    return config


def _run(args: argparse.Namespace) -> int:
    from driftscope.storage.archive import run_archive

    config = _retention(load(args))
    assert config.retention is not None
    with open_store(config) as engine:
        done = run_archive(engine, config.retention)
    print_table([{"model": d.model, "version": d.version, "day": f"{d.day:%Y-%m-%d}", "predictions": d.predictions,
                  "labels": d.labels, "outcomes": d.outcomes} for d in done],
                ("model", "version", "day", "predictions", "labels", "outcomes"))
    print(f"archive: {len(done)} days moved to {config.retention.archive}, {sum(d.predictions for d in done)} "
          f"predictions, {sum(d.labels for d in done)} labels and {sum(d.outcomes for d in done)} outcomes")
    return 0


def _list(args: argparse.Namespace) -> int:
    from driftscope.storage.archive_restore import LIST_COLUMNS, list_archive
    from driftscope.storage.db import read_transaction

    config = load(args)
    with open_store(config) as engine, read_transaction(engine) as session:
        frame = list_archive(session)
    print_table([{str(k): v for k, v in row.items()} for row in frame.to_dict("records")], LIST_COLUMNS)
    return 0


def _verify(args: argparse.Namespace) -> int:
    from driftscope.storage.archive_restore import verify_archive

    config = load(args)
    with open_store(config) as engine:
        problems = verify_archive(engine)
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"archive verify: {len(problems)} problems")
    return 1 if problems else 0


def _restore(args: argparse.Namespace) -> int:
    from driftscope.storage.archive_restore import restore

    config = load(args)
    with open_store(config) as engine:
        done = restore(engine, model=args.model, version=args.version, start=args.start, end=args.end)
    print(f"restore: {done.days} days of {args.model} {args.version} put back, {done.predictions} predictions, "
          f"{done.labels} labels and {done.outcomes} outcomes stored")
    return 0
