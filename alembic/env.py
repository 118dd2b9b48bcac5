"""Alembic environment: metadata from driftscope.storage.models, URL from the same settings as the app.

The URL comes from ``config.attributes["url"]`` (set by :mod:`driftscope.storage.migrations`), else
``$DRIFTSCOPE_DATABASE_URL``, else ``sqlite:///driftscope.db``. Tables owned by APScheduler's job
store are not ours and are left out of comparisons.
"""

from alembic import context
from sqlalchemy.engine import Connection

from driftscope.storage.db import database_url, make_engine
from driftscope.storage.migrations import include_object
from driftscope.storage.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    """Emit SQL to stdout without a connection (``alembic upgrade head --sql``)."""
    context.configure(
        url=config.attributes.get("url") or database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        include_object=include_object,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Apply migrations over a connection (given by the caller, or made from the URL)."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.attributes.get("url") or database_url())
    try:
        with engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=include_object,
        render_as_batch=True,
        compare_type=True,
        user_module_prefix="storage_models.",
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
