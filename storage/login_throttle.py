"""Failed dashboard sign-ins per user name and per client, with a growing delay, shared through the store.

Every dashboard process (and every restart) sees the same counts. A key's first
:data:`FREE_FAILURES` failures within :data:`WINDOW` cost nothing; each later one locks the key for
1 s, 2 s, 4 s... up to :data:`MAX_DELAY`. A success clears the user's key (not the client's, so
one valid account does not reset a client that guesses other names). Times come from the
database's clock. Keys are SHA-256 digests of ``user:<name>`` / ``client:<address>``.
"""

import hashlib
from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from driftscope.storage.clock import db_now
from driftscope.storage.db import is_postgres
from driftscope.storage.models import LoginThrottle

FREE_FAILURES = 3
WINDOW = timedelta(minutes=15)
MAX_DELAY = timedelta(minutes=15)


def throttle_key(kind: str, value: str) -> str:
    """The stored key of a user name (``kind="user"``) or a client address (``kind="client"``).

    Examples
    --------
    >>> throttle_key("user", "ann")[:12]
    'b7b15a392649'
    """
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


def delay_after(failures: int) -> timedelta:
    """The lock after the ``failures``-th failure in a row: none, then 1 s doubling up to :data:`MAX_DELAY`.

    Examples
    --------
    >>> [delay_after(n).total_seconds() for n in (1, 3, 4, 5, 8)]
    [0.0, 0.0, 1.0, 2.0, 16.0]
    """
    if failures <= FREE_FAILURES:
        return timedelta(0)
    return min(timedelta(seconds=2 ** min(failures - FREE_FAILURES - 1, 20)), MAX_DELAY)


def login_wait(session: Session, *, keys: Iterable[str]) -> timedelta:
    """How long sign-in stays locked for any of ``keys`` (zero when it is open)."""
    now = db_now(session)
    until = session.execute(select(LoginThrottle.locked_until).where(LoginThrottle.key.in_(list(keys)))).scalars()
    return max([u - now for u in until if u > now], default=timedelta(0))


def record_login_failure(session: Session, *, keys: Iterable[str]) -> timedelta:
    """Count a failed sign-in against each key; returns the longest lock it caused. Flushes."""
    now = db_now(session)
    insert = pg_insert if is_postgres(session) else sqlite_insert
    longest = timedelta(0)
    for key in keys:
        session.execute(insert(LoginThrottle).values(key=key, failures=0, last_failure_at=now, locked_until=now)
                        .on_conflict_do_nothing(index_elements=["key"]))
        row = session.get(LoginThrottle, key, with_for_update=True, populate_existing=True)
        assert row is not None  # inserted above
        failures = 1 if row.last_failure_at < now - WINDOW and row.locked_until <= now else row.failures + 1
        row.failures, row.last_failure_at = failures, now
        row.locked_until = max(row.locked_until, now + delay_after(failures))
        longest = max(longest, row.locked_until - now)
    session.flush()
    return longest


def clear_login_failures(session: Session, *, keys: Iterable[str]) -> None:
    """Forget the failures of ``keys`` (after a successful sign-in). Flushes."""
    session.execute(delete(LoginThrottle).where(LoginThrottle.key.in_(list(keys))))
    session.flush()
