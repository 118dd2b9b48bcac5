"""How fast does ``driftscope collect`` ingest Parquet prediction logs into SQLite and PostgreSQL?

The workload: ``--rows`` prediction rows (default 1M) x 20 features (14 numeric, 6 categorical)
plus id, timestamp, prediction and probability, in 10 Parquet files, collected by one files source
through the whole pipeline (read, validate, unseen-category counting, Arrow chunks, index rows,
hourly volume, checkpoints), one transaction per 50 000-row batch. Reported per store: the first
collect (every row new), and a second collect after the files were rewritten (every row read again
and skipped as a duplicate). Goals on the 2-core reference machine: >= 100k rows/s on SQLite and
>= 200k rows/s on PostgreSQL for the first collect.

For PostgreSQL the script also measures the server's floor on the same rows: binary COPY of the
raw log rows, already encoded in memory, into one wide table whose only index is a primary key on
the id, in the same 50 000-row transactions. Nothing is validated, split or counted, and encoding
is not timed, so no ingest that stores these rows with a uniqueness guarantee can beat it; the
table prints driftscope's first collect as a fraction of it.

Profiles are on (the reference gives the version its specs at ``apply``): every stored batch also
updates the hourly profiles of the buckets it touched, in the same transaction. The time spent in
that upkeep (:func:`driftscope.storage.profiles.store.add_stored_rows`, wrapped with a timer by
this script) is printed as a share of the first collect; the goal is under 10 %.

Run: ``python bench/collect_bench.py [--rows N] [--pg-url URL]``. PostgreSQL runs when a URL is
given (default ``$DRIFTSCOPE_TEST_PG_URL``); a scratch database is created there and dropped.
"""

import argparse
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from driftscope.apply import apply_config
from driftscope.collectors import collect
from driftscope.config import load_config
from driftscope.storage import migrations, predictions
from driftscope.storage.db import make_engine
from driftscope.storage.pg_binary_copy import encode_binary_copy

N_NUMERIC, N_CATEGORICAL, N_FILES = 14, 6, 10
T0 = datetime(2026, 1, 1, tzinfo=UTC)
GOALS = {"sqlite": 100_000, "postgresql": 200_000}


def make_logs(n: int, seed: int = 0) -> pd.DataFrame:
    """Prediction log rows as a serving stack would write them, spread over 10 days."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "request_id": np.char.add("req-", np.arange(n).astype(str)).astype(object),
        "ts": pd.Timestamp(T0) + pd.to_timedelta(np.sort(rng.uniform(0, 10 * 86_400, n)), unit="s"),
        "predicted_label": rng.integers(0, 2, n),
        "score": rng.uniform(size=n),
    })
    for i in range(N_NUMERIC):
        frame[f"num_{i}"] = rng.normal(size=n)
    for i in range(N_CATEGORICAL):
        frame[f"cat_{i}"] = rng.choice([f"c{j}" for j in range(12)], n)
    return frame


def write_project(root: Path, logs: pd.DataFrame, database_url: str) -> Path:
    """Reference file, ``N_FILES`` Parquet log files and the config; return the config path."""
    (root / "logs").mkdir(parents=True, exist_ok=True)
    logs.iloc[:5000].to_parquet(root / "reference.parquet", index=False)
    for i, part in enumerate(np.array_split(np.arange(len(logs)), N_FILES)):
        logs.iloc[part].to_parquet(root / "logs" / f"part-{i:02d}.parquet", index=False, row_group_size=100_000)
    features = {f"num_{i}": "numeric" for i in range(N_NUMERIC)} | {f"cat_{i}": "categorical"
                                                                    for i in range(N_CATEGORICAL)}
    config = {
        "database_url": database_url,
        "models": [{"name": "bench", "task": "binary_classification",
                    "versions": [{"version": "1", "reference": "reference.parquet"}],
                    "schema": {"id": "request_id", "timestamp": "ts", "prediction": "predicted_label",
                               "probability": "score", "features": features}}],
        "sources": [{"name": "bench-logs", "kind": "files", "model": "bench", "version": "1",
                     "records": "predictions", "url": "logs/*.parquet", "page_size": 50_000}],
    }
    path = root / "driftscope.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


@contextmanager
def postgres_database(base_url: str) -> Iterator[str]:
    """A scratch PostgreSQL database on the server of ``base_url``, dropped afterwards."""
    admin = create_engine(make_url(base_url), isolation_level="AUTOCOMMIT")
    name = f"driftscope_collect_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


PROFILE_SECONDS = [0.0]


def _timed_profile_upkeep() -> None:
    """Wrap the writer's profile upkeep so its wall time adds up in ``PROFILE_SECONDS``."""
    upkeep = predictions.add_stored_rows

    def timed(*args: object, **kwargs: object) -> None:
        start = time.perf_counter()
        try:
            upkeep(*args, **kwargs)  # type: ignore[arg-type]
        finally:
            PROFILE_SECONDS[0] += time.perf_counter() - start

    predictions.add_stored_rows = timed  # type: ignore[assignment]


def run_store(root: Path, logs: pd.DataFrame, url: str) -> list[tuple[str, float, int]]:
    """Collect into the store at ``url``: first collect, then again after rewriting the files."""
    migrations.upgrade(url)
    config = load_config(write_project(root, logs, url))
    engine = make_engine(url)
    try:
        apply_config(config, engine)
        timings = []
        for label in ("first collect (all new)", "files rewritten (all duplicates)"):
            if label.startswith("files"):
                write_project(root, logs, url)
            PROFILE_SECONDS[0] = 0.0
            start = time.perf_counter()
            [summary] = collect(engine, config)
            elapsed = time.perf_counter() - start
            if label.startswith("first"):
                print(f"<!-- profile upkeep: {PROFILE_SECONDS[0]:.2f} s of {elapsed:.2f} s "
                      f"({PROFILE_SECONDS[0] / elapsed:.1%}) -->", flush=True)
            if summary.status != "succeeded" or summary.rows_read != len(logs):
                raise SystemExit(f"collect did not read every row: {summary}")
            timings.append((label, elapsed, summary.rows_stored))
        return timings
    finally:
        engine.dispose()


def copy_floor(url: str, logs: pd.DataFrame, batch: int = 50_000) -> float:
    """Seconds for the raw binary COPY of ``logs`` into a wide table with a primary key (see the module docstring)."""
    types = {"request_id": "text", "ts": "timestamp with time zone", "predicted_label": "bigint",
             "score": "double precision"}
    types |= {c: "double precision" if c.startswith("num_") else "text" for c in logs.columns if c not in types}
    key = ' COLLATE "C" PRIMARY KEY'
    columns = ", ".join(f"{c} {t}{key if c == 'request_id' else ''}" for c, t in types.items())
    payloads = [encode_binary_copy(logs.iloc[lo:lo + batch], types) for lo in range(0, len(logs), batch)]
    engine = create_engine(make_url(url))
    try:
        with engine.begin() as conn:
            conn.execute(text(f"CREATE TABLE copy_floor ({columns})"))
        start = time.perf_counter()
        for encoded in payloads:
            with engine.begin() as conn:
                cursor = conn.connection.driver_connection.cursor()
                names = ", ".join(encoded.columns)
                with cursor.copy(f"COPY copy_floor ({names}) FROM STDIN WITH (FORMAT binary)") as copy:
                    copy.write(encoded.payload)
        return time.perf_counter() - start
    finally:
        engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--pg-url", default=os.environ.get("DRIFTSCOPE_TEST_PG_URL"))
    args = parser.parse_args()
    _timed_profile_upkeep()
    logs = make_logs(args.rows)
    print(f"{args.rows:,} rows x {N_NUMERIC + N_CATEGORICAL} features in {N_FILES} Parquet files, "
          "one files source, 50 000-row batches\n")
    print("| store | run | seconds | rows/s | rows stored | goal (first collect) |")
    print("|---|---|---:|---:|---:|---:|")
    stores = [("sqlite", None)] + ([("postgresql", args.pg_url)] if args.pg_url else [])
    for store, base_url in stores:
        with tempfile.TemporaryDirectory(prefix="collect_bench_") as tmp:
            root = Path(tmp)
            if base_url is None:
                results = run_store(root, logs, f"sqlite:///{root / 'store.db'}")
            else:
                with postgres_database(base_url) as url:
                    results = run_store(root, logs, url)
                with postgres_database(base_url) as url:
                    floor = copy_floor(url, logs)
                results.append(("floor: raw binary COPY into a wide table with a primary key", floor, len(logs)))
        for label, seconds, stored in results:
            goal = f"{GOALS[store]:,}" if label.startswith("first") else ""
            print(f"| {store} | {label} | {seconds:.2f} | {args.rows / seconds:,.0f} | {stored:,} | {goal} |",
                  flush=True)
        if base_url is not None:
            print(f"\nPostgreSQL first collect at {results[-1][1] / results[0][1]:.0%} of the server's raw COPY floor "
                  f"({args.rows / results[-1][1]:,.0f} rows/s) on this machine", flush=True)
    if not args.pg_url:
        print("\n(PostgreSQL skipped: pass --pg-url or set DRIFTSCOPE_TEST_PG_URL)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
