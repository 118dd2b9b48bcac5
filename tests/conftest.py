"""Shared fixtures: a real SQLite file and a real PostgreSQL database per test session.

PostgreSQL comes from ``DRIFTSCOPE_TEST_PG_URL`` (e.g.
``postgresql+psycopg://postgres@127.0.0.1:5432/test``). Each session creates its own database,
migrates it, and drops it at the end, so concurrent runs never collide. Without the URL the
PostgreSQL tests skip and say how to enable them; with ``DRIFTSCOPE_REQUIRE_PG=1`` an unreachable
server fails the run instead.
"""

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from driftscope.storage import migrations
from driftscope.storage.db import make_engine
from driftscope.storage.models import Base

PG_ENV = "DRIFTSCOPE_TEST_PG_URL"
DASHBOARD_ENV = ("DRIFTSCOPE_CONFIG", "DRIFTSCOPE_DATABASE_URL", "DRIFTSCOPE_DASHBOARD_USERS")

# Properties are about values, not speed: the machines are shared, and a per-example deadline turned
# a busy minute into a failure (a 200 ms deadline missed at 404 ms under load).
settings.register_profile("driftscope", deadline=None)
settings.load_profile("driftscope")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that runs on the PostgreSQL parameter with ``postgres``."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and "postgres" in callspec.id.split("-"):
            item.add_marker(pytest.mark.postgres)


def _pg_unavailable(reason: str) -> None:
    if os.environ.get("DRIFTSCOPE_REQUIRE_PG") == "1":
        pytest.fail(f"PostgreSQL is required (DRIFTSCOPE_REQUIRE_PG=1) but {reason}", pytrace=False)
    pytest.skip(f"{reason}; set {PG_ENV}=postgresql+psycopg://postgres@127.0.0.1:5432/test to run it")


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """URL of a fresh, migrated PostgreSQL database for this test session (dropped afterwards)."""
    base = os.environ.get(PG_ENV)
    if not base:
        _pg_unavailable(f"{PG_ENV} is not set")
    admin = create_engine(make_url(base), isolation_level="AUTOCOMMIT")
    name = f"driftscope_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        admin.dispose()
        _pg_unavailable(f"the server at {make_url(base).render_as_string(hide_password=True)} is unreachable: {exc}")
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    try:
        migrations.upgrade(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test instead of migrating again."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    migrations.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """URL of a fresh, migrated SQLite file for one test."""
    path = tmp_path / "driftscope.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


def _truncate_all(engine: Engine) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest) -> str:
    """A migrated, empty store: a fresh SQLite file, or the session's PostgreSQL database emptied."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    url = request.getfixturevalue("pg_url")
    engine = make_engine(url)
    _truncate_all(engine)
    engine.dispose()
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on :func:`db_url` (both databases)."""
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> Iterator[Engine]:
    """An engine on a fresh SQLite file only, for tests whose subject is not the database."""
    eng = make_engine(sqlite_url)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The real demo (files, collectors, 60 days of monitors, rule replay, mails to demo/inbox), built once."""
    from driftscope.demo.run import run_demo

    return run_demo(tmp_path_factory.mktemp("demo") / "demo", dashboard=False)


@pytest.fixture
def clean_streamlit(monkeypatch: pytest.MonkeyPatch) -> None:
    """No dashboard configuration from the caller's environment and no Streamlit cache left by another test.

    The dashboard test modules use it for every test (``pytestmark``).
    """
    import streamlit

    for name in DASHBOARD_ENV:
        monkeypatch.delenv(name, raising=False)
    streamlit.cache_data.clear()
    streamlit.cache_resource.clear()


@pytest.fixture(params=["sqlite", "postgres"])
def scratch_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty, unmigrated database: a new SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'scratch.db'}"
        return
    base = request.getfixturevalue("pg_url")
    admin = create_engine(make_url(base), isolation_level="AUTOCOMMIT")
    name = f"driftscope_scratch_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(base).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
