"""How fast does a 1M-row window come back into pandas? driftscope's layout against two alternatives.

Layouts, each holding the same rows (1M x 20 features: 14 numeric, 6 categorical):

* ``driftscope``: the store as shipped — Arrow IPC chunks per version and day plus a narrow
  index table (``driftscope.storage.predictions.read_window``).
* ``json-per-row``: one row per prediction with the features as JSON text, parsed in Python.
* ``wide-table``: one SQL column per feature, read with ``pandas.read_sql``.

Run: ``python bench/store_read_bench.py [--rows N] [--pg-url URL]``. PostgreSQL runs when a URL is
given (a scratch database is created and dropped). Prints seconds per layout and the ratio to
driftscope's time.
"""

import argparse
import json
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from driftscope.storage import migrations
from driftscope.storage.bulk import insert_frame
from driftscope.storage.db import make_engine, transaction
from driftscope.storage.predictions import read_window, write_predictions
from driftscope.storage.registry import ensure_model, ensure_version

N_NUMERIC, N_CATEGORICAL = 14, 6
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def make_frame(n: int, seed: int = 0) -> pd.DataFrame:
    """Canonical prediction rows spread over one day."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "prediction_id": np.char.add("p", np.arange(n).astype(str)).astype(object),
        "ts": pd.Timestamp(T0) + pd.to_timedelta(np.sort(rng.uniform(0, 86_399, n)), unit="s"),
        "prediction": rng.integers(0, 2, n),
        "probability": rng.uniform(size=n),
    })
    for i in range(N_NUMERIC):
        frame[f"num_{i}"] = rng.normal(size=n)
    for i in range(N_CATEGORICAL):
        frame[f"cat_{i}"] = rng.choice([f"c{j}" for j in range(12)], n)
    return frame


def _features(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c.startswith(("num_", "cat_"))]


def load_driftscope(engine: Engine, frame: pd.DataFrame) -> int:
    schema = {"id": "id", "timestamp": "ts", "prediction": "y", "features": {
        c: ("numeric" if c.startswith("num_") else "categorical") for c in _features(frame)}}
    with transaction(engine) as session:
        model_id, _ = ensure_model(session, name="bench", task="binary_classification", retrain_webhook=None)
        version_id, _ = ensure_version(session, model_id=model_id, version="1", column_schema=schema,
                                       status="active")
        write_predictions(session, model_version_id=version_id, frame=frame, source="bench")
    return version_id


def read_driftscope(engine: Engine, version_id: int) -> pd.DataFrame:
    with transaction(engine) as session:
        return read_window(session, model_version_id=version_id, start=T0, end=T0 + timedelta(days=1))


def load_json(engine: Engine, frame: pd.DataFrame) -> None:
    features = _features(frame)
    payload = [json.dumps(r) for r in frame[features].to_dict("records")]
    rows = pd.DataFrame({"prediction_id": frame["prediction_id"], "ts": frame["ts"], "features": payload})
    with transaction(engine) as session:
        session.execute(text("CREATE TABLE bench_json (prediction_id VARCHAR(200), ts TIMESTAMP, features TEXT)"))
        insert_frame(session, "bench_json", rows)


def read_json(engine: Engine) -> pd.DataFrame:
    with transaction(engine) as session:
        rows = session.execute(text("SELECT prediction_id, ts, features FROM bench_json")).all()
    features = pd.DataFrame([json.loads(r[2]) for r in rows])
    features.insert(0, "prediction_id", [r[0] for r in rows])
    features.insert(1, "ts", [r[1] for r in rows])
    return features


def load_wide(engine: Engine, frame: pd.DataFrame) -> None:
    cols = ", ".join(f"{c} {'DOUBLE PRECISION' if c.startswith('num_') else 'VARCHAR(50)'}" for c in _features(frame))
    with transaction(engine) as session:
        session.execute(text(f"CREATE TABLE bench_wide (prediction_id VARCHAR(200), ts TIMESTAMP, {cols})"))
        insert_frame(session, "bench_wide", frame[["prediction_id", "ts", *_features(frame)]])


def read_wide(engine: Engine) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.read_sql(text("SELECT * FROM bench_wide"), conn)


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def bench(url: str, frame: pd.DataFrame) -> dict[str, float]:
    migrations.upgrade(url)
    engine = make_engine(url)
    try:
        write_s, version_id = timed(lambda: load_driftscope(engine, frame))
        load_json(engine, frame)
        load_wide(engine, frame)
        results = {"driftscope write (s)": write_s}
        for name, reader in (("driftscope", lambda: read_driftscope(engine, version_id)),
                             ("json-per-row", lambda: read_json(engine)),
                             ("wide-table", lambda: read_wide(engine))):
            seconds, out = timed(reader)
            assert len(out) == len(frame), (name, len(out))
            results[name] = seconds
        return results
    finally:
        engine.dispose()


def _scratch_pg(base: str) -> tuple[str, Callable[[], None]]:
    admin = create_engine(make_url(base), isolation_level="AUTOCOMMIT")
    name = f"driftscope_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(base).set(database=name).render_as_string(hide_password=False), drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--pg-url", default=None, help="PostgreSQL server URL (a scratch database is used)")
    args = parser.parse_args()
    frame = make_frame(args.rows)
    print("| store | rows | driftscope write (s) | driftscope read (s) | json-per-row read (s) | "
          "wide-table read (s) | json / driftscope | wide / driftscope |")
    print("|---|---|---|---|---|---|---|---|")
    targets: list[tuple[str, str, Callable[[], None]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        targets.append(("sqlite", f"sqlite:///{Path(tmp) / 'bench.db'}", lambda: None))
        if args.pg_url:
            targets.append(("postgresql", *_scratch_pg(args.pg_url)))
        for label, url, cleanup in targets:
            try:
                r = bench(url, frame)
            finally:
                cleanup()
            print(f"| {label} | {args.rows:,} | {r['driftscope write (s)']:.2f} | {r['driftscope']:.2f} | "
                  f"{r['json-per-row']:.2f} | {r['wide-table']:.2f} | {r['json-per-row'] / r['driftscope']:.1f}x | "
                  f"{r['wide-table'] / r['driftscope']:.1f}x |", flush=True)


if __name__ == "__main__":
    main()
