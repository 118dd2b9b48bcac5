"""Does a monitor run's cost stay flat as history and window grow? Profiles vs raw rows, and lake engines.

Workload: ``--rows`` predictions a day x 20 features (14 numeric, 6 categorical; the rows of
``bench/collect_bench.py``), written through the store's writer (which keeps the hourly profiles),
on SQLite (and PostgreSQL with ``--pg-url``). Each monitor run is a separate process, so its wall
time includes fitting on the 5 000-row reference and its peak RSS is that process's alone
(``VmHWM``; a bare process with the imports is printed as the floor).

(a) one daily window from raw rows and from profiles, with each of ``--days`` days stored (e.g. 1,10,30);
(b) each ``--windows``-day window (e.g. 7,30) from raw rows and from profiles, with the last ``--days``
    stored; the rows path of a window over ``--rows-max`` rows is skipped and says so (it holds the
    window in memory: about 1.4 GB per million rows, so 30 days of 1M rows would need about 40 GB);
(c) a hive-partitioned Parquet lake of ``--lake-rows`` rows per size (``LAKE_DAYS`` daily
    partitions of 4 files, written to a temporary folder under ``--tmp``, deleted after), profiled
    with ``engine: local`` and ``engine: spark`` (local[2]); the driver's peak RSS (Spark's JVM is
    another process and not counted); then the ``LAKE_DAYS``-day window, i.e. every lake row,
    computed from the profiles by a monitor run;
(d) the same window with Evidently (``DataDriftPreset``) on the rows read from the lake with
    pandas, as a user of Evidently would run it, against the same reference; sizes above
    ``--evidently-max-rows`` are skipped and a run is stopped after ``--evidently-timeout`` seconds.

Every child process is stopped after ``--timeout`` seconds (printed as such), so a run stays
bounded on a shared machine.

Run: ``python bench/scale_bench.py [--rows N] [--days D,D] [--windows W,W] [--lake-rows N,N] [--pg-url URL]
[--skip-stores]``. The issue's sizes: ``--rows 1000000 --days 1,10,30 --windows 7,30``.
"""

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).parent))
from collect_bench import N_CATEGORICAL, N_NUMERIC, T0, make_logs, postgres_database

FEATURES = {f"num_{i}": "numeric" for i in range(N_NUMERIC)} | {f"cat_{i}": "categorical"
                                                                for i in range(N_CATEGORICAL)}
SCHEMA = {"id": "request_id", "timestamp": "ts", "prediction": "predicted_label", "probability": "score",
          "features": FEATURES}


def write_config(root: Path, url: str, windows: list[int], lake: Path | None = None) -> Path:
    """Config with a rows-path and a profile-path monitor per window length (1 day and ``windows``; lake sources)."""
    make_logs(5000, seed=1).to_parquet(root / "reference.parquet", index=False)
    monitors = [{"name": f"{path}-{days}d", "model": "bench", "kind": "data_drift", "window": f"{days}d",
                 "path": path, "tests": {c: {"method": "ks"} for c in FEATURES if c.startswith("num_")}}
                for days in sorted({1, *windows}) for path in ("rows", "profile")]
    config = {"database_url": url, "monitors": monitors,
              "models": [{"name": "bench", "task": "binary_classification",
                          "versions": [{"version": "1", "reference": "reference.parquet"}], "schema": SCHEMA}]}
    if lake is not None:
        base = {"kind": "lake", "model": "bench", "version": "1", "records": "predictions", "url": str(lake),
                "partition": "scored_date"}
        config["sources"] = [{"name": "lake-local", **base, "engine": "local"},
                             {"name": "lake-spark", **base, "engine": "spark", "spark_master": "local[2]"}]
    path = root / "driftscope.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def store_days(config_path: Path, first: int, last: int, rows: int) -> None:
    """Write days ``first..last-1`` of ``rows`` predictions each through the store's writer."""
    from driftscope.config import load_config
    from driftscope.storage.db import make_engine, transaction
    from driftscope.storage.predictions import write_predictions
    from driftscope.storage.registry import get_version

    engine = make_engine(load_config(config_path).database_url)
    for day in range(first, last):
        logs = make_logs(rows, seed=day)
        logs["ts"] = T0 + timedelta(days=day) + (logs["ts"] - T0) / 10  # make_logs spreads over 10 days
        logs["request_id"] = f"d{day}-" + logs["request_id"]
        frame = logs.rename(columns={"request_id": "prediction_id", "predicted_label": "prediction",
                                     "score": "probability"})
        for lo in range(0, rows, 100_000):
            with transaction(engine) as session:
                version = get_version(session, "bench", "1")
                write_predictions(session, model_version_id=version.id, frame=frame.iloc[lo:lo + 100_000],
                                  source="bench")
    engine.dispose()


TIMEOUT_S = {"child": 1800.0, "evidently": 600.0}


EVIDENTLY_MEMORY = 12 * 2**30
"""Address-space limit of the Evidently child (bytes): it fails with a MemoryError rather than wake the
kernel's OOM killer on a shared machine."""


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (EVIDENTLY_MEMORY, EVIDENTLY_MEMORY))


def child(argv: list[str]) -> dict:
    """Run ``scale_bench.py --child ...`` and return its JSON line (``error`` set when it failed or timed out)."""
    try:
        out = subprocess.run([sys.executable, __file__, "--child", *argv], check=True, capture_output=True,
                             text=True, timeout=TIMEOUT_S["evidently" if argv[0] == "evidently" else "child"],
                             preexec_fn=_limit_memory if argv[0] == "evidently" else None)
    except subprocess.TimeoutExpired as exc:
        return {"error": f"not finished: stopped after {exc.timeout:.0f} s"}
    except subprocess.CalledProcessError as exc:
        lines = (exc.stderr or "").strip().splitlines()
        return {"error": f"failed: {lines[-1] if lines else exc.returncode}"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(kind: str, config_path: str, name: str, end_day: int) -> None:
    """The child: one monitor run or one lake collect; prints seconds, peak RSS and rows."""
    from driftscope.config import load_config
    from driftscope.storage.db import make_engine

    config = load_config(config_path)
    engine = make_engine(config.database_url)
    start = time.perf_counter()
    if kind == "floor":
        n_rows = 0
    elif kind == "evidently":
        n_rows = evidently_window(config_path, Path(name))
    elif kind == "monitor":
        from driftscope.monitors.runner import run_monitors

        [run] = run_monitors(engine, config, monitor=name, window_end=T0 + timedelta(days=end_day))
        if run.status != "succeeded":
            raise SystemExit(f"{name}: {run.status} {run.error}")
        n_rows = run.n_rows
    else:
        from driftscope.collectors import collect

        [summary] = collect(engine, config, sources=[name])
        if summary.status != "succeeded":
            raise SystemExit(f"{name}: {summary.error}")
        n_rows = summary.rows_read
    print(json.dumps({"seconds": time.perf_counter() - start, "n_rows": n_rows, "peak_mib": peak_mib()}))


def evidently_window(config_path: str, lake: Path) -> int:
    """Evidently's ``DataDriftPreset`` on every row of the lake (read with pandas) against the reference."""
    import warnings

    import pandas as pd
    from evidently import Report
    from evidently.presets import DataDriftPreset

    warnings.simplefilter("ignore")
    columns = [*FEATURES, "predicted_label", "score"]
    reference = pd.read_parquet(Path(config_path).parent / "reference.parquet", columns=columns)
    current = pd.read_parquet(lake, columns=columns)
    Report([DataDriftPreset()]).run(current, reference)
    return len(current)


def peak_mib() -> float:
    """This process's peak RSS (``VmHWM``; ``ru_maxrss`` would include the parent's peak, kept across exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


LAKE_DAYS = 10
LAKE_FIRST_DAY = 6
"""The lake's first partition is ``T0`` + 6 days (2026-01-07), so its ``LAKE_DAYS`` days are one window
(windows are aligned on the Unix epoch)."""


def write_lake(root: Path, total: int, days: int = LAKE_DAYS) -> None:
    """``total`` rows in ``days`` partitions of 4 files each, from ``T0 + LAKE_FIRST_DAY`` days."""
    per_day = total // days
    for day in range(days):
        folder = root / f"scored_date={(T0 + timedelta(days=LAKE_FIRST_DAY + day)).date()}"
        folder.mkdir(parents=True)
        for part, lo in enumerate(range(0, per_day, per_day // 4)):
            make_logs(min(per_day // 4, per_day - lo), seed=day * 10 + part).to_parquet(
                folder / f"part-{part}.parquet", index=False)


def row(label: str, result: dict) -> str:
    if "error" in result:
        return f"| {label} | | {result['error']} | |"
    return f"| {label} | {result['n_rows']:,} | {result['seconds']:.2f} | {result['peak_mib']:,.0f} |"


def run_store(url: str, args: argparse.Namespace, store: str) -> None:
    from driftscope.apply import apply_config
    from driftscope.config import load_config
    from driftscope.storage import migrations
    from driftscope.storage.db import make_engine

    with tempfile.TemporaryDirectory(prefix="scale_bench_") as tmp:
        config_path = write_config(Path(tmp), url, args.windows)
        migrations.upgrade(url)
        engine = make_engine(url)
        apply_config(load_config(config_path), engine)
        engine.dispose()
        print(row(f"{store}: bare process (imports, no work)", child(["floor", str(config_path), "", "0"])))
        first = first_stored_day(args.days[-1], args.windows)
        stored = 0
        for days in args.days:
            start = time.perf_counter()
            store_days(config_path, first + stored, first + days, args.rows)
            print(f"<!-- {store}: days {stored}-{days - 1} written in {time.perf_counter() - start:.0f} s -->",
                  flush=True)
            stored = days
            for path in ("rows", "profile"):
                print(row(f"{store}: (a) 1-day window, {days} days stored, {path}",
                          child(["monitor", str(config_path), f"{path}-1d", str(first + days)])), flush=True)
        for window in args.windows:
            for path in ("rows", "profile"):
                label = f"{store}: (b) {window}-day window, {path}"
                if path == "rows" and window * args.rows > args.rows_max:
                    print(f"| {label} | | skipped: {window * args.rows:,} rows is over --rows-max {args.rows_max:,} "
                          "(the rows path holds the window in memory) | |", flush=True)
                    continue
                print(row(label, child(["monitor", str(config_path), f"{path}-{window}d", str(first + stored)])),
                      flush=True)


def first_stored_day(days: int, windows: list[int]) -> int:
    """The first stored day (after ``T0``) such that the ``days`` stored days end on a boundary of every window.

    The end is the first day from ``T0 + days`` on that :func:`driftscope.monitors.windows.align`
    keeps for every window length (whole weeks align on Mondays, other lengths on the Unix epoch).
    """
    from driftscope.monitors.windows import align

    for offset in range(math.lcm(7, *windows) + 1):
        end = T0 + timedelta(days=days + offset)
        if all(align(end, timedelta(days=w)) == end for w in windows):
            return offset
    raise ValueError(f"no common boundary of {windows}-day windows")


def run_lake(args: argparse.Namespace) -> None:
    from driftscope.apply import apply_config
    from driftscope.config import load_config
    from driftscope.storage import migrations
    from driftscope.storage.db import make_engine

    for total in args.lake_rows:
        with tempfile.TemporaryDirectory(prefix="scale_bench_lake_", dir=args.tmp) as tmp:
            root = Path(tmp)
            start = time.perf_counter()
            write_lake(root / "lake", total)
            size = sum(f.stat().st_size for f in (root / "lake").rglob("*.parquet")) / 2**20
            print(f"<!-- lake of {total:,} rows written in {time.perf_counter() - start:.0f} s: {size:,.0f} MiB -->",
                  flush=True)
            url = f"sqlite:///{root / 'store.db'}"
            config_path = write_config(root, url, [LAKE_DAYS], lake=root / "lake")
            migrations.upgrade(url)
            engine = make_engine(url)
            apply_config(load_config(config_path), engine)
            engine.dispose()
            for source in ("lake-local", "lake-spark"):
                print(row(f"(c) lake {total:,} rows, {source}", child(["collect", str(config_path), source, "0"])),
                      flush=True)
            print(row(f"(c) lake {total:,} rows: {LAKE_DAYS}-day window from its profiles",
                      child(["monitor", str(config_path), f"profile-{LAKE_DAYS}d",
                             str(LAKE_FIRST_DAY + LAKE_DAYS)])), flush=True)
            label = f"(d) lake {total:,} rows: {LAKE_DAYS}-day window, Evidently DataDriftPreset on the rows"
            if total > args.evidently_max_rows:
                print(f"| {label} | | skipped (--evidently-max-rows {args.evidently_max_rows:,}) | |", flush=True)
            else:
                print(row(label, child(["evidently", str(config_path), str(root / "lake"), "0"])), flush=True)


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x]


def main() -> int:
    if sys.argv[1:2] == ["--child"]:
        measure(*sys.argv[2:5], int(sys.argv[5]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000, help="predictions a day")
    parser.add_argument("--days", type=_ints, default=[1, 5],
                        help="stored days at which (a) measures a 1-day window, ascending (e.g. 1,10,30)")
    parser.add_argument("--windows", type=_ints, default=[5],
                        help="(b)'s window lengths in days, at most the last --days")
    parser.add_argument("--rows-max", type=int, default=10_000_000,
                        help="(b) skips the rows path of windows above this many rows (about 1.4 GB per million)")
    parser.add_argument("--lake-rows", type=_ints, default=[1_000_000, 3_000_000])
    parser.add_argument("--pg-url", default=os.environ.get("DRIFTSCOPE_TEST_PG_URL"))
    parser.add_argument("--skip-stores", action="store_true", help="only the lake measurements (c) and (d)")
    parser.add_argument("--evidently-max-rows", type=int, default=100_000_000)
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds before a child process is stopped")
    parser.add_argument("--evidently-timeout", type=float, default=600.0, help="the same for Evidently's runs")
    parser.add_argument("--tmp", default=None, help="folder for the lakes (default: the system's temporary folder)")
    args = parser.parse_args()
    TIMEOUT_S.update(child=args.timeout, evidently=args.evidently_timeout)
    print(f"{args.rows:,} rows/day x {N_NUMERIC + N_CATEGORICAL} features; {args.days} days stored; windows of 1 and "
          f"{args.windows} days\n")
    print("| measurement | rows | seconds | peak RSS MiB |")
    print("|---|---:|---:|---:|")
    if not args.skip_stores:
        with tempfile.TemporaryDirectory(prefix="scale_bench_sqlite_") as tmp:
            run_store(f"sqlite:///{Path(tmp) / 'store.db'}", args, "sqlite")
        if args.pg_url:
            with postgres_database(args.pg_url) as url:
                run_store(url, args, "postgresql")
    run_lake(args)
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
