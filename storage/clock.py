"""The database's clock: one dialect-aware place for "now" in leases, claims and throttles.

Two scheduler processes on different hosts disagree about the time by their clock skew; a lease
taken with one host's clock and checked with another's can expire early or late. Every time that
decides who holds what comes from the store instead (cf. Prefect's server, whose query components
hold the dialect differences): PostgreSQL's ``clock_timestamp()`` (the real time, not the start of
the transaction), SQLite's ``strftime('%Y-%m-%d %H:%M:%f', 'now')`` (an embedded database: the
clock of the host that opens the file).
"""

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from driftscope.storage.db import is_postgres

_SQLITE_NOW = func.strftime("%Y-%m-%d %H:%M:%f", "now")


def db_now(session: Session) -> datetime:
    """The store's current time, timezone-aware UTC (one round trip).

    Examples
    --------
    >>> from driftscope.storage.db import make_engine, transaction
    >>> with transaction(make_engine("sqlite://")) as session:
    ...     abs((db_now(session) - datetime.now(UTC)).total_seconds()) < 5
    True
    """
    if is_postgres(session):
        value = session.execute(select(func.clock_timestamp())).scalar_one()
        return value.astimezone(UTC)
    text = session.execute(select(_SQLITE_NOW)).scalar_one()
    return datetime.fromisoformat(text).replace(tzinfo=UTC)
