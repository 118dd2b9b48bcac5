"""Models and migrations agree, migrations round-trip, and the SQLite settings hold."""

import os
import threading
import time

import pytest
from sqlalchemy import inspect, text

from driftscope.storage import migrations
from driftscope.storage.db import make_engine, transaction
from driftscope.storage.models import Base


def test_migrations_match_models(engine) -> None:
    assert migrations.schema_differences(engine) == []
    assert migrations.current_revision(engine=engine) == migrations.head_revision()


def test_every_model_table_is_created(engine) -> None:
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())


def test_predictions_are_laid_out_for_bulk_load(engine) -> None:
    indexes = {tuple(index["column_names"]) for index in inspect(engine).get_indexes("predictions")}
    assert indexes == {("model_version_id", "ts")}
    if engine.dialect.name != "postgresql":
        return
    with engine.connect() as conn:
        collations = conn.execute(text(
            "SELECT table_name, collation_name FROM information_schema.columns "
            "WHERE column_name = 'prediction_id' AND table_schema = current_schema()"
        )).all()
        storage = conn.execute(text(
            "SELECT attrelid::regclass::text, attname, attstorage FROM pg_attribute "
            "WHERE attrelid IN ('prediction_chunks'::regclass, 'profiles'::regclass) "
            "AND attname IN ('data', 'sketch', 'counts')"
        )).all()
    assert dict(collations) == {"predictions": "C", "ground_truth": "C", "outcomes": "C"}
    assert {(table, column): kind for table, column, kind in storage} == {
        ("prediction_chunks", "data"): "e", ("profiles", "sketch"): "e", ("profiles", "counts"): "e"}


def test_upgrade_downgrade_upgrade(scratch_url) -> None:
    assert migrations.upgrade(scratch_url) == migrations.head_revision()
    migrations.downgrade(scratch_url, "base")
    engine = make_engine(scratch_url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrations.upgrade(scratch_url)
    assert migrations.schema_differences(engine) == []
    engine.dispose()


def test_require_current_names_the_fix(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with pytest.raises(Exception, match="driftscope db upgrade"):
        migrations.require_current(engine)


def test_sqlite_pragmas(sqlite_engine) -> None:
    with sqlite_engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


def test_sqlite_two_writers_at_once(sqlite_url) -> None:
    """Two engines (as a collector and a monitor would) write concurrently without 'database is locked'."""
    errors: list[BaseException] = []

    def write(prefix: str) -> None:
        engine = make_engine(sqlite_url)
        try:
            for i in range(30):
                with transaction(engine) as session:
                    session.execute(
                        text("INSERT INTO collector_state (source, watermark) VALUES (:s, :w)"),
                        {"s": f"{prefix}{i}", "w": str(i)},
                    )
        except BaseException as exc:
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=write, args=(p,)) for p in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    engine = make_engine(sqlite_url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM collector_state").scalar() == 60
    engine.dispose()


def test_database_url_from_environment(monkeypatch) -> None:
    from driftscope.storage.db import database_url

    monkeypatch.setenv("DRIFTSCOPE_DATABASE_URL", "sqlite:///elsewhere.db")
    assert database_url() == "sqlite:///elsewhere.db"
    monkeypatch.delenv("DRIFTSCOPE_DATABASE_URL")
    assert database_url() == "sqlite:///driftscope.db"
    assert database_url("postgresql://x/y") == "postgresql://x/y"
    assert os.environ.get("DRIFTSCOPE_DATABASE_URL") is None


def test_a_reader_does_not_wait_for_a_writer(sqlite_url) -> None:
    """A read transaction proceeds while another connection holds SQLite's writer lock."""
    from driftscope.storage.db import read_transaction

    writer_engine, reader_engine = make_engine(sqlite_url), make_engine(sqlite_url)
    try:
        with transaction(writer_engine) as writer:
            writer.execute(text("INSERT INTO collector_state (source, watermark) VALUES ('s', '1')"))
            started = time.perf_counter()
            with read_transaction(reader_engine) as reader:
                count = reader.execute(text("SELECT count(*) FROM collector_state")).scalar()
            assert count == 0 and time.perf_counter() - started < 2
    finally:
        writer_engine.dispose()
        reader_engine.dispose()
