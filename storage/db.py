"""Engine and session factories; SQLite pragmas so a collector and a monitor can write at once.

SQLite: WAL journal, foreign keys on, a 30 s busy timeout, ``synchronous=NORMAL`` and transactions
opened with ``BEGIN IMMEDIATE`` so a writer waits for the lock instead of failing on upgrade;
:func:`read_transaction` opens plain ``BEGIN`` for readers, which never wait for writers in WAL mode.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import CursorResult, Engine, Result, create_engine, event
from sqlalchemy.engine import URL, ExceptionContext, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from driftscope.errors import ConfigError
from driftscope.extras import require
from driftscope.naming import DEFAULT_DATABASE_URL

SQLITE_BUSY_TIMEOUT_MS = 30_000
_READ_ONLY = "driftscope_read_only"
_STORE_ATTRIBUTE = "driftscope_store"


def database_url(explicit: str | None = None) -> str:
    """Return ``explicit``, else ``$DRIFTSCOPE_DATABASE_URL``, else ``sqlite:///driftscope.db``."""
    return explicit or os.environ.get("DRIFTSCOPE_DATABASE_URL") or DEFAULT_DATABASE_URL


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """Create an engine for ``url`` (see :func:`database_url`) with driftscope's settings.

    PostgreSQL URLs without a driver use psycopg 3. Extra keyword arguments go to
    :func:`sqlalchemy.create_engine`.

    Examples
    --------
    >>> engine = make_engine("sqlite://")
    >>> with engine.connect() as conn:
    ...     conn.exec_driver_sql("PRAGMA foreign_keys").scalar()
    1
    """
    try:
        parsed = make_url(database_url(url))
    except ArgumentError as exc:
        raise ConfigError(f"database_url: not a SQLAlchemy URL: {url!r}") from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs)
        _configure_sqlite(engine)
    else:
        if parsed.drivername == "postgresql+psycopg":
            require("psycopg", "postgres")
        kwargs.setdefault("pool_pre_ping", True)
        engine = create_engine(parsed, **kwargs)
    event.listen(engine, "handle_error", _name_the_store)
    return engine


def _name_the_store(context: ExceptionContext) -> None:
    """Attach the masked URL of the failing store to the exception (see :func:`failed_store`)."""
    if context.sqlalchemy_exception is not None and context.engine is not None:
        setattr(context.sqlalchemy_exception, _STORE_ATTRIBUTE, masked_url(context.engine.url))


def masked_url(url: str | URL) -> str:
    """``url`` with its password replaced by ``***``, for messages and logs.

    Examples
    --------
    >>> masked_url("postgresql+psycopg://app:s3cret@db.internal:5432/monitoring")
    'postgresql+psycopg://app:***@db.internal:5432/monitoring'
    """
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<not a database URL>"


def failed_store(exc: BaseException) -> str | None:
    """The masked URL of the store an engine error came from, when :func:`make_engine` made its engine."""
    return getattr(exc, _STORE_ATTRIBUTE, None)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(_READ_ONLY) else "BEGIN IMMEDIATE")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Return a session factory bound to ``engine`` that keeps objects usable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """Open a session and a transaction; commit on success, roll back on error.

    Examples
    --------
    >>> engine = make_engine("sqlite://")
    >>> with transaction(engine) as session:
    ...     session.connection().exec_driver_sql("SELECT 1").scalar()
    1
    """
    with session_factory(engine)() as session, session.begin():
        yield session


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Session]:
    """Open a session for reading only; on SQLite it never takes the writer lock.

    SQLite transactions otherwise start with ``BEGIN IMMEDIATE`` (see :func:`transaction`), which
    would make a long read wait for, and block, the collectors' writes. The transaction is rolled
    back at the end: nothing written in it is kept.

    Examples
    --------
    >>> engine = make_engine("sqlite://")
    >>> with read_transaction(engine) as session:
    ...     session.connection().exec_driver_sql("SELECT 2").scalar()
    2
    """
    with engine.connect() as connection:
        connection = connection.execution_options(**{_READ_ONLY: True})
        with connection.begin() as outer, Session(bind=connection, expire_on_commit=False) as session:
            yield session
            outer.rollback()


def is_postgres(engine_or_session: Engine | Session) -> bool:
    """True when the bind is PostgreSQL (COPY and other server-side paths apply)."""
    bind = engine_or_session.get_bind() if isinstance(engine_or_session, Session) else engine_or_session
    return bind.dialect.name == "postgresql"


def rowcount(result: Result[Any]) -> int:
    """Rows changed by the INSERT, UPDATE or DELETE whose ``session.execute`` returned ``result``."""
    if not isinstance(result, CursorResult):
        raise TypeError(f"rowcount needs the result of a DML statement, got {type(result).__name__}")
    return int(result.rowcount)


def driver_connection(session: Session) -> Any:
    """The DB-API connection (sqlite3 or psycopg) under ``session``'s current transaction."""
    driver = session.connection().connection.driver_connection
    if driver is None:
        raise RuntimeError("the session's connection has no driver connection (it was closed)")
    return driver
