"""The http source against hostile or broken servers on 127.0.0.1 (issue #18 item 10, and item 14 for tokens).

A ``next`` on another port must not receive the token, a cursor cycle is an error, ``timeout`` bounds
a whole request even when the body trickles, ``Retry-After`` is honoured, and a token the server
echoes never reaches the store or the logs.
"""

import http.server
import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from helpers_collect import MODEL, log_rows, setup

from driftscope.collectors import collect
from driftscope.collectors.base import SourceState
from driftscope.collectors.config import SourceConfig
from driftscope.collectors.http import HttpSource
from driftscope.errors import SourceError
from driftscope.storage.collector_state import list_collector_runs
from driftscope.storage.db import transaction

TOKEN = "tok-3f9a1c77e2"


@dataclass
class Answer:
    """One scripted answer: status, headers, body chunks and the pause before each chunk (seconds)."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    trickle_s: float = 0.0


@dataclass
class Seen:
    path: str
    auth: str | None
    at: float


@contextmanager
def scripted(answer: Callable[[str], Answer]) -> Iterator[tuple[str, list[Seen]]]:
    """A real HTTP server on 127.0.0.1 answering each GET path with ``answer(path)``; yields its base URL."""
    seen: list[Seen] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(Seen(self.path, self.headers.get("Authorization"), time.monotonic()))
            reply = answer(self.path)
            self.send_response(reply.status)
            for key, value in {"Content-Type": "application/json", **reply.headers}.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            try:
                if not reply.trickle_s:
                    self.wfile.write(reply.body)
                for byte in (reply.body if reply.trickle_s else b""):
                    time.sleep(reply.trickle_s)
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
            except OSError:
                return

        def log_message(self, *args: Any) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def page(items: list[Any], following: str | None) -> Answer:
    return Answer(body=json.dumps({"items": items, "next": following}).encode())


def items(start: int, n: int) -> list[dict]:
    return json.loads(log_rows(n, start=start).to_json(orient="records", date_format="iso", date_unit="us"))


def source(url: str, **options: object) -> dict:
    return {"name": "api", "kind": "http", "model": MODEL, "version": "1.0", "records": "predictions", "url": url,
            "timeout": "5s", "token": "${API_TOKEN}", **options}


@pytest.fixture(autouse=True)
def api_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_TOKEN", TOKEN)


def test_a_next_on_another_origin_is_refused_and_gets_no_token(engine, tmp_path) -> None:
    with scripted(lambda path: page(items(0, 2), None)) as (other, other_seen), \
            scripted(lambda path: page(items(0, 3), f"{other}/steal")) as (base, seen):
        config = setup(tmp_path, engine, [source(f"{base}/predictions")])
        [summary] = collect(engine, config)
    assert other_seen == [], "the other origin was contacted"
    assert [s.auth for s in seen] == [f"Bearer {TOKEN}"]
    assert summary.status == "failed" and summary.rows_stored == 3
    assert "source 'api'" in summary.error and "another origin" in summary.error and other in summary.error


def test_a_same_origin_next_url_is_followed(sqlite_engine, tmp_path) -> None:
    pages = {"/predictions": page(items(0, 2), "/predictions/2"), "/predictions/2": page(items(2, 2), None)}
    with scripted(lambda path: pages[path]) as (base, seen):
        config = setup(tmp_path, sqlite_engine, [source(f"{base}/predictions")])
        [summary] = collect(sqlite_engine, config)
    assert (summary.status, summary.rows_stored) == ("succeeded", 4)
    assert [s.path for s in seen] == ["/predictions", "/predictions/2"]


def test_a_cursor_cycle_is_an_error_not_an_endless_loop(engine, tmp_path) -> None:
    cycle = {"": "A", "A": "B", "B": "A"}

    def answer(path: str) -> Answer:
        cursor = path.partition("cursor=")[2]
        return page(items(len(cursor) * 10 + ord(cursor or "0"), 1), cycle[cursor])

    with scripted(answer) as (base, seen):
        config = setup(tmp_path, engine, [source(f"{base}/predictions")])
        started = time.monotonic()
        [summary] = collect(engine, config)
    assert time.monotonic() - started < 10 and len(seen) == 3
    assert summary.status == "failed" and "cycle" in summary.error and "'A'" in summary.error


def test_timeout_is_a_total_deadline_for_a_trickling_body(sqlite_engine, tmp_path) -> None:
    body = json.dumps({"items": items(0, 1), "next": None}).encode()
    with scripted(lambda path: Answer(body=body, trickle_s=0.05)) as (base, _):
        config = setup(tmp_path, sqlite_engine, [source(f"{base}/predictions", timeout="1s", retries=0)])
        started = time.monotonic()
        [summary] = collect(sqlite_engine, config)
        took = time.monotonic() - started
    assert len(body) * 0.05 > 5, "the body must trickle for far longer than the timeout"
    assert took < 3.5, took
    assert summary.status == "failed" and "within timeout 1s" in summary.error and base in summary.error


def test_retry_after_is_honoured(sqlite_engine, tmp_path) -> None:
    answers = iter([Answer(status=429, headers={"Retry-After": "1"}, body=b"{}"), page(items(0, 2), None)])
    with scripted(lambda path: next(answers)) as (base, seen):
        config = setup(tmp_path, sqlite_engine, [source(f"{base}/predictions", retries=2)])
        [summary] = collect(sqlite_engine, config)
    assert (summary.status, summary.rows_stored) == ("succeeded", 2)
    assert len(seen) == 2 and seen[1].at - seen[0].at >= 0.95


def test_a_token_echoed_by_the_server_is_scrubbed_from_the_store_and_logs(engine, tmp_path, caplog) -> None:
    echo = Answer(status=401, body=json.dumps({"error": f"invalid token {TOKEN}"}).encode())
    with scripted(lambda path: echo) as (base, _), caplog.at_level(logging.INFO):
        config = setup(tmp_path, engine, [source(f"{base}/predictions")])
        [summary] = collect(engine, config)
        logging.getLogger("driftscope.test").error("echo %s", TOKEN)
    with transaction(engine) as session:
        [run] = list_collector_runs(session, source="api")
    assert summary.status == "failed" and "HTTP 401" in run.error and "***" in run.error
    assert TOKEN not in run.error and TOKEN not in summary.error
    assert caplog.records and all(TOKEN not in r.getMessage() for r in caplog.records)
    assert "echo ***" in caplog.text


@contextmanager
def stalling(steps: list[tuple[float, bytes]], hold_s: float = 8.0) -> Iterator[str]:
    """A raw TCP server on 127.0.0.1: for each connection, after reading the request, sends each
    ``(pause seconds, bytes)`` step, then stays silent (up to ``hold_s``) until the client hangs up."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    stop = threading.Event()

    def answer(conn: socket.socket) -> None:
        with conn:
            conn.settimeout(hold_s)
            try:
                conn.recv(65536)
                for pause, data in steps:
                    if stop.wait(pause):
                        return
                    conn.sendall(data)
                conn.recv(1)  # silent until the client closes (b"") or hold_s passes
            except OSError:
                return

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=answer, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/predictions"
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n"
DEADLINE_SLACK_S = 0.6
STALLS = {
    # body bytes until just before the deadline, then silence: a per-read timeout would wait one more second
    "silent_near_the_deadline": [(0.0, HEAD), *[(0.3, b" ")] * 3],
    # one header byte every 0.3 s: each read is in time, the headers never end
    "trickled_headers": [(0.0, b"HTTP/1.1 200 OK\r\n"), *[(0.3, b"X")] * 20],
    # the status line never comes
    "silent_before_the_status": [],
}


@pytest.mark.parametrize("stall", STALLS, ids=list(STALLS))
def test_timeout_is_a_hard_deadline_per_attempt(stall: str) -> None:
    spec = SourceConfig.model_validate(source("http://127.0.0.1:9/", timeout="1s", retries=0, token=None))
    with stalling(STALLS[stall]) as url:
        started = time.monotonic()
        with pytest.raises(SourceError, match="did not finish within timeout 1s") as info:
            list(HttpSource(spec.model_copy(update={"url": url})).batches(SourceState()))
        took = time.monotonic() - started
    assert took < 1.0 + DEADLINE_SLACK_S, (stall, took)
    assert url in str(info.value)


def test_each_retry_has_its_own_deadline() -> None:
    spec = SourceConfig.model_validate(source("http://127.0.0.1:9/", timeout="0.5s", retries=1, token=None))
    with stalling([]) as url:
        started = time.monotonic()
        with pytest.raises(SourceError, match="2 attempts"):
            list(HttpSource(spec.model_copy(update={"url": url})).batches(SourceState()))
        took = time.monotonic() - started
    assert 2 * 0.5 <= took < 2 * 0.5 + 0.25 + DEADLINE_SLACK_S, took  # two attempts and one 0.25 s backoff
