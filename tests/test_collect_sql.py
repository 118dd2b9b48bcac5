"""The sql source against a second SQLite file and a PostgreSQL database: watermarks, ties, corrections."""

import json
import os
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pandas as pd
import pytest
from conftest import PG_ENV
from factories import canonical_predictions
from helpers_collect import (
    MODEL,
    T0,
    assert_identity,
    files_source,
    labels,
    log_rows,
    quarantined,
    setup,
    stored_ids,
    watermark,
)
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from driftscope.collectors import collect
from driftscope.collectors.sql import decode_position
from driftscope.storage.collector_state import ConcurrentCollectError, advance_watermark
from driftscope.storage.db import transaction
from driftscope.storage.labels import label_history, labels_for_window
from driftscope.storage.predictions import write_predictions
from driftscope.storage.registry import get_model_id, get_version


@pytest.fixture(scope="module")
def pg_source_url() -> Iterator[str]:
    """A scratch PostgreSQL database playing the label store of a serving stack."""
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} is not set")
    admin = create_engine(make_url(base), isolation_level="AUTOCOMMIT")
    name = f"collect_source_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def outcomes(ids: list[str], values: list[int], minutes: list[int]) -> pd.DataFrame:
    return pd.DataFrame({"request_id": ids, "is_default": values,
                         "updated_at": [T0 + timedelta(days=2, minutes=m) for m in minutes]})


def load(url: str, table: str, frame: pd.DataFrame) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        frame.to_sql(table, conn, if_exists="append", index=False)
    engine.dispose()


def label_source(url: str, **options: object) -> dict:
    return {"name": "labels", "kind": "sql", "model": MODEL, "records": "ground_truth", "url": url,
            "table": "outcomes", "watermark": "updated_at", "columns": {"defaulted": "is_default"},
            "page_size": 7, **options}


def test_labels_are_read_past_the_watermark_with_ties_across_pages(engine, tmp_path) -> None:
    source_url = f"sqlite:///{tmp_path / 'labels.db'}"
    ids = [f"r{i}" for i in range(20)]
    load(source_url, "outcomes", outcomes(ids, [i % 2 for i in range(20)], [i // 9 for i in range(20)]))
    config = setup(tmp_path, engine, [label_source(source_url)])

    [first] = collect(engine, config)
    [again] = collect(engine, config)
    load(source_url, "outcomes", outcomes(["r3", "r4", "r20"], [0, 0, 1], [5, 5, 5]))
    [third] = collect(engine, config)

    assert (first.status, first.rows_read, first.rows_stored) == ("succeeded", 20, 20)
    assert (again.rows_read, again.rows_stored) == (0, 0)
    assert (third.rows_read, third.rows_stored, third.rows_duplicate) == (3, 2, 1)
    assert_identity(third)
    value, key = decode_position(watermark(engine, "labels"))
    assert key == "r4" and str(value).startswith("2026-01-03 00:05")
    with transaction(engine) as session:
        history = label_history(session, model_id=get_model_id(session, MODEL), prediction_id="r3")
    assert history[["old_label", "new_label", "source"]].values.tolist() == [["1", "0", "labels"]]


def test_labels_before_their_predictions_join_when_they_arrive(engine, tmp_path) -> None:
    source_url = f"sqlite:///{tmp_path / 'labels.db'}"
    load(source_url, "outcomes", outcomes(["r0", "r1", "r9"], [1, 0, 1], [0, 1, 2]))
    (tmp_path / "logs").mkdir()
    config = setup(tmp_path, engine, [label_source(source_url), files_source("preds", "logs/*.parquet")])
    collect(engine, config, sources=["labels"])
    log_rows(5).to_parquet(tmp_path / "logs" / "a.parquet")

    collect(engine, config, sources=["preds"])

    assert labels(engine) == {"r0": "1", "r1": "0"}


def test_label_time_is_the_watermark_when_the_rows_have_no_timestamp(sqlite_engine, tmp_path) -> None:
    source_url = f"sqlite:///{tmp_path / 'labels.db'}"
    load(source_url, "outcomes", outcomes(["r0"], [1], [30]))
    config = setup(tmp_path, sqlite_engine, [label_source(source_url)])

    collect(sqlite_engine, config)

    with transaction(sqlite_engine) as session:
        info = get_version(session, MODEL, "1.0")
        write_predictions(session, model_version_id=info.id, frame=canonical_predictions(1, id_prefix="r"),
                          source="t")
        joined = labels_for_window(session, model_id=info.model_id, model_version_id=info.id, start=T0,
                                   end=T0 + timedelta(days=1))
    assert joined["label_ts"].tolist() == [T0 + timedelta(days=2, minutes=30)]


@pytest.mark.postgres
def test_a_postgres_table_is_a_source_too(sqlite_engine, tmp_path, pg_source_url) -> None:
    table = f"outcomes_{uuid.uuid4().hex[:6]}"
    load(pg_source_url, table, outcomes([f"r{i}" for i in range(15)], [1] * 15, [0] * 8 + [1] * 7))
    config = setup(tmp_path, sqlite_engine, [label_source(pg_source_url, table=table, page_size=4)])

    [first] = collect(sqlite_engine, config)
    load(pg_source_url, table, outcomes(["r15"], [0], [2]))
    [second] = collect(sqlite_engine, config)

    assert (first.rows_stored, second.rows_read, second.rows_stored) == (15, 1, 1)
    assert json.loads(watermark(sqlite_engine, "labels"))["value"][0] == "datetime"


def test_a_query_source_with_an_increasing_id_stores_predictions(engine, tmp_path) -> None:
    source_url = f"sqlite:///{tmp_path / 'serving.db'}"
    rows = log_rows(25).assign(seq=range(1, 26), ts=lambda f: f["ts"].dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
    rows.loc[4, "score"] = -1.0
    load(source_url, "served", rows)
    source = {"name": "served", "kind": "sql", "model": MODEL, "version": "2.0", "records": "predictions",
              "url": source_url, "query": "SELECT * FROM served WHERE region != 'nowhere'", "watermark": "seq",
              "page_size": 10}
    config = setup(tmp_path, engine, [source])

    [summary] = collect(engine, config)

    assert (summary.rows_read, summary.rows_stored, summary.rows_quarantined) == (25, 24, 1)
    assert quarantined(engine, "served")["location"].tolist() == ["query request_id=r4"]
    assert stored_ids(engine, "2.0") == sorted(f"r{i}" for i in range(25) if i != 4)
    assert decode_position(watermark(engine, "served")) == (25, "r24")


def test_an_unreachable_source_fails_alone(sqlite_engine, tmp_path) -> None:
    (tmp_path / "logs").mkdir()
    log_rows(3).to_parquet(tmp_path / "logs" / "a.parquet")
    config = setup(tmp_path, sqlite_engine, [label_source(f"sqlite:///{tmp_path / 'missing' / 'x.db'}"),
                                             files_source("preds", "logs/*.parquet")])

    broken, fine = collect(sqlite_engine, config)

    assert broken.status == "failed" and "labels" in broken.error and "outcomes" in broken.error
    assert (fine.status, fine.rows_stored) == ("succeeded", 3)


def test_a_second_collector_of_the_same_source_is_refused(sqlite_engine, tmp_path) -> None:
    setup(tmp_path, sqlite_engine, [])
    with transaction(sqlite_engine) as session:
        advance_watermark(session, source="s", expected=None, watermark="w1")
    with pytest.raises(ConcurrentCollectError, match="another collector"), transaction(sqlite_engine) as session:
        advance_watermark(session, source="s", expected=None, watermark="w2")
    assert watermark(sqlite_engine, "s") == "w1"
