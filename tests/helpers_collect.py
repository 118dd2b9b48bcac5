"""Shared pieces of the collector tests: a registered credit model, log rows, a real HTTP server, store reads."""

import http.server
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import numpy as np
import pandas as pd
import yaml
from sqlalchemy import Engine

from driftscope.apply import apply_config
from driftscope.config import Config, parse_config
from driftscope.storage.collector_state import file_marks, get_watermark, list_collector_runs
from driftscope.storage.db import transaction
from driftscope.storage.labels import labels_for_window
from driftscope.storage.predictions import hourly_volume, read_window
from driftscope.storage.quarantine import list_quarantined
from driftscope.storage.registry import get_version

MODEL = "credit-default"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
SCHEMA = {
    "id": "request_id",
    "timestamp": "ts",
    "prediction": "predicted_label",
    "probability": "score",
    "target": "defaulted",
    "features": {"income": "numeric", "age": "numeric", "region": "categorical", "has_card": "binary"},
}
LOG_COLUMNS = ["request_id", "ts", "predicted_label", "score", "income", "age", "region", "has_card"]


def log_rows(n: int, *, start: int = 0, seed: int = 0, prefix: str = "r") -> pd.DataFrame:
    """``n`` valid prediction log rows (source column names = schema names), ids ``{prefix}{start+i}``."""
    rng = np.random.default_rng(seed)
    score = rng.uniform(size=n)
    return pd.DataFrame({
        "request_id": [f"{prefix}{i}" for i in range(start, start + n)],
        "ts": pd.date_range(T0 + timedelta(minutes=start), periods=n, freq="min", tz="UTC"),
        "predicted_label": (score > 0.5).astype(np.int64),
        "score": score,
        "income": rng.normal(50_000, 10_000, n),
        "age": rng.integers(18, 90, n).astype(float),
        "region": rng.choice(["north", "south", "east"], n),
        "has_card": rng.integers(0, 2, n),
    })


def config_document(root: Path, database_url: str, sources: list[dict[str, Any]],
                    versions: tuple[str, ...] = ("1.0", "2.0")) -> dict[str, Any]:
    """The config document of the credit model (``versions``, one schema) and ``sources``; writes the reference."""
    root.mkdir(parents=True, exist_ok=True)
    reference = log_rows(300, seed=1, prefix="ref").assign(defaulted=lambda f: (f["score"] > 0.6).astype(int))
    reference.to_parquet(root / "reference.parquet", index=False)
    return {
        "database_url": database_url,
        "models": [{"name": MODEL, "task": "binary_classification",
                    "versions": [{"version": v, "reference": "reference.parquet"} for v in versions],
                    "schema": SCHEMA}],
        "sources": sources,
    }


def make_config(root: Path, database_url: str, sources: list[dict[str, Any]],
                versions: tuple[str, ...] = ("1.0", "2.0")) -> Config:
    """The parsed :func:`config_document` (paths relative to ``root``)."""
    return parse_config(config_document(root, database_url, sources, versions), base_dir=root)


def write_config(root: Path, database_url: str, sources: list[dict[str, Any]]) -> Path:
    """Write :func:`config_document` to ``root/driftscope.yaml`` and return its path."""
    path = root / "driftscope.yaml"
    path.write_text(yaml.safe_dump(config_document(root, database_url, sources), sort_keys=False))
    return path


def setup(root: Path, engine: Engine, sources: list[dict[str, Any]],
          versions: tuple[str, ...] = ("1.0", "2.0")) -> Config:
    """:func:`make_config`, then register it in the store (``driftscope apply``)."""
    config = make_config(root, engine.url.render_as_string(hide_password=False), sources, versions)
    apply_config(config, engine)
    return config


def files_source(name: str, url: str, **options: Any) -> dict[str, Any]:
    """A files source of predictions for version 1.0."""
    return {"name": name, "kind": "files", "model": MODEL, "version": "1.0", "records": "predictions",
            "url": url, **options}


def stored(engine: Engine, version: str = "1.0") -> pd.DataFrame:
    """Every stored prediction of ``version`` (canonical frame)."""
    with transaction(engine) as session:
        info = get_version(session, MODEL, version)
        return read_window(session, model_version_id=info.id, start=T0 - timedelta(days=3650),
                           end=T0 + timedelta(days=3650))


def stored_ids(engine: Engine, version: str = "1.0") -> list[str]:
    """Sorted prediction ids stored for ``version``."""
    frame = stored(engine, version)
    return sorted(frame["prediction_id"].astype(str)) if len(frame) else []


def volume(engine: Engine, version: str = "1.0") -> pd.DataFrame:
    """Hourly volume of ``version``."""
    with transaction(engine) as session:
        return hourly_volume(session, model_version_id=get_version(session, MODEL, version).id)


def labels(engine: Engine, version: str = "1.0") -> dict[str, str]:
    """Labels joined to the stored predictions of ``version``: prediction id -> label text."""
    with transaction(engine) as session:
        info = get_version(session, MODEL, version)
        frame = labels_for_window(session, model_id=info.model_id, model_version_id=info.id,
                                  start=T0 - timedelta(days=3650), end=T0 + timedelta(days=3650))
    return dict(zip(frame["prediction_id"], frame["label"], strict=True))


def quarantined(engine: Engine, source: str | None = None) -> pd.DataFrame:
    """Quarantined rows (of one source), oldest first."""
    with transaction(engine) as session:
        return list_quarantined(session, source=source, limit=100_000)


def runs(engine: Engine, source: str) -> list[Any]:
    """Collector runs of ``source``, newest first."""
    with transaction(engine) as session:
        return list_collector_runs(session, source=source)


def marks(engine: Engine, source: str) -> dict[str, Any]:
    """File marks of a files source."""
    with transaction(engine) as session:
        return file_marks(session, source=source)


def watermark(engine: Engine, source: str) -> str | None:
    """Committed watermark of a source."""
    with transaction(engine) as session:
        return get_watermark(session, source=source)


def assert_identity(summary: Any) -> None:
    """rows read = stored + duplicate + conflict + quarantined."""
    assert summary.rows_read == (summary.rows_stored + summary.rows_duplicate + summary.rows_conflict
                                 + summary.rows_quarantined), summary


class PagedApi:
    """Pages of items served by a real HTTP server: ``{"items": [...], "next": cursor}``.

    ``fail`` maps a cursor ("" for the first page) to how many more requests for it answer 500.
    ``token``, when set, is required as a bearer token (401 otherwise).
    """

    def __init__(self, pages: list[list[Any]], *, token: str | None = None) -> None:
        self.pages = pages
        self.token = token
        self.fail: dict[str, int] = {}
        self.requests: list[str] = []
        self.lock = threading.Lock()

    def respond(self, path: str, auth: str | None) -> tuple[int, bytes]:
        cursor = parse_qs(urlparse(path).query).get("cursor", [""])[0]
        with self.lock:
            self.requests.append(cursor)
            if self.token is not None and auth != f"Bearer {self.token}":
                return 401, b'{"error": "unauthorized"}'
            if self.fail.get(cursor, 0) > 0:
                self.fail[cursor] -= 1
                return 500, b'{"error": "try again"}'
            index = int(cursor[1:]) if cursor else 0
            following = f"c{index + 1}" if index + 1 < len(self.pages) else None
            return 200, json.dumps({"items": self.pages[index], "next": following}, default=str).encode()


@contextmanager
def serve(api: PagedApi) -> Iterator[str]:
    """Serve ``api`` on 127.0.0.1 (a free port) in a thread; yield its URL."""
    handler = _handler(api.respond)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/predictions"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _handler(respond: Callable[[str, str | None], tuple[int, bytes]]) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, body = respond(self.path, self.headers.get("Authorization"))
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return

    return Handler
