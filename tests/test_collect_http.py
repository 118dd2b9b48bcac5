"""The http source against a real HTTP server on 127.0.0.1: cursor pages, 500s, retries, tokens."""

import json
import socket

import pytest
from helpers_collect import (
    MODEL,
    PagedApi,
    assert_identity,
    log_rows,
    quarantined,
    serve,
    setup,
    stored_ids,
    watermark,
)

from driftscope.collectors import collect
from driftscope.collectors.http import decode_cursor


def items(start: int, n: int) -> list[dict]:
    rows = log_rows(n, start=start)
    return json.loads(rows.to_json(orient="records", date_format="iso", date_unit="us"))


def http_source(url: str, **options: object) -> dict:
    return {"name": "api", "kind": "http", "model": MODEL, "version": "1.0", "records": "predictions", "url": url,
            "timeout": "5s", **options}


def test_pages_are_followed_and_500s_retried(engine, tmp_path) -> None:
    api = PagedApi([items(0, 10), items(10, 10), items(20, 5)])
    api.fail = {"c1": 2}
    with serve(api) as url:
        config = setup(tmp_path, engine, [http_source(url, retries=3)])
        [first] = collect(engine, config)
        [again] = collect(engine, config)

    assert (first.status, first.rows_read, first.rows_stored) == ("succeeded", 25, 25)
    assert api.requests[:5] == ["", "c1", "c1", "c1", "c2"]
    assert (again.rows_read, again.rows_stored) == (0, 0)
    assert stored_ids(engine) == sorted(f"r{i}" for i in range(25))
    assert decode_cursor(watermark(engine, "api")) == ("c2", 5)


def test_new_items_on_the_last_page_and_new_pages_are_picked_up(sqlite_engine, tmp_path) -> None:
    api = PagedApi([items(0, 4)])
    with serve(api) as url:
        config = setup(tmp_path, sqlite_engine, [http_source(url)])
        collect(sqlite_engine, config)
        api.pages[0] += items(4, 3)
        api.pages.append([*items(7, 2), "not an object"])
        [second] = collect(sqlite_engine, config)

    assert (second.rows_read, second.rows_stored, second.rows_quarantined) == (6, 5, 1)
    assert_identity(second)
    assert stored_ids(sqlite_engine) == sorted(f"r{i}" for i in range(9))
    [row] = quarantined(sqlite_engine, "api").to_dict("records")
    assert (row["location"], row["payload"]) == ("page c1 item 2", '"not an object"')


def test_a_server_that_keeps_failing_fails_the_source_and_keeps_what_was_stored(sqlite_engine, tmp_path) -> None:
    api = PagedApi([items(0, 3), items(3, 3)])
    api.fail = {"c1": 100}
    with serve(api) as url:
        config = setup(tmp_path, sqlite_engine, [http_source(url, retries=2)])
        [summary] = collect(sqlite_engine, config)
        api.fail = {}
        [resumed] = collect(sqlite_engine, config)

    assert summary.status == "failed" and "after 3 attempts" in summary.error and "HTTP 500" in summary.error
    assert (summary.rows_stored, resumed.rows_stored, resumed.rows_read) == (3, 3, 3)
    assert stored_ids(sqlite_engine) == sorted(f"r{i}" for i in range(6))


@pytest.mark.parametrize("token", ["s3cret", "wrong"])
def test_the_bearer_token_comes_from_the_environment(sqlite_engine, tmp_path, monkeypatch, token) -> None:
    monkeypatch.setenv("API_TOKEN", token)
    api = PagedApi([items(0, 2)], token="s3cret")
    with serve(api) as url:
        config = setup(tmp_path, sqlite_engine, [http_source(url, token="${API_TOKEN}")])
        [summary] = collect(sqlite_engine, config)

    if token == "s3cret":
        assert (summary.status, summary.rows_stored) == ("succeeded", 2)
    else:
        assert summary.status == "failed" and "HTTP 401" in summary.error and "check the token" in summary.error
        assert len(api.requests) == 1


def test_connection_errors_are_retried_then_fail_the_source(sqlite_engine, tmp_path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = setup(tmp_path, sqlite_engine, [http_source(f"http://127.0.0.1:{port}/predictions", retries=1)])

    [summary] = collect(sqlite_engine, config)

    assert summary.status == "failed" and "after 2 attempts" in summary.error and "ConnectionError" in summary.error
