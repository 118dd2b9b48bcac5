"""The Python API (log_predictions / log_ground_truth) and the replay of quarantined rows."""

from datetime import timedelta

import pandas as pd
import pytest
from helpers_collect import (
    MODEL,
    T0,
    assert_identity,
    files_source,
    labels,
    log_rows,
    quarantined,
    runs,
    setup,
    stored_ids,
)

from driftscope.collectors import collect, log_ground_truth, log_predictions, replay_quarantine
from driftscope.errors import NotFoundError, SchemaError
from driftscope.storage.db import make_engine, transaction
from driftscope.storage.labels import labels_for_window
from driftscope.storage.registry import get_version


def test_log_predictions_validates_quarantines_and_is_idempotent(engine, tmp_path) -> None:
    setup(tmp_path, engine, [])
    rows = log_rows(20).astype({"age": object}).set_index(pd.RangeIndex(100, 120))
    rows.loc[105, "age"] = "old"

    first = log_predictions(MODEL, "1.0", rows, engine=engine)
    again = log_predictions(MODEL, "1.0", rows, engine=engine)

    assert (first.status, first.rows_read, first.rows_stored, first.rows_quarantined) == ("succeeded", 20, 19, 1)
    assert (again.rows_stored, again.rows_duplicate, again.rows_quarantined) == (0, 19, 1)
    assert_identity(again)
    assert stored_ids(engine) == sorted(f"r{i}" for i in range(20) if i != 5)
    bad = quarantined(engine, "python:credit-default:1.0")
    assert bad["location"].tolist() == ["dataframe row 105"] * 2
    assert bad["reason"].tolist() == ["age: not a finite number"] * 2


def test_log_predictions_refuses_missing_columns_and_records_the_failed_run(sqlite_engine, tmp_path) -> None:
    setup(tmp_path, sqlite_engine, [])

    with pytest.raises(SchemaError, match=r"missing required columns score, region"):
        log_predictions(MODEL, "1.0", log_rows(3).drop(columns=["score", "region"]), engine=sqlite_engine)
    with pytest.raises(NotFoundError, match=r"no version '7\.0'.*driftscope apply"):
        log_predictions(MODEL, "7.0", log_rows(3), engine=sqlite_engine)

    [run] = runs(sqlite_engine, "python:credit-default:1.0")
    assert run.status == "failed" and "score" in run.error
    assert stored_ids(sqlite_engine) == []


def test_log_ground_truth_keeps_early_labels_and_records_corrections(engine, tmp_path) -> None:
    setup(tmp_path, engine, [])
    first = log_ground_truth(MODEL, pd.DataFrame({"request_id": ["r0", "r1", "r2"], "defaulted": [1, 0, None]}),
                             engine=engine)
    log_predictions(MODEL, "1.0", log_rows(3), engine=engine)
    second = log_ground_truth(MODEL, pd.DataFrame({"request_id": ["r1", "r0"], "defaulted": [1.0, 1.0]}),
                              engine=engine)

    assert (first.rows_stored, first.rows_quarantined) == (2, 1)
    assert (second.rows_stored, second.rows_duplicate) == (1, 1)
    assert labels(engine) == {"r0": "1", "r1": "1"}
    assert quarantined(engine, "python:credit-default")["reason"].tolist() == ["defaulted: missing label"]


def test_the_default_engine_comes_from_the_environment(sqlite_url, tmp_path, monkeypatch) -> None:
    engine = make_engine(sqlite_url)
    setup(tmp_path, engine, [])
    engine.dispose()
    monkeypatch.setenv("DRIFTSCOPE_DATABASE_URL", sqlite_url)

    summary = log_predictions(MODEL, "2.0", log_rows(4))

    engine = make_engine(sqlite_url)
    assert summary.rows_stored == 4 and stored_ids(engine, "2.0") == ["r0", "r1", "r2", "r3"]
    engine.dispose()


def test_replay_stores_rows_of_a_version_registered_later(engine, tmp_path) -> None:
    (tmp_path / "logs").mkdir()
    rows = log_rows(12).assign(model_version=["1.0", "3.0", "3.0"] * 4)
    rows.loc[2, "ts"] = pd.NaT
    rows.to_parquet(tmp_path / "logs" / "a.parquet")
    source = {**files_source("both", "logs/*.parquet"), "version": None, "version_column": "model_version"}
    config = setup(tmp_path, engine, [source])
    [collected] = collect(engine, config)
    config = setup(tmp_path, engine, [source], versions=("1.0", "2.0", "3.0"))

    [replayed] = replay_quarantine(engine, config)
    [nothing] = replay_quarantine(engine, config)

    assert (collected.rows_stored, collected.rows_quarantined) == (4, 8)
    assert (replayed.rows_read, replayed.rows_stored, replayed.rows_quarantined) == (8, 7, 1)
    assert stored_ids(engine, "3.0") == sorted(f"r{i}" for i in range(12) if i % 3 and i != 2)
    [left] = quarantined(engine, "both").to_dict("records")
    assert left["reason"] == "ts: missing timestamp"
    assert (nothing.rows_read, nothing.rows_quarantined) == (1, 1)


def test_replay_after_fixing_the_mapping(sqlite_engine, tmp_path) -> None:
    (tmp_path / "logs").mkdir()
    rows = log_rows(6).assign(score_pct=lambda f: f["score"] * 100)
    rows.to_csv(tmp_path / "logs" / "a.csv", index=False)
    wrong = files_source("csv", "logs/*.csv", columns={"score": "score_pct"})
    config = setup(tmp_path, sqlite_engine, [wrong])
    [collected] = collect(sqlite_engine, config)
    fixed = setup(tmp_path, sqlite_engine, [files_source("csv", "logs/*.csv")])

    [replayed] = replay_quarantine(sqlite_engine, fixed, sources=["csv"])

    expected_bad = int((rows["score_pct"] > 1).sum())
    assert collected.rows_quarantined == expected_bad > 0
    assert (replayed.rows_stored, replayed.rows_quarantined) == (expected_bad, 0)
    assert stored_ids(sqlite_engine) == sorted(rows["request_id"])
    assert quarantined(sqlite_engine).empty


def test_replay_of_a_source_gone_from_the_config_is_refused(sqlite_engine, tmp_path) -> None:
    (tmp_path / "logs").mkdir()
    log_rows(3).assign(score=7.0).to_csv(tmp_path / "logs" / "a.csv", index=False)
    config = setup(tmp_path, sqlite_engine, [files_source("old", "logs/*.csv")])
    collect(sqlite_engine, config)

    [summary] = replay_quarantine(sqlite_engine, setup(tmp_path, sqlite_engine, []))

    assert summary.status == "failed" and "not a configured source" in summary.error
    assert summary.rows_quarantined == 3 and len(quarantined(sqlite_engine, "old")) == 3


def test_labels_without_a_timestamp_are_stamped_with_the_call_time(sqlite_engine, tmp_path) -> None:
    setup(tmp_path, sqlite_engine, [])
    log_predictions(MODEL, "1.0", log_rows(1), engine=sqlite_engine)
    before = pd.Timestamp.now(tz="UTC")
    log_ground_truth(MODEL, pd.DataFrame({"request_id": ["r0"], "defaulted": [0]}), engine=sqlite_engine)

    with transaction(sqlite_engine) as session:
        info = get_version(session, MODEL, "1.0")
        joined = labels_for_window(session, model_id=info.model_id, model_version_id=info.id, start=T0,
                                   end=T0 + timedelta(days=1))
    assert before - pd.Timedelta(seconds=1) <= joined["label_ts"].iloc[0] <= pd.Timestamp.now(tz="UTC")


def test_the_top_level_api_takes_one_store_and_names_an_unreachable_one_without_its_password() -> None:
    import driftscope
    from driftscope.errors import ConfigError, StorageError

    with pytest.raises(ConfigError, match="at most one of engine=, url= and config="):
        driftscope.log_predictions(MODEL, "1.0", log_rows(1), url="sqlite://", config="driftscope.yaml")
    with pytest.raises(StorageError, match=r"postgres:\*\*\*@127\.0\.0\.1:9/none") as info:
        driftscope.log_ground_truth(MODEL, log_rows(1), url="postgresql+psycopg://postgres:secret@127.0.0.1:9/none")
    assert "secret" not in str(info.value)
