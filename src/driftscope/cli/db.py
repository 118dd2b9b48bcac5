"""``driftscope db upgrade|current|backfill-profiles``: schema migrations and profile backfill."""

import argparse
from pathlib import Path

from driftscope.cli.common import add_config_argument


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``db`` command group."""
    parser = commands.add_parser("db", help="create or migrate the store's tables")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, handler, text in (
        ("upgrade", _upgrade, "apply every migration (creates the tables on a new store)"),
        ("current", _current, "print the store's schema revision"),
        ("backfill-profiles", _backfill,
         "recompute every version's profiles from its reference and stored rows, its label profiles, and the "
         "daily roll-ups of its profiles"),
    ):
        sub = actions.add_parser(name, help=text)
        sub.add_argument("--database-url", help="SQLAlchemy URL (default: the config's, else $DRIFTSCOPE_DATABASE_URL)")
        add_config_argument(sub)
        sub.set_defaults(handler=handler)


def _url(args: argparse.Namespace) -> str:
    from driftscope.config import load_config
    from driftscope.storage.db import database_url

    if args.database_url:
        return args.database_url
    if Path(args.config).exists():
        return load_config(args.config).database_url
    return database_url()


def _upgrade(args: argparse.Namespace) -> int:
    from driftscope.storage import migrations

    revision = migrations.upgrade(_url(args))
    print(f"store is at revision {revision}")
    return 0


def _current(args: argparse.Namespace) -> int:
    from driftscope.storage import migrations

    revision = migrations.current_revision(_url(args))
    head = migrations.head_revision()
    print(f"store is at revision {revision or 'none'} (newest: {head})")
    return 0 if revision == head else 1


def _backfill(args: argparse.Namespace) -> int:
    from driftscope.pipeline import roll_up_profiles
    from driftscope.storage.db import make_engine, transaction
    from driftscope.storage.profiles.backfill import backfill_all
    from driftscope.storage.profiles.labelled_store import backfill_labelled_all

    engine = make_engine(_url(args))
    try:
        with transaction(engine) as session:
            done = backfill_all(session)
            labelled = backfill_labelled_all(session)
        rolled = roll_up_profiles(engine, budget_s=float("inf"))
    finally:
        engine.dispose()
    for version_id, n_rows in done.items():
        print(f"model version id {version_id}: profiled {n_rows} stored rows")
    for version_id, n_labelled in labelled.items():
        print(f"model version id {version_id}: profiled {n_labelled} labelled rows")
    print(f"rolled up the profiles of {rolled} ended days")
    return 0
