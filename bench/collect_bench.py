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
table prints driftscope's first collect as a fraction of it. A second floor COPYs only the rows of
driftscope's id index (the ``predictions`` table: version, id, timestamp, chunk, with its primary
key and its (version, timestamp) index), which every first collect writes besides the rest.

Profiles are on (the reference gives the version its specs at ``apply``): every stored batch also
updates the hourly profiles of the buckets it touched, in the same transaction. The collector
computes a batch's profiles while it prepares the batch (in its read-ahead thread, beside the
writer), and the writer merges and stores them. Printed per store, the goal being under 10 %:

* the writer's upkeep (:func:`driftscope.storage.profiles.store.add_stored_rows`, wrapped with a
  timer) as a share of the first collect, and the read-ahead thread's CPU time computing profiles;
* what profiles cost the collect as a whole: a third collect of the same rows into a fresh store
  whose version has no specs (so nothing is profiled), compared in wall time and in this process's
  CPU time (all threads; PostgreSQL's server processes are not in it).

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
from typing import Any

import numpy as np
import pandas as pd
import yaml
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from driftscope.apply import apply_config
from driftscope.collectors import collect
from driftscope.config import load_config
from driftscope.storage import migrations, predictions
from driftscope.storage.db import make_engine, transaction
from driftscope.storage.pg_binary_copy import encode_binary_copy
from driftscope.storage.profiles.store import save_specs
from driftscope.storage.registry import get_version

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


UPKEEP = {"writer": 0.0, "ahead_cpu": 0.0}


def _timed_profile_upkeep() -> None:
    """Time the writer's profile upkeep (wall) and the profiling done ahead of it (that thread's CPU)."""
    upkeep, compute = predictions.add_stored_rows, predictions.profile_table

    def timed_upkeep(*args: Any, **kwargs: Any) -> None:
        start = time.perf_counter()
        try:
            upkeep(*args, **kwargs)
        finally:
            UPKEEP["writer"] += time.perf_counter() - start

    def timed_compute(*args: Any, **kwargs: Any) -> Any:
        start = time.thread_time()
        try:
            return compute(*args, **kwargs)
        finally:
            UPKEEP["ahead_cpu"] += time.thread_time() - start

    predictions.add_stored_rows = timed_upkeep  # type: ignore[assignment]
    predictions.profile_table = timed_compute  # type: ignore[assignment]


def _without_profiles(engine: Engine) -> None:
    """Drop the version's specs: its rows are then stored without profiles."""
    with transaction(engine) as session:
        save_specs(session, model_version_id=get_version(session, "bench", "1").id, specs={})


Timing = tuple[str, float, float, int]
"""A run's label, wall seconds, this process's CPU seconds and rows stored."""
FIRST, REWRITTEN, OFF = ("first collect (all new)", "files rewritten (all duplicates)",
                         "first collect, profiles off (no specs)")
FLOOR = "floor: raw binary COPY into a wide table with a primary key"
INDEX_FLOOR = "its id index alone: binary COPY of (version, id, ts, chunk) with its two indexes"


def run_store(root: Path, logs: pd.DataFrame, url: str, *, profiles: bool = True) -> list[Timing]:
    """Collect into the store at ``url``: first collect, then again after rewriting the files.

    Without ``profiles``, only the first collect, into a version without specs.
    """
    migrations.upgrade(url)
    config = load_config(write_project(root, logs, url))
    engine = make_engine(url)
    try:
        apply_config(config, engine)
        if not profiles:
            _without_profiles(engine)
        timings = []
        for label in (FIRST, REWRITTEN) if profiles else (OFF,):
            if label == REWRITTEN:
                write_project(root, logs, url)
            UPKEEP.update(writer=0.0, ahead_cpu=0.0)
            start, cpu = time.perf_counter(), time.process_time()
            [summary] = collect(engine, config)
            elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
            if label == FIRST:
                print(f"<!-- profile upkeep in the writer: {UPKEEP['writer']:.2f} s of {elapsed:.2f} s "
                      f"({UPKEEP['writer'] / elapsed:.1%}); profiles computed ahead: "
                      f"{UPKEEP['ahead_cpu']:.2f} s CPU -->", flush=True)
            if summary.status != "succeeded" or summary.rows_read != len(logs):
                raise SystemExit(f"collect did not read every row: {summary}")
            timings.append((label, elapsed, cpu, summary.rows_stored))
        return timings
    finally:
        engine.dispose()


def collect_store(store: str, base_url: str | None, logs: pd.DataFrame) -> list[Timing]:
    """Every run of one store (profiles on, profiles off, and PostgreSQL's COPY floor), each in a fresh store."""
    results = []
    for profiles in (True, False):
        with tempfile.TemporaryDirectory(prefix="collect_bench_") as tmp:
            root = Path(tmp)
            if base_url is None:
                results += run_store(root, logs, f"sqlite:///{root / 'store.db'}", profiles=profiles)
            else:
                with postgres_database(base_url) as url:
                    results += run_store(root, logs, url, profiles=profiles)
    if base_url is not None:
        with postgres_database(base_url) as url:
            start = time.process_time()
            floor = copy_floor(url, logs)
            results.append((FLOOR, floor, time.process_time() - start, len(logs)))
        with postgres_database(base_url) as url:
            start = time.process_time()
            floor = index_floor(url, logs)
            results.append((INDEX_FLOOR, floor, time.process_time() - start, len(logs)))
    return results


def copy_floor(url: str, logs: pd.DataFrame, batch: int = 50_000) -> float:
    """Seconds for the raw binary COPY of ``logs`` into a wide table with a primary key (see the module docstring)."""
    types = {"request_id": "text", "ts": "timestamp with time zone", "predicted_label": "bigint",
             "score": "double precision"}
    types |= {c: "double precision" if c.startswith("num_") else "text" for c in logs.columns if c not in types}
    key = ' COLLATE "C" PRIMARY KEY'
    columns = ", ".join(f"{c} {t}{key if c == 'request_id' else ''}" for c, t in types.items())
    return timed_copy(url, [f"CREATE TABLE copy_floor ({columns})"], "copy_floor", logs, types, batch)


def index_floor(url: str, logs: pd.DataFrame, batch: int = 50_000) -> float:
    """Seconds for the binary COPY of driftscope's id index alone: the ``predictions`` table's four columns
    (version, id, timestamp, chunk) with its primary key and its (version, timestamp) index.

    A first collect writes these rows too (besides the Arrow chunks, the hourly volume and the
    profiles), in one server process per transaction, so its time is part of every collect's.
    """
    rows = pd.DataFrame({"model_version_id": np.ones(len(logs), dtype=np.int64), "prediction_id": logs["request_id"],
                         "ts": logs["ts"], "chunk_id": np.arange(len(logs), dtype=np.int64) // batch})
    types = {"model_version_id": "bigint", "prediction_id": "character varying", "ts": "timestamp with time zone",
             "chunk_id": "bigint"}
    ddl = ['CREATE TABLE index_floor (model_version_id bigint NOT NULL, prediction_id varchar(200) COLLATE "C" '
           "NOT NULL, ts timestamp with time zone NOT NULL, chunk_id bigint NOT NULL, "
           "PRIMARY KEY (model_version_id, prediction_id))",
           "CREATE INDEX ON index_floor (model_version_id, ts)"]
    return timed_copy(url, ddl, "index_floor", rows, types, batch)


def timed_copy(url: str, ddl: list[str], table: str, rows: pd.DataFrame, types: dict[str, str], batch: int) -> float:
    """Create ``table`` by ``ddl``; seconds to binary-COPY ``rows`` (encoded beforehand), ``batch`` rows a commit."""
    payloads = [encode_binary_copy(rows.iloc[lo:lo + batch], types) for lo in range(0, len(rows), batch)]
    engine = create_engine(make_url(url))
    try:
        with engine.begin() as conn:
            for statement in ddl:
                conn.execute(text(statement))
        start = time.perf_counter()
        for encoded in payloads:
            with engine.begin() as conn:
                cursor = conn.connection.driver_connection.cursor()
                names = ", ".join(encoded.columns)
                with cursor.copy(f"COPY {table} ({names}) FROM STDIN WITH (FORMAT binary)") as copy:
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
    print("| store | run | seconds | CPU s (this process) | rows/s | rows stored | goal (first collect) |")
    print("|---|---|---:|---:|---:|---:|---:|")
    stores = [("sqlite", None)] + ([("postgresql", args.pg_url)] if args.pg_url else [])
    for store, base_url in stores:
        results = collect_store(store, base_url, logs)
        for label, seconds, cpu, stored in results:
            goal = f"{GOALS[store]:,}" if label == FIRST else ""
            print(f"| {store} | {label} | {seconds:.2f} | {cpu:.2f} | {args.rows / seconds:,.0f} | {stored:,} "
                  f"| {goal} |", flush=True)
        timings = {label: (seconds, cpu) for label, seconds, cpu, _ in results}
        (on, on_cpu), (off, off_cpu) = timings[FIRST], timings[OFF]
        print(f"\n{store}: profiles add {on - off:+.2f} s ({(on - off) / on:+.1%}) to the first collect's wall time "
              f"and {on_cpu - off_cpu:+.2f} s ({(on_cpu - off_cpu) / on_cpu:+.1%}) to its CPU time\n", flush=True)
        if base_url is not None:
            floor, index = timings[FLOOR][0], timings[INDEX_FLOOR][0]
            print(f"PostgreSQL first collect at {floor / on:.0%} of the server's raw COPY floor "
                  f"({args.rows / floor:,.0f} rows/s) on this machine; writing its id index alone takes "
                  f"{index / floor:.0%} of the floor's time and {index / on:.0%} of the collect's", flush=True)
    if not args.pg_url:
        print("\n(PostgreSQL skipped: pass --pg-url or set DRIFTSCOPE_TEST_PG_URL)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
