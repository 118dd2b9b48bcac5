"""One bad value never blocks a source (issue #18 items 1-6 and 8), on SQLite and PostgreSQL.

Each test is the reproduction of the issue turned into a regression test: the poisoned row goes
to quarantine with its reason and its location, every other row and every later file is stored,
and ``read = stored + duplicates + conflicts + quarantined`` holds.
"""

import gzip
import json
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers_collect import (
    MODEL,
    PagedApi,
    assert_identity,
    files_source,
    labels,
    log_rows,
    quarantined,
    runs,
    serve,
    setup,
    stored,
    stored_ids,
)
from sqlalchemy import create_engine

from driftscope.collectors import collect, log_ground_truth, log_predictions, replay_quarantine
from driftscope.collectors.target import Target, VersionPlan
from driftscope.collectors.validate import validate_batch
from driftscope.errors import SchemaError
from driftscope.storage.db import transaction
from driftscope.storage.run_history import collector_runs


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, date_format="%Y-%m-%dT%H:%M:%S.%fZ")


def write_jsonl(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_json(path, orient="records", lines=True, date_format="iso", date_unit="us")


def typed_parquet(frame: pd.DataFrame, path: Path, ts: list[datetime]) -> None:
    """``frame`` as Parquet whose ``ts`` is a typed ``timestamp[us]`` column holding ``ts`` as given."""
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(frame.drop(columns=["ts"]), preserve_index=False)
    table = table.append_column("ts", pa.array(ts, pa.timestamp("us")))
    pq.write_table(table, path)


# --- item 1: timestamps out of range -------------------------------------------------------------

def test_a_parquet_timestamp_in_year_3000_is_quarantined_and_later_files_are_read(engine, tmp_path) -> None:
    rows = log_rows(6)
    ts = [t.to_pydatetime().replace(tzinfo=None) for t in rows["ts"]]
    ts[2] = datetime(3000, 1, 1)
    typed_parquet(rows, tmp_path / "logs" / "a.parquet", ts)
    typed_parquet(log_rows(4, start=6), tmp_path / "logs" / "b.parquet",
                  [t.to_pydatetime().replace(tzinfo=None) for t in log_rows(4, start=6)["ts"]])
    config = setup(tmp_path, engine, [files_source("p", "logs/*.parquet")])

    [summary] = collect(engine, config)
    [again] = collect(engine, config)

    assert (summary.status, summary.rows_read, summary.rows_stored, summary.rows_quarantined) == ("succeeded", 10, 9, 1)
    assert_identity(summary)
    assert stored_ids(engine) == sorted(f"r{i}" for i in range(10) if i != 2)
    [row] = quarantined(engine, "p").to_dict("records")
    assert row["location"] == f"{tmp_path}/logs/a.parquet row group 0 row 2"
    assert "ts: timestamp out of range" in row["reason"] and "3000-01-01" in row["payload"]
    assert again.rows_read == 0 and again.status == "succeeded"


def test_timestamps_too_far_ahead_are_out_of_range_and_the_skew_is_configurable(sqlite_engine, tmp_path) -> None:
    now = datetime.now(UTC)
    rows = log_rows(3).assign(ts=[now, now + timedelta(hours=30), now + timedelta(days=400)])
    write_csv(rows, tmp_path / "logs" / "a.csv")
    write_csv(rows.assign(request_id=["s0", "s1", "s2"]), tmp_path / "wide" / "a.csv")
    config = setup(tmp_path, sqlite_engine, [files_source("strict", "logs/*.csv"),
                                              files_source("lenient", "wide/*.csv", max_future_skew="7d")])

    strict, lenient = collect(sqlite_engine, config)

    assert (strict.rows_stored, strict.rows_quarantined) == (1, 2)
    assert (lenient.rows_stored, lenient.rows_quarantined) == (2, 1)
    assert quarantined(sqlite_engine, "strict")["reason"].str.contains("timestamp out of range").all()


def test_the_python_api_quarantines_year_one_and_closes_its_run(engine, tmp_path) -> None:
    setup(tmp_path, engine, [])
    rows = log_rows(3).astype({"ts": object})
    rows.loc[1, "ts"] = datetime(1, 1, 1)

    summary = log_predictions(MODEL, "1.0", rows, engine=engine)

    assert (summary.status, summary.rows_stored, summary.rows_quarantined) == ("succeeded", 2, 1)
    [row] = quarantined(engine, "python:credit-default:1.0").to_dict("records")
    assert row["location"] == "dataframe row 1" and "ts: timestamp out of range" in row["reason"]
    assert [r.status for r in runs(engine, "python:credit-default:1.0")] == ["succeeded"]


def test_every_file_error_is_kept_in_the_run_error(sqlite_engine, tmp_path) -> None:
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "a.parquet").write_bytes(b"not parquet")
    log_rows(2).drop(columns=["score"]).to_parquet(tmp_path / "logs" / "b.parquet")
    log_rows(3, start=5).to_parquet(tmp_path / "logs" / "c.parquet")
    config = setup(tmp_path, sqlite_engine, [files_source("p", "logs/*.parquet")])

    [summary] = collect(sqlite_engine, config)

    assert summary.status == "failed" and summary.rows_stored == 3
    assert "a.parquet" in summary.error and "b.parquet" in summary.error and "score" in summary.error


# --- item 2: NUL characters ------------------------------------------------------------------------

def test_nul_in_ids_is_quarantined_alike_on_both_stores(engine, tmp_path) -> None:
    rows = log_rows(4)
    rows.loc[1, "request_id"], rows.loc[2, "request_id"] = "r\x00a", "r\x00b"
    rows.loc[3, "region"] = "no\x00rth"
    write_jsonl(rows, tmp_path / "logs" / "a.jsonl")
    write_jsonl(log_rows(2, start=10), tmp_path / "logs" / "b.jsonl")
    config = setup(tmp_path, engine, [files_source("j", "logs/*.jsonl")])

    [summary] = collect(engine, config)
    [again] = collect(engine, config)

    assert (summary.status, summary.rows_stored, summary.rows_quarantined) == ("succeeded", 3, 3)
    assert stored_ids(engine) == ["r0", "r10", "r11"]
    bad = quarantined(engine, "j")
    assert bad["location"].tolist() == [f"{tmp_path}/logs/a.jsonl line {n}" for n in (2, 3, 4)]
    assert bad["reason"].str.contains("NUL character").all()
    assert again.rows_read == 0


def test_nul_in_label_ids_is_quarantined(engine, tmp_path) -> None:
    setup(tmp_path, engine, [])
    log_predictions(MODEL, "1.0", log_rows(2), engine=engine)

    summary = log_ground_truth(MODEL, pd.DataFrame({"request_id": ["r0", "r1\x00x"], "defaulted": [1, 0]}),
                               engine=engine)

    assert (summary.rows_stored, summary.rows_quarantined) == (1, 1)
    assert labels(engine) == {"r0": "1"}


# --- item 3: invalid UTF-8, surrogates, BOM ----------------------------------------------------------

def test_one_invalid_utf8_byte_quarantines_its_line_only(engine, tmp_path) -> None:
    path = tmp_path / "logs" / "a.csv"
    write_csv(log_rows(40), path)
    lines = path.read_bytes().split(b"\n")
    lines[36] = lines[36].replace(b"north", b"n\xffrth").replace(b"south", b"s\xffuth").replace(b"east", b"e\xffst")
    path.write_bytes(b"\n".join(lines))
    config = setup(tmp_path, engine, [files_source("c", "logs/*.csv")])

    [summary] = collect(engine, config)

    assert (summary.status, summary.rows_stored, summary.rows_quarantined) == ("succeeded", 39, 1)
    [row] = quarantined(engine, "c").to_dict("records")
    assert row["location"] == f"{path} line 37" and row["reason"].startswith("not valid UTF-8: byte 0xff")
    assert "\\xff" in row["payload"] and row["payload"].startswith("r35,")


def test_a_lone_surrogate_in_json_lines_is_quarantined_with_its_line(engine, tmp_path) -> None:
    path = tmp_path / "logs" / "a.jsonl"
    write_jsonl(log_rows(3), path)
    text = path.read_text().split("\n")
    text[1] = text[1].replace('"r1"', '"r1\\ud800"')
    path.write_text("\n".join(text))
    config = setup(tmp_path, engine, [files_source("j", "logs/*.jsonl")])

    [summary] = collect(engine, config)

    assert (summary.status, summary.rows_stored, summary.rows_quarantined) == ("succeeded", 2, 1)
    [row] = quarantined(engine, "j").to_dict("records")
    assert row["location"] == f"{path} line 2" and "unpaired surrogate" in row["reason"]


def test_a_byte_order_mark_starts_a_json_lines_file(sqlite_engine, tmp_path) -> None:
    path = tmp_path / "logs" / "a.jsonl"
    write_jsonl(log_rows(3), path)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    config = setup(tmp_path, sqlite_engine, [files_source("j", "logs/*.jsonl")])

    [summary] = collect(sqlite_engine, config)

    assert (summary.rows_stored, summary.rows_quarantined) == (3, 0)


# --- item 4: conflicting duplicates ------------------------------------------------------------------

def test_same_id_other_content_is_a_conflict_the_first_is_kept(engine, tmp_path) -> None:
    write_csv(log_rows(5), tmp_path / "logs" / "a.csv")
    changed = log_rows(5).assign(income=lambda f: f["income"] + 1.0)
    changed.loc[0, "income"] -= 1.0
    changed.loc[0, "ts"] += pd.Timedelta(days=3)  # found by primary key, not in the chunks of its new day
    write_csv(pd.concat([changed, log_rows(1, start=5), log_rows(1, start=5).assign(age=99.0)]),
              tmp_path / "logs" / "b.csv")
    config = setup(tmp_path, engine, [files_source("c", "logs/*.csv")])

    [summary] = collect(engine, config)

    assert (summary.rows_read, summary.rows_stored, summary.rows_duplicate, summary.rows_conflict,
            summary.rows_quarantined) == (12, 6, 0, 6, 0)
    assert_identity(summary)
    first = stored(engine).set_index("prediction_id")
    assert first.loc["r1", "income"] == pytest.approx(log_rows(5)["income"][1])
    assert first.loc["r5", "age"] == log_rows(1, start=5)["age"][0]
    bad = quarantined(engine, "c")
    assert len(bad) == 6 and bad["reason"].str.startswith("conflicting duplicate").all()
    assert sorted(bad["location"]) == sorted([f"{tmp_path}/logs/b.csv line {n}" for n in (2, 3, 4, 5, 6, 8)])
    assert runs(engine, "c")[0].rows_conflict == 6
    with transaction(engine) as session:
        history = collector_runs(session, since=datetime(2000, 1, 1, tzinfo=UTC))
    assert history["rows_conflict"].tolist() == [6]

    [replayed] = replay_quarantine(engine, config, sources=["c"])
    assert (replayed.rows_read, replayed.rows_stored, replayed.rows_conflict) == (6, 0, 6)
    assert len(quarantined(engine, "c")) == 6


def test_labels_keep_the_first_of_a_batch_and_quarantine_contradictions(engine, tmp_path) -> None:
    setup(tmp_path, engine, [])
    log_predictions(MODEL, "1.0", log_rows(2), engine=engine)

    summary = log_ground_truth(MODEL, pd.DataFrame({"request_id": ["r0", "r0", "r0", "r1"],
                                                    "defaulted": [1, 1, 0, 0]}), engine=engine)

    assert (summary.rows_stored, summary.rows_duplicate, summary.rows_conflict) == (2, 1, 1)
    assert labels(engine) == {"r0": "1", "r1": "0"}
    [row] = quarantined(engine, "python:credit-default").to_dict("records")
    assert row["location"] == "dataframe row 2" and row["reason"].startswith("conflicting duplicate")


# --- item 5: binary classes and NaN ------------------------------------------------------------------

def test_a_binary_model_refuses_a_third_class(engine, tmp_path) -> None:
    setup(tmp_path, engine, [])
    rows = log_rows(3)
    rows.loc[1, "predicted_label"] = 2

    summary = log_predictions(MODEL, "1.0", rows, engine=engine)
    truth = log_ground_truth(MODEL, pd.DataFrame({"request_id": ["r0", "r2"], "defaulted": [2, 1]}), engine=engine)

    assert (summary.rows_stored, summary.rows_quarantined) == (2, 1)
    assert (truth.rows_stored, truth.rows_quarantined) == (1, 1)
    reasons = quarantined(engine)["reason"].tolist()
    assert all("not one of the binary model's classes (0, 1)" in r for r in reasons)


def test_nan_is_missing_in_every_source(sqlite_engine, tmp_path) -> None:
    rows = log_rows(3).astype({"income": object, "score": object})
    rows.loc[0, "income"], rows.loc[1, "score"] = "NaN", "nan"
    write_csv(rows, tmp_path / "logs" / "a.csv")
    write_jsonl(rows.assign(request_id=["j0", "j1", "j2"]), tmp_path / "logs" / "b.jsonl")
    api = log_rows(3, prefix="p")
    api.loc[0, "income"], api.loc[1, "score"] = float("nan"), float("nan")
    config = setup(tmp_path, sqlite_engine, [files_source("c", "logs/*.csv"), files_source("j", "logs/*.jsonl")])

    by_source = [*collect(sqlite_engine, config), log_predictions(MODEL, "1.0", api, engine=sqlite_engine)]

    assert [(s.rows_stored, s.rows_quarantined) for s in by_source] == [(2, 1)] * 3
    assert set(quarantined(sqlite_engine)["reason"]) == {"score: missing probability"}
    frame = stored(sqlite_engine).set_index("prediction_id")
    assert frame.loc[["r0", "j0", "p0"], "income"].isna().all()


# --- item 6: quoted multi-line CSV values ------------------------------------------------------------

@pytest.mark.parametrize("page_size", [2, 3, 50_000])
def test_a_record_spanning_lines_is_never_split_and_locations_are_file_lines(engine, tmp_path, page_size) -> None:
    rows = log_rows(6).astype({"region": object})
    rows.loc[1, "region"] = "north\nby\nnorthwest"
    rows.loc[4, "age"] = "old"
    write_csv(rows, tmp_path / "logs" / "a.csv")
    config = setup(tmp_path, engine, [files_source("c", "logs/*.csv", page_size=page_size)])

    [summary] = collect(engine, config)

    assert (summary.rows_read, summary.rows_stored, summary.rows_quarantined) == (6, 5, 1)
    [row] = quarantined(engine, "c").to_dict("records")
    assert row["location"] == f"{tmp_path}/logs/a.csv line 8"
    assert stored(engine).set_index("prediction_id").loc["r1", "region"] == "north\nby\nnorthwest"


def test_a_stray_quote_in_an_unquoted_value_is_read_as_arrow_reads_it(sqlite_engine, tmp_path) -> None:
    rows = log_rows(4).astype({"region": object})
    rows.loc[1, "region"] = 'five inch"'
    path = tmp_path / "logs" / "a.csv"
    write_csv(rows, path)
    path.write_text(path.read_text().replace('"five inch"""', 'five inch"'))
    settled = time.time() - 60
    os.utime(path, (settled, settled))
    config = setup(tmp_path, sqlite_engine, [files_source("c", "logs/*.csv")])

    [summary] = collect(sqlite_engine, config)

    assert (summary.rows_stored, summary.rows_quarantined) == (4, 0)
    assert stored(sqlite_engine).set_index("prediction_id").loc["r1", "region"] == 'five inch"'


# --- item 8: the Python API never leaves a run running ---------------------------------------------

def test_duplicate_column_names_raise_naming_the_column_and_close_the_run(engine, tmp_path) -> None:
    setup(tmp_path, engine, [])
    rows = log_rows(2)
    rows = pd.concat([rows, rows[["income"]]], axis=1)

    with pytest.raises(SchemaError, match="the column name 'income' appears more than once"):
        log_predictions(MODEL, "1.0", rows, engine=engine)

    [run] = runs(engine, "python:credit-default:1.0")
    assert run.status == "failed" and "income" in run.error


def test_surrogates_in_the_api_are_quarantined_and_the_run_succeeds(engine, tmp_path) -> None:
    setup(tmp_path, engine, [])
    rows = log_rows(3)
    rows.loc[0, "request_id"], rows.loc[2, "region"] = "r\ud800", "e\udc00st"

    summary = log_predictions(MODEL, "1.0", rows, engine=engine)

    assert (summary.status, summary.rows_stored, summary.rows_quarantined) == ("succeeded", 1, 2)
    payloads = quarantined(engine)["payload"].map(json.loads)
    assert payloads[0]["request_id"] == "r\ud800"


def test_an_unexpected_error_closes_the_run_as_failed(sqlite_engine, tmp_path, monkeypatch) -> None:
    setup(tmp_path, sqlite_engine, [])

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("driftscope.collectors.python_api.ingest_batch", broken)
    with pytest.raises(SchemaError, match=r"could not be stored \(RuntimeError: boom"):
        log_predictions(MODEL, "1.0", log_rows(2), engine=sqlite_engine)

    assert [r.status for r in runs(sqlite_engine, "python:credit-default:1.0")] == ["failed"]


def test_validation_names_the_duplicate_column_of_any_source() -> None:
    plan = VersionPlan(1, "1.0", {"id": "i", "timestamp": "t", "prediction": "p", "features": {}}, "int", "int", {})
    target = Target("s", "predictions", MODEL, 1, {"1.0": plan}, "1.0", None, {})
    frame = pd.DataFrame(np.zeros((1, 3)), columns=["i", "t", "i"])
    with pytest.raises(SchemaError, match=r"source 's', file x\.csv: the column name 'i' appears more than once"):
        validate_batch(frame, target, origin="file x.csv", now=datetime.now(UTC))


# --- every source kind: sql and http -----------------------------------------------------------------

def test_a_sql_label_source_quarantines_poison_and_moves_on(engine, tmp_path) -> None:
    source_url = f"sqlite:///{tmp_path / 'labels.db'}"
    outcomes = pd.DataFrame({
        "request_id": ["r0", "r1\x00", "r2", "r3", "r3", "r4"],
        "is_default": [1, 0, 2, 1, 0, 0],
        "ts": ["2026-01-02 00:00:00", "2026-01-02 00:00:00", "2026-01-02 00:00:00", "2026-01-02 00:00:00",
               "2026-01-02 00:00:00", "3000-01-01 00:00:00"],
        "updated_at": [f"2026-01-03 00:0{i}:00" for i in range(6)],
    })
    writer = create_engine(source_url)
    with writer.begin() as conn:
        outcomes.to_sql("outcomes", conn, index=False)
    writer.dispose()
    config = setup(tmp_path, engine, [{"name": "labels", "kind": "sql", "model": MODEL, "records": "ground_truth",
                                       "url": source_url, "table": "outcomes", "watermark": "updated_at",
                                       "columns": {"defaulted": "is_default"}, "page_size": 10}])

    [summary] = collect(engine, config)
    [again] = collect(engine, config)

    assert (summary.status, summary.rows_read, summary.rows_stored, summary.rows_conflict,
            summary.rows_quarantined) == ("succeeded", 6, 2, 1, 3)
    assert again.rows_read == 0
    reasons = " | ".join(quarantined(engine, "labels")["reason"])
    for text in ("NUL character", "binary model's classes", "timestamp out of range", "conflicting duplicate"):
        assert text in reasons


def test_an_http_source_quarantines_poison_and_moves_on(engine, tmp_path) -> None:
    page = json.loads(log_rows(5).to_json(orient="records", date_format="iso", date_unit="us"))
    page[1]["request_id"] += "\ud800"
    page[2]["request_id"] += "\x00"
    page[3]["ts"] = "3000-01-01T00:00:00Z"
    with serve(PagedApi([page, json.loads(log_rows(2, start=5).to_json(orient="records", date_format="iso"))])) as url:
        config = setup(tmp_path, engine, [{"name": "api", "kind": "http", "model": MODEL, "version": "1.0",
                                           "records": "predictions", "url": url, "timeout": "5s"}])
        [summary] = collect(engine, config)

    assert (summary.status, summary.rows_read, summary.rows_stored, summary.rows_quarantined) == ("succeeded", 7, 4, 3)
    assert quarantined(engine, "api")["location"].tolist() == ["page first item 1", "page first item 2",
                                                               "page first item 3"]


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_a_compressed_file_quarantines_poison_like_a_plain_one(engine, tmp_path, fmt) -> None:
    rows = log_rows(5).astype({"region": object})
    rows.loc[1, "region"] = "north\nby\nnorthwest" if fmt == "csv" else "no\x00rth"
    plain = tmp_path / "plain" / f"a.{fmt}"
    (write_csv if fmt == "csv" else write_jsonl)(rows, plain)
    body = plain.read_bytes().replace(b"r2,", b"r\xff2,").replace(b'"r2"', b'"r\xff2"')
    if fmt == "jsonl":
        lines = body.split(b"\n")
        lines[3] = json.dumps({**json.loads(lines[3]), "ts": "3000-01-01T00:00:00Z"}).encode()
        body = b"\xef\xbb\xbf" + b"\n".join(lines)
    path = tmp_path / "logs" / f"a.{fmt}.gz"
    path.parent.mkdir(parents=True)
    path.write_bytes(gzip.compress(body))
    settled = time.time() - 60
    os.utime(path, (settled, settled))
    config = setup(tmp_path, engine, [files_source("gz", f"logs/*.{fmt}.gz")])

    [summary] = collect(engine, config)

    assert summary.status == "succeeded", summary.error
    assert_identity(summary)
    reasons = " | ".join(quarantined(engine, "gz")["reason"])
    expected = {"csv": ["not valid UTF-8"], "jsonl": ["not valid UTF-8", "NUL character", "timestamp out of range"]}
    assert all(text in reasons for text in expected[fmt])
    assert summary.rows_stored == 5 - len(expected[fmt])
    if fmt == "csv":
        assert stored(engine).set_index("prediction_id").loc["r1", "region"] == "north\nby\nnorthwest"
