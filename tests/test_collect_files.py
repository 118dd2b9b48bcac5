"""The files source against real files on disk: CSV, JSON Lines and Parquet, appends, rewrites, corrupt files."""

import bz2
import gzip
import lzma
import os
import time
from pathlib import Path

import fsspec
import numpy as np
import pandas as pd
import pytest
from helpers_collect import (
    LOG_COLUMNS,
    assert_identity,
    files_source,
    log_rows,
    make_config,
    marks,
    quarantined,
    runs,
    setup,
    stored,
    stored_ids,
    volume,
)

from driftscope.collectors import collect
from driftscope.collectors.columns import UNSTORABLE

FORMATS = ["csv", "jsonl", "parquet"]


def write(frame: pd.DataFrame, path: Path) -> None:
    """Write log rows the way a serving stack would: ISO timestamps in text formats."""
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False, row_group_size=60)
    elif path.suffix == ".csv":
        frame.to_csv(path, index=False, date_format="%Y-%m-%dT%H:%M:%S.%fZ")
    else:
        frame.to_json(path, orient="records", lines=True, date_format="iso", date_unit="us")


def old(path: Path) -> None:
    """Make a file look settled (last written a minute ago)."""
    past = time.time() - 60
    os.utime(path, (past, past))


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_is_stored_once_and_a_rerun_reads_nothing(engine, tmp_path, fmt) -> None:
    (tmp_path / "logs").mkdir()
    rows = log_rows(250)
    write(rows.iloc[:130], tmp_path / "logs" / f"a.{fmt}")
    write(rows.iloc[130:], tmp_path / "logs" / f"b.{fmt}")
    config = setup(tmp_path, engine, [files_source("logs", f"logs/*.{fmt}", page_size=50)])

    [first] = collect(engine, config)
    [again] = collect(engine, config)

    assert (first.status, first.rows_read, first.rows_stored, first.rows_quarantined) == ("succeeded", 250, 250, 0)
    assert (again.status, again.rows_read, again.rows_stored) == ("succeeded", 0, 0)
    assert stored_ids(engine) == sorted(rows["request_id"])
    back = stored(engine).set_index("prediction_id").loc[rows["request_id"]]
    np.testing.assert_allclose(back["income"], rows["income"])
    np.testing.assert_allclose(back["probability"], rows["score"])
    assert (back["ts"].to_numpy() == rows["ts"].to_numpy()).all()
    assert list(back["region"].astype(str)) == list(rows["region"])
    assert set(back["has_card"]) <= {0.0, 1.0}
    assert {m.offset for m in marks(engine, "logs").values()} == (
        {130, 120} if fmt == "parquet" else {(tmp_path / "logs" / f"{n}.{fmt}").stat().st_size for n in "ab"})
    assert [r.status for r in runs(engine, "logs")] == ["succeeded", "succeeded"]


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_appended_lines_are_picked_up_with_their_line_numbers(engine, tmp_path, fmt) -> None:
    (tmp_path / "logs").mkdir()
    path = tmp_path / "logs" / f"live.{fmt}"
    write(log_rows(40), path)
    config = setup(tmp_path, engine, [files_source("live", f"logs/*.{fmt}", page_size=16)])
    [first] = collect(engine, config)
    more = log_rows(10, start=40).astype({"income": object})
    more.loc[more.index[3], "income"] = "lots"
    tail = tmp_path / f"tail.{fmt}"
    write(more, tail)
    body = tail.read_bytes()
    with path.open("ab") as handle:
        handle.write(body.split(b"\n", 1)[1] if fmt == "csv" else body)

    [second] = collect(engine, config)

    assert (first.rows_read, first.rows_stored) == (40, 40)
    assert (second.rows_read, second.rows_stored, second.rows_quarantined) == (10, 9, 1)
    assert_identity(second)
    assert len(stored_ids(engine)) == 49
    [row] = quarantined(engine, "live").to_dict("records")
    line = 40 + 3 + (2 if fmt == "csv" else 1)
    assert row["location"] == f"{path} line {line}"
    assert row["reason"] == "income: not a finite number"
    assert '"lots"' in row["payload"] and "r43" in row["payload"]


def test_a_rewritten_file_is_read_again_and_its_old_rows_count_as_duplicates(sqlite_engine, tmp_path) -> None:
    (tmp_path / "logs").mkdir()
    path = tmp_path / "logs" / "day.csv"
    write(log_rows(30), path)
    config = setup(tmp_path, sqlite_engine, [files_source("day", "logs/*.csv")])
    collect(sqlite_engine, config)
    write(pd.concat([log_rows(30), log_rows(15, start=30, seed=3)]).iloc[::-1], path)

    [again] = collect(sqlite_engine, config)

    assert (again.rows_read, again.rows_stored, again.rows_duplicate, again.rows_conflict) == (45, 15, 30, 0)
    assert len(stored_ids(sqlite_engine)) == 45


def test_an_unterminated_last_line_waits_until_the_file_settles(sqlite_engine, tmp_path) -> None:
    (tmp_path / "logs").mkdir()
    path = tmp_path / "logs" / "live.jsonl"
    write(log_rows(5), path)
    path.write_bytes(path.read_bytes().rstrip(b"\n"))
    config = setup(tmp_path, sqlite_engine, [files_source("live", "logs/*.jsonl")])

    [fresh] = collect(sqlite_engine, config)
    old(path)
    [settled] = collect(sqlite_engine, config)

    assert (fresh.rows_read, settled.rows_read) == (4, 1)
    assert len(stored_ids(sqlite_engine)) == 5


def test_a_corrupt_parquet_file_fails_alone_and_is_not_marked(engine, tmp_path) -> None:
    (tmp_path / "logs").mkdir()
    write(log_rows(20), tmp_path / "logs" / "a.parquet")
    (tmp_path / "logs" / "b.parquet").write_bytes(b"PAR1 this is not parquet at all")
    write(log_rows(20, start=20), tmp_path / "logs" / "c.parquet")
    config = setup(tmp_path, engine, [files_source("pq", "logs/*.parquet")])

    [summary] = collect(engine, config)
    [retry] = collect(engine, config)
    write(log_rows(7, start=40), tmp_path / "logs" / "b.parquet")
    [fixed] = collect(engine, config)

    assert summary.status == "failed" and (summary.rows_read, summary.rows_stored) == (40, 40)
    assert "b.parquet" in summary.error and "Parquet" in summary.error and "a.parquet" not in summary.error
    assert (retry.status, retry.rows_read) == ("failed", 0)
    assert (fixed.status, fixed.rows_stored) == ("succeeded", 7)
    assert len(stored_ids(engine)) == 47
    assert runs(engine, "pq")[-1].error == summary.error


COMPRESSORS = {"gz": gzip.compress, "bz2": bz2.compress, "xz": lzma.compress}


def write_compressed(frame: pd.DataFrame, path: Path, fmt: str, suffix: str) -> bytes:
    """Write ``frame`` as ``path`` (a ``.{fmt}.{suffix}`` file), settled; return the uncompressed bytes."""
    plain = path.parent.parent / f"plain.{fmt}"
    write(frame, plain)
    body = plain.read_bytes()
    path.write_bytes(COMPRESSORS[suffix](body))
    old(path)
    return body


@pytest.mark.parametrize(("fmt", "suffix"), [("csv", "gz"), ("jsonl", "gz"), ("csv", "bz2"), ("jsonl", "xz")])
def test_a_compressed_file_is_read_once_it_settles_and_then_skipped(engine, tmp_path, fmt, suffix) -> None:
    (tmp_path / "logs").mkdir()
    path = tmp_path / "logs" / f"day.{fmt}.{suffix}"
    rows = log_rows(120).astype({"income": object})
    rows.loc[7, "income"] = "lots"
    body = write_compressed(rows, path, fmt, suffix)
    os.utime(path)
    config = setup(tmp_path, engine, [files_source("rotated", f"logs/*.{suffix}", page_size=50)])

    [fresh] = collect(engine, config)
    old(path)
    [first] = collect(engine, config)
    [again] = collect(engine, config)

    assert (fresh.status, fresh.rows_read) == ("succeeded", 0)
    assert (first.status, first.rows_read, first.rows_stored, first.rows_quarantined) == ("succeeded", 120, 119, 1)
    assert (again.status, again.rows_read) == ("succeeded", 0)
    assert stored_ids(engine) == sorted(set(rows["request_id"]) - {"r7"})
    [row] = quarantined(engine, "rotated").to_dict("records")
    assert row["location"] == f"{path} line {8 + (1 if fmt == 'csv' else 0)}"
    [mark] = marks(engine, "rotated").values()
    assert (mark.offset, mark.size) == (len(body), path.stat().st_size)


def test_a_changed_compressed_file_is_read_again_from_the_start(sqlite_engine, tmp_path) -> None:
    (tmp_path / "logs").mkdir()
    path = tmp_path / "logs" / "day.csv.gz"
    write_compressed(log_rows(30), path, "csv", "gz")
    config = setup(tmp_path, sqlite_engine, [files_source("day", "logs/*.csv.gz")])
    collect(sqlite_engine, config)
    write_compressed(pd.concat([log_rows(30), log_rows(15, start=30, seed=3)]), path, "csv", "gz")

    [again] = collect(sqlite_engine, config)

    assert (again.rows_read, again.rows_stored, again.rows_duplicate) == (45, 15, 30)


def test_a_compressed_file_resumes_after_a_failed_batch_without_rereading(sqlite_engine, tmp_path) -> None:
    (tmp_path / "logs").mkdir()
    write_compressed(log_rows(120), tmp_path / "logs" / "day.jsonl.gz", "jsonl", "gz")
    config = setup(tmp_path, sqlite_engine, [files_source("day", "logs/*.gz", page_size=50)])
    with sqlite_engine.begin() as conn:
        conn.exec_driver_sql("CREATE TRIGGER crash BEFORE INSERT ON prediction_chunks "
                             "WHEN (SELECT count(*) FROM prediction_chunks) >= 2 "
                             "BEGIN SELECT RAISE(ABORT, 'crash'); END")

    [crashed] = collect(sqlite_engine, config)
    with sqlite_engine.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER crash")
    [resumed] = collect(sqlite_engine, config)

    assert crashed.status == "failed" and crashed.rows_stored == 100
    assert (resumed.status, resumed.rows_read, resumed.rows_stored, resumed.rows_duplicate) == ("succeeded", 20, 20, 0)
    assert len(stored_ids(sqlite_engine)) == 120


def test_a_truncated_compressed_file_fails_alone_naming_it(engine, tmp_path) -> None:
    (tmp_path / "logs").mkdir()
    write_compressed(log_rows(20), tmp_path / "logs" / "a.csv.gz", "csv", "gz")
    broken = tmp_path / "logs" / "b.csv.gz"
    write_compressed(log_rows(200, start=20), broken, "csv", "gz")
    broken.write_bytes(broken.read_bytes()[:-40])
    old(broken)
    config = setup(tmp_path, engine, [files_source("gz", "logs/*.gz")])

    [summary] = collect(engine, config)

    assert summary.status == "failed" and summary.rows_stored == 20
    assert "b.csv.gz" in summary.error and "not a readable gzip file" in summary.error
    assert "a.csv.gz" not in summary.error


@pytest.mark.parametrize(("name", "message"), [
    ("logs.zip", "archives are not read by the files source"),
    ("day.parquet.gz", "a compressed Parquet file cannot be read"),
])
def test_files_it_cannot_read_are_refused_with_the_fix(sqlite_engine, tmp_path, name, message) -> None:
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / name).write_bytes(b"\x00" * 10)
    config = setup(tmp_path, sqlite_engine, [files_source("odd", "logs/*")])

    [summary] = collect(sqlite_engine, config)

    assert summary.status == "failed" and message in summary.error and name in summary.error


def test_missing_columns_fail_the_file_naming_columns_and_source(engine, tmp_path) -> None:
    (tmp_path / "logs").mkdir()
    write(log_rows(10).drop(columns=["age", "score"]), tmp_path / "logs" / "a.csv")
    write(log_rows(10, start=10), tmp_path / "logs" / "b.csv")
    config = setup(tmp_path, engine, [files_source("csv", "logs/*.csv", columns={"income": "salary"})])
    (tmp_path / "logs" / "b.csv").write_text((tmp_path / "logs" / "b.csv").read_text().replace("income", "salary"))

    [summary] = collect(engine, config)

    assert summary.status == "failed"
    assert "source 'csv'" in summary.error and "a.csv" in summary.error
    assert "score" in summary.error and "age" in summary.error and "income (source column 'salary')" in summary.error
    assert stored_ids(engine) == sorted(f"r{i}" for i in range(10, 20))
    assert list(marks(engine, "csv")) == [str(tmp_path / "logs" / "b.csv")]


def test_row_problems_go_to_quarantine_with_reason_and_location(sqlite_engine, tmp_path) -> None:
    (tmp_path / "logs").mkdir()
    rows = log_rows(8)
    csv = rows.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%SZ").splitlines()
    csv[2] = "r1,2026-01-01T00:01:00Z,1,0.5"
    csv[3] = csv[3].replace("2026-01-01T00:02:00Z", "yesterday")
    csv[4] = ",".join(["", *csv[4].split(",")[1:]])
    csv[5] = csv[5].replace(csv[5].split(",")[3], "1.5", 1)
    csv[6] = ",".join([*csv[6].split(",")[:-1], "maybe"])
    (tmp_path / "logs" / "a.csv").write_text("\n".join([*csv[:4], "", *csv[4:]]) + "\n")
    config = setup(tmp_path, sqlite_engine, [files_source("csv", "logs/*.csv")])

    [summary] = collect(sqlite_engine, config)
    found = quarantined(sqlite_engine, "csv").set_index("location")["reason"].to_dict()

    path = tmp_path / "logs" / "a.csv"
    assert (summary.rows_read, summary.rows_stored, summary.rows_quarantined) == (8, 3, 5)
    assert found == {
        f"{path} line 3": "CSV line has 4 fields, the header has 8",
        f"{path} line 4": "ts: not a timestamp (ISO 8601 such as 2026-01-01T12:00:00Z, or Unix seconds)",
        f"{path} line 6": "request_id: missing id",
        f"{path} line 7": "score: not a number in [0, 1]",
        f"{path} line 8": "has_card: not binary (0/1, true/false, yes/no)",
    }


def test_parquet_locations_name_row_group_and_row(sqlite_engine, tmp_path) -> None:
    (tmp_path / "logs").mkdir()
    rows = log_rows(150).astype({"request_id": object})
    rows.loc[130, "request_id"] = None
    write(rows, tmp_path / "logs" / "a.parquet")
    config = setup(tmp_path, sqlite_engine, [files_source("pq", "logs/*.parquet", page_size=70)])

    [summary] = collect(sqlite_engine, config)

    [row] = quarantined(sqlite_engine, "pq").to_dict("records")
    assert row["location"] == f"{tmp_path / 'logs' / 'a.parquet'} row group 2 row 10"
    assert row["reason"] == "request_id: missing id"
    assert (summary.rows_read, summary.rows_stored) == (150, 149)


def test_version_column_routes_rows_and_quarantines_unknown_versions(engine, tmp_path) -> None:
    (tmp_path / "logs").mkdir()
    rows = log_rows(30).assign(model_version=["1.0", "2.0", "9.9"] * 10)
    write(rows, tmp_path / "logs" / "a.parquet")
    source = {**files_source("both", "logs/*.parquet"), "version": None, "version_column": "model_version"}
    config = setup(tmp_path, engine, [source])

    [summary] = collect(engine, config)

    assert (summary.rows_stored, summary.rows_quarantined) == (20, 10)
    assert stored_ids(engine, "1.0") == sorted(rows.loc[rows["model_version"] == "1.0", "request_id"])
    assert stored_ids(engine, "2.0") == sorted(rows.loc[rows["model_version"] == "2.0", "request_id"])
    reasons = set(quarantined(engine, "both")["reason"])
    assert reasons == {"model_version: model 'credit-default' has no registered version 9.9 (registered: 1.0, 2.0)"}


def test_unseen_categories_are_counted_per_hour_not_refused(sqlite_engine, tmp_path) -> None:
    (tmp_path / "logs").mkdir()
    rows = log_rows(120)
    rows.loc[[5, 70, 71], "region"] = "atlantis"
    write(rows, tmp_path / "logs" / "a.parquet")
    config = setup(tmp_path, sqlite_engine, [files_source("pq", "logs/*.parquet")])

    [summary] = collect(sqlite_engine, config)

    assert (summary.rows_stored, summary.rows_quarantined) == (120, 0)
    assert volume(sqlite_engine)[["n_rows", "n_new_categories"]].values.tolist() == [[60, 1], [60, 2]]


def test_columns_mapping_renames_source_columns(sqlite_engine, tmp_path) -> None:
    (tmp_path / "logs").mkdir()
    write(log_rows(12).rename(columns={"request_id": "rid", "income": "salary"}), tmp_path / "logs" / "a.jsonl")
    config = setup(tmp_path, sqlite_engine,
                   [files_source("m", "logs/*.jsonl", columns={"request_id": "rid", "income": "salary"})])

    [summary] = collect(sqlite_engine, config)

    assert summary.rows_stored == 12 and stored_ids(sqlite_engine) == sorted(f"r{i}" for i in range(12))
    assert list(stored(sqlite_engine).columns) == ["prediction_id", "ts", "prediction", "probability", *LOG_COLUMNS[4:]]


def test_binary_garbage_in_a_line_is_quarantined_as_it_came(engine, tmp_path) -> None:
    (tmp_path / "logs").mkdir()
    path = tmp_path / "logs" / "a.jsonl"
    write(log_rows(3), path)
    path.write_bytes(path.read_bytes() + b'{"request_id": "x\x00\xff\n')
    config = setup(tmp_path, engine, [files_source("j", "logs/*.jsonl")])

    [summary] = collect(engine, config)

    assert (summary.rows_stored, summary.rows_quarantined) == (3, 1)
    [row] = quarantined(engine, "j").to_dict("records")
    assert row["location"] == f"{path} line 4" and row["reason"].startswith("not valid UTF-8: byte 0xff")
    assert row["payload"] == '{"request_id": "x\\x00\\xff'


def test_a_model_never_applied_fails_the_source_saying_what_to_run(sqlite_engine, tmp_path) -> None:
    (tmp_path / "logs").mkdir()
    write(log_rows(3), tmp_path / "logs" / "a.csv")
    config = make_config(tmp_path, "sqlite://", [files_source("csv", "logs/*.csv")])

    [summary] = collect(sqlite_engine, config)

    assert summary.status == "failed" and "no model named 'credit-default'" in summary.error
    assert "driftscope apply" in summary.error and summary.rows_read == 0


@pytest.mark.parametrize("scheme", ["file", "memory"])
def test_fsspec_urls_are_sources_too(sqlite_engine, tmp_path, scheme) -> None:
    folder = f"file://{tmp_path / 'logs'}" if scheme == "file" else f"memory://{tmp_path.name}/logs"
    fs, root = fsspec.core.url_to_fs(folder)
    fs.makedirs(root, exist_ok=True)
    with fs.open(f"{root}/a.csv", "wb") as handle:
        handle.write(log_rows(5).to_csv(index=False).encode())
    config = setup(tmp_path, sqlite_engine, [files_source("remote", f"{folder}/*.csv")])

    [first] = collect(sqlite_engine, config)
    with fs.open(f"{root}/a.csv", "ab") as handle:
        handle.write(log_rows(2, start=5).to_csv(index=False, header=False).encode())
    [second] = collect(sqlite_engine, config)

    assert (first.rows_stored, second.rows_read, second.rows_stored) == (5, 2, 2)
    [path] = marks(sqlite_engine, "remote")
    assert path == (str(tmp_path / "logs" / "a.csv") if scheme == "file" else f"memory://{root}/a.csv")


def _profiles_of(engine, column: str) -> list[tuple[int, int, list[int], dict[str, int], int]]:
    from driftscope.storage.db import transaction
    from driftscope.storage.profiles.store import window_profiles
    from driftscope.storage.registry import get_version

    with transaction(engine) as session:
        version = get_version(session, "credit-default", "1.0")
        found = window_profiles(session, model_version_id=version.id, start=pd.Timestamp("2025-01-01", tz="UTC"),
                                end=pd.Timestamp("2027-01-01", tz="UTC"))[column]
    return [(p.n_rows, p.n_missing, p.counts.tolist(), p.new, p.other) for p in found]


@pytest.mark.parametrize("page_size", [50, 1000])
def test_parquet_categoricals_read_as_dictionaries_store_what_text_rows_store(
        engine, sqlite_template, tmp_path, page_size) -> None:
    """Categorical features come out of Parquet as Arrow dictionaries; the store must not see the difference.

    The same rows, as JSON Lines (one Python string per value) and as Parquet (dictionary pages,
    batches slicing row groups so a batch's dictionary holds values it does not use), with the
    empty string, nulls, a NUL character, an unseen category and a number as text.
    """
    import shutil

    import fsspec

    from driftscope.collectors.parquetfiles import read_parquet
    from driftscope.storage.db import make_engine

    rows = log_rows(300).astype({"region": object})
    rows.loc[[3, 4], "region"] = ""
    rows.loc[[7, 130], "region"] = None
    rows.loc[11, "region"] = "no\x00rth"
    rows.loc[[20, 200, 201], "region"] = "atlantis"
    rows.loc[250, "region"] = "7"
    (tmp_path / "pq").mkdir()
    (tmp_path / "text" / "logs").mkdir(parents=True)
    write(rows, tmp_path / "pq" / "a.parquet")
    write(rows, tmp_path / "text" / "logs" / "a.jsonl")
    path = str(tmp_path / "pq" / "a.parquet")
    [batch, *_] = read_parquet(fsspec.filesystem("file"), path, path, start=0, expected=None, identity="",
                               size=0, page_size=page_size, dictionary_columns=frozenset({"region", "absent"}))
    assert isinstance(batch.frame["region"].dtype, pd.CategoricalDtype)
    assert batch.frame["request_id"].dtype == object
    shutil.copy(sqlite_template, tmp_path / "text.db")
    text_engine = make_engine(f"sqlite:///{tmp_path / 'text.db'}")
    try:
        [from_parquet] = collect(engine, setup(tmp_path, engine, [files_source("pq", "pq/*.parquet",
                                                                               page_size=page_size)]))
        [from_text] = collect(text_engine, setup(tmp_path / "text", text_engine,
                                                 [files_source("text", "logs/*.jsonl", page_size=page_size)]))

        assert (from_parquet.rows_stored, from_parquet.rows_quarantined) == (from_text.rows_stored,
                                                                             from_text.rows_quarantined) == (299, 1)
        got, want = (stored(e).sort_values("prediction_id").reset_index(drop=True) for e in (engine, text_engine))
        assert got["region"].astype(object).where(got["region"].notna(), None).tolist() == \
            want["region"].astype(object).where(want["region"].notna(), None).tolist()
        assert [r[:1] for r in got["region"].dropna().astype(str)].count("a") == 3
        assert [quarantined(e)["reason"].tolist() for e in (engine, text_engine)] == [[f"region: {UNSTORABLE}"]] * 2
        assert volume(engine)[["n_rows", "n_new_categories"]].values.tolist() == \
            volume(text_engine)[["n_rows", "n_new_categories"]].values.tolist()
        assert _profiles_of(engine, "region") == _profiles_of(text_engine, "region")
    finally:
        text_engine.dispose()
