"""Logs that carry the request (latency, status) and outcomes joined by prediction id (issue #13)."""

from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from helpers_collect import (
    MODEL,
    SCHEMA,
    T0,
    PagedApi,
    assert_identity,
    config_document,
    log_rows,
    quarantined,
    serve,
    stored,
)
from sqlalchemy import Engine, create_engine

import driftscope
from driftscope.apply import apply_config
from driftscope.collectors import collect, log_outcomes, log_predictions, replay_quarantine
from driftscope.config import Config, parse_config
from driftscope.storage.db import transaction
from driftscope.storage.outcomes import outcomes_for_window
from driftscope.storage.registry import get_version

SERVING_SCHEMA = {**SCHEMA, "latency": "latency_ms", "status": "status",
                  "outcomes": {"clicked": "binary", "revenue": "numeric"}}


def serving_setup(root: Path, engine: Engine, sources: list[dict[str, Any]] | None = None) -> Config:
    """The credit model with latency, status and two outcomes, registered in the store."""
    document = config_document(root, engine.url.render_as_string(hide_password=False), sources or [])
    document["models"][0]["schema"] = SERVING_SCHEMA
    config = parse_config(document, base_dir=root)
    apply_config(config, engine)
    return config


def joined(engine: Engine) -> pd.DataFrame:
    """Outcomes joined to the stored predictions of version 1.0, sorted."""
    with transaction(engine) as session:
        info = get_version(session, MODEL, "1.0")
        frame = outcomes_for_window(session, model_id=info.model_id, model_version_id=info.id,
                                    start=T0 - timedelta(days=1), end=T0 + timedelta(days=1))
    return frame.sort_values(["prediction_id", "outcome"]).reset_index(drop=True)


def test_failed_requests_are_stored_and_counted_invalid_statuses_quarantined(engine, tmp_path) -> None:
    serving_setup(tmp_path, engine)
    rows = log_rows(6).assign(latency_ms=[12.5, np.nan, 5000.0, 3.0, -1.0, 8.0],
                              status=["ok", "error", "timeout", "crashed", "ok", None])
    rows = rows.astype({"predicted_label": object, "score": object})
    rows.loc[[1, 2], ["predicted_label", "score"]] = None  # failed requests without a prediction

    summary = log_predictions(MODEL, "1.0", rows, engine=engine)
    assert (summary.rows_read, summary.rows_stored, summary.rows_quarantined) == (6, 4, 2)
    assert_identity(summary)
    frame = stored(engine).set_index("prediction_id")
    assert frame["status"].to_dict() == {"r0": "ok", "r1": "error", "r2": "timeout", "r5": "ok"}
    assert frame["latency_ms"].tolist()[:1] == [12.5] and np.isnan(frame.loc["r1", "latency_ms"])
    assert frame.loc[["r1", "r2"], "prediction"].isna().all()
    reasons = quarantined(engine, "python:credit-default:1.0")["reason"].tolist()
    assert reasons == ["status: not a status (ok, error or timeout): 'crashed'",
                       "latency_ms: not a latency (a finite number of milliseconds >= 0)"]


def test_an_ok_request_still_needs_its_prediction(sqlite_engine, tmp_path) -> None:
    serving_setup(tmp_path, sqlite_engine)
    rows = log_rows(2).assign(latency_ms=1.0, status="ok").astype({"predicted_label": object})
    rows.loc[0, "predicted_label"] = None

    summary = log_predictions(MODEL, "1.0", rows, engine=sqlite_engine)

    assert (summary.rows_stored, summary.rows_quarantined) == (1, 1)
    assert quarantined(sqlite_engine)["reason"].tolist() == ["predicted_label: missing prediction"]


def test_outcomes_before_and_after_their_predictions_join_exactly_once(engine, tmp_path) -> None:
    serving_setup(tmp_path, engine)
    early = pd.DataFrame({"request_id": ["r0", "r1", "r9"], "clicked": [1, "no", "maybe"],
                          "revenue": [2.5, None, None]})
    first = log_outcomes(MODEL, early, engine=engine)
    log_predictions(MODEL, "1.0", log_rows(4).assign(latency_ms=5.0, status="ok"), engine=engine)
    late = pd.DataFrame({"request_id": ["r2", "r0", "r3", "r3"], "clicked": [0, 0, None, None],
                         "revenue": [None, 9.0, 1.0, 1.0]})
    second = log_outcomes(MODEL, late, engine=engine)
    again = log_outcomes(MODEL, late, engine=engine)

    assert (first.rows_read, first.rows_stored, first.rows_quarantined) == (3, 2, 1)
    assert (second.rows_stored, second.rows_duplicate) == (2, 2)  # r0 known, r3 repeated in the batch
    assert (again.rows_stored, again.rows_duplicate) == (0, 4)
    for summary in (first, second, again):
        assert_identity(summary)
    frame = joined(engine)
    assert list(zip(frame["prediction_id"], frame["outcome"], frame["value"], strict=True)) == [
        ("r0", "clicked", 1.0), ("r0", "revenue", 2.5), ("r1", "clicked", 0.0), ("r2", "clicked", 0.0),
        ("r3", "revenue", 1.0)]
    reasons = quarantined(engine, "python-outcomes:credit-default")["reason"].tolist()
    assert reasons == ["clicked: not binary (0/1, true/false, yes/no); no outcome value (columns clicked, revenue)"] * 1


def test_outcomes_from_files_and_sql_sources_are_stored_once(engine, tmp_path) -> None:
    folder = tmp_path / "clicks"
    folder.mkdir()
    pd.DataFrame({"request_id": ["r0", "r1"], "ts": [T0, T0], "clicked": [1, 0]}).to_json(
        folder / "a.jsonl", orient="records", lines=True, date_format="iso")
    sql_url = f"sqlite:///{tmp_path / 'revenue.db'}"
    source_engine = create_engine(sql_url)
    with source_engine.begin() as conn:
        pd.DataFrame({"request_id": ["r1", "r2"], "amount": [3.0, "lots"], "updated_at": [T0, T0]}).to_sql(
            "revenue", conn, index=False)
    source_engine.dispose()
    config = serving_setup(tmp_path, engine, [
        {"name": "clicks", "kind": "files", "model": MODEL, "records": "outcomes", "url": "clicks/*.jsonl"},
        {"name": "revenue", "kind": "sql", "model": MODEL, "records": "outcomes", "url": sql_url,
         "table": "revenue", "watermark": "updated_at", "columns": {"revenue": "amount"}},
    ])
    log_predictions(MODEL, "1.0", log_rows(3).assign(latency_ms=5.0, status="ok"), engine=engine)

    first = collect(engine, config)
    again = collect(engine, config)
    replayed = replay_quarantine(engine, config, sources=["revenue"])

    assert [(s.rows_stored, s.rows_quarantined) for s in first] == [(2, 0), (1, 1)]
    assert [s.rows_stored for s in again] == [0, 0]
    assert replayed[0].rows_quarantined == 1
    frame = joined(engine)
    assert list(zip(frame["prediction_id"], frame["outcome"], frame["value"], strict=True)) == [
        ("r0", "clicked", 1.0), ("r1", "clicked", 0.0), ("r1", "revenue", 3.0)]


def test_the_public_api_logs_outcomes_by_url(sqlite_engine, tmp_path) -> None:
    serving_setup(tmp_path, sqlite_engine)
    url = sqlite_engine.url.render_as_string(hide_password=False)
    driftscope.log_predictions(MODEL, "1.0", log_rows(2).assign(latency_ms=5.0, status="ok"), url=url)

    summary = driftscope.log_outcomes(MODEL, pd.DataFrame({"request_id": ["r0", "r1"], "clicked": [1, 0]}), url=url)

    assert (summary.rows_stored, summary.rows_quarantined) == (2, 0)
    assert joined(sqlite_engine)["value"].tolist() == [1.0, 0.0]


def test_outcomes_from_an_http_source_are_stored_once_and_quarantined_with_their_page(engine, tmp_path) -> None:
    api = PagedApi([[{"request_id": "r0", "clicked": True, "revenue": 4.0}, {"request_id": "r1", "revenue": "n/a"}],
                    [{"request_id": "r2", "clicked": 0}, {"request_id": "r0", "clicked": False}]])
    with serve(api) as url:
        config = serving_setup(tmp_path, engine, [{"name": "api-clicks", "kind": "http", "model": MODEL,
                                                   "records": "outcomes", "url": url, "timeout": "5s"}])
        [first] = collect(engine, config)
        [again] = collect(engine, config)
    log_predictions(MODEL, "1.0", log_rows(3).assign(latency_ms=5.0, status="ok"), engine=engine)

    assert (first.status, first.rows_read, first.rows_stored, first.rows_duplicate, first.rows_quarantined) == (
        "succeeded", 4, 2, 1, 1)  # r0's second click is a repeat of a stated outcome: the first value stays
    assert_identity(first)
    assert (again.rows_read, again.rows_stored) == (0, 0)
    frame = joined(engine)
    assert list(zip(frame["prediction_id"], frame["outcome"], frame["value"], strict=True)) == [
        ("r0", "clicked", 1.0), ("r0", "revenue", 4.0), ("r2", "clicked", 0.0)]
    [reject] = quarantined(engine, "api-clicks").to_dict("records")
    assert reject["location"] == "page first item 1" and '"r1"' in reject["payload"]
    assert reject["reason"].startswith("revenue: not a finite number")
