"""Does every dashboard page render in under 2 s over a store of 10M predictions?

Fills a store through the storage functions (4 model versions over 60 days, 12 features, labels for
30% of the classifier's predictions, daily data-drift / performance / concept-drift results,
alerts, a scheduler heartbeat), then times, per page, the storage queries the page makes (uncached,
as on a first visit) and a full render of the page under Streamlit's AppTest, first with empty
caches and again with warm ones. The range is the dashboard's default: the 30 days up to the newest
data.

``--profile-year`` measures only the Feature page's *Whole range* reads over a year of hourly
profiles, without and with the daily roll-ups, in one run (about a minute with ``--pg-url``).

Run: ``python bench/dashboard_bench.py [--rows N] [--quick] [--pg-url URL] [--reuse] [--profile-year]``. The SQLite
store is kept in ``bench/out/``; with ``--pg-url`` the database ``driftscope_dashboard_bench_<rows>``
is filled and measured too, then dropped. ``--reuse`` skips filling stores an earlier run left (and
keeps the PostgreSQL database for the next one).
"""

import argparse
import logging
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from driftscope.pipeline import roll_up_profiles
from driftscope.storage import (
    alerts,
    drift_history,
    migrations,
    notifications,
    profile_reads,
    registry,
    result_series,
    retraining,
    run_history,
    scheduler_state,
    version_summary,
)
from driftscope.storage.db import make_engine, transaction
from driftscope.storage.labels import write_labels
from driftscope.storage.predictions import read_window, write_predictions
from driftscope.storage.profiles import build_specs
from driftscope.storage.profiles.backfill import profiled_types
from driftscope.storage.profiles.compute import histogram_cells, profile_table
from driftscope.storage.profiles.store import add_profiles, load_specs, save_specs
from driftscope.storage.results import add_detector_events, add_drift_results, add_metric_values, finish_run, start_run

HERE = Path(__file__).resolve().parent
APP = HERE.parent / "dashboard" / "entry" / "driftscope_dashboard.py"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
DAYS = 60
DAY = timedelta(days=1)
BATCH = 400_000
NUMERIC = [f"num_{i}" for i in range(8)]
CATEGORICAL = [f"cat_{i}" for i in range(4)]
FEATURES = {**dict.fromkeys(NUMERIC, "numeric"), **dict.fromkeys(CATEGORICAL, "categorical")}
VERSIONS = (  # model, task, version, status, share of the rows
    ("credit-default", "binary_classification", "1.0", "active", 0.45),
    ("credit-default", "binary_classification", "2.0", "shadow", 0.15),
    ("house-price", "regression", "3.1", "active", 0.25),
    ("churn", "binary_classification", "1.0", "active", 0.15),
)


def frame(n: int, start: datetime, span: timedelta, prefix: str, offset: int, rng: np.random.Generator) -> pd.DataFrame:
    """``n`` canonical predictions spread evenly over ``[start, start + span)``."""
    seconds = np.linspace(0, span.total_seconds(), n, endpoint=False)
    out = pd.DataFrame({
        "prediction_id": np.char.add(prefix, np.arange(offset, offset + n).astype(str)).astype(object),
        "ts": pd.Timestamp(start) + pd.to_timedelta(seconds, unit="s"),
        "prediction": rng.integers(0, 2, n),
        "probability": rng.uniform(size=n),
    })
    for name in NUMERIC:
        out[name] = rng.normal(size=n)
    for name in CATEGORICAL:
        out[name] = rng.choice(["a", "b", "c", "d", "e", "f"], n)
    return out


def register(engine: Engine) -> dict[str, int]:
    """Models, versions (with profile specs, so ingest keeps hourly profiles) and monitors; ids by ``model/version``."""
    ids = {}
    with transaction(engine) as session:
        for model, task, version, status, _ in VERSIONS:
            model_id, _ = registry.ensure_model(session, name=model, task=task, retrain_webhook=None)
            schema = {"id": "id", "timestamp": "ts", "prediction": "y_hat", "probability": None, "target": "y",
                      "positive_label": 1, "features": FEATURES}
            ids[f"{model}/{version}"], _ = registry.ensure_version(
                session, model_id=model_id, version=version, column_schema=schema, status=status)
            reference = frame(5_000, T0 - DAY, DAY, "ref", 0, np.random.default_rng(2))
            save_specs(session, model_version_id=ids[f"{model}/{version}"],
                       specs=build_specs(reference, profiled_types(schema, task)))
            for kind in ("data_drift", "performance", "concept_drift"):
                registry.ensure_monitor(session, name=f"{model}-{kind}", model_id=model_id, kind=kind,
                                        schedule="0 * * * *", window_seconds=86_400, settings={})
    return ids


def fill_predictions(engine: Engine, ids: dict[str, int], rows: int) -> None:
    """``rows`` predictions over :data:`DAYS` days, in batches of :data:`BATCH`; labels for 30% of credit 1.0."""
    rng = np.random.default_rng(0)
    for (model, _, version, _, share), prefix in zip(VERSIONS, "abcd", strict=True):
        n_version = int(rows * share)
        per_batch_span = DAYS * DAY * (BATCH / n_version)
        for i, offset in enumerate(range(0, n_version, BATCH)):
            n = min(BATCH, n_version - offset)
            batch = frame(n, T0 + i * per_batch_span, per_batch_span * n / BATCH, prefix, offset, rng)
            with transaction(engine) as session:
                write_predictions(session, model_version_id=ids[f"{model}/{version}"], frame=batch, source="bench")
                if prefix == "a":
                    labelled = batch.iloc[::3]
                    model_id = registry.get_model_id(session, model)
                    write_labels(session, model_id=model_id, source="bench", frame=pd.DataFrame(
                        {"prediction_id": labelled["prediction_id"], "label": "1", "ts": labelled["ts"]}))
        print(f"  stored {n_version:,} predictions of {model} {version}", file=sys.stderr, flush=True)


def drift_rows(day: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    """One data-drift run's per-feature rows, with histograms as the monitor stores them."""
    rows = []
    for name, kind in FEATURES.items():
        drifted = bool(day > 45 and name in ("num_0", "cat_0"))
        edges = np.linspace(-4, 4, 21).tolist()
        hist = ({"type": "numeric", "edges": edges, "reference": rng.integers(0, 500, 20).tolist(),
                 "current": rng.integers(0, 500, 20).tolist()} if kind == "numeric" else
                {"type": "categorical", "categories": list("abcdef"), "reference": rng.integers(0, 500, 6).tolist(),
                 "current": rng.integers(0, 500, 6).tolist(), "other_reference": 0, "other_current": 0})
        p_value = 1e-8 if drifted else float(rng.uniform(0.05, 1))
        rows.append({"feature": name, "role": "feature", "feature_type": kind, "method": "ks" if kind == "numeric"
                     else "chisquare", "status": "ok", "statistic": float(rng.uniform(0, 0.3)), "p_value": p_value,
                     "threshold": 0.05, "drifted": drifted, "missing_share_reference": 0.0,
                     "missing_share_current": 0.01, "out_of_range_share": 0.0, "new_categories": [],
                     "histogram": hist})
    return rows


def fill_results(engine: Engine, ids: dict[str, int]) -> None:
    """Daily data-drift, performance and concept-drift runs per version; alerts; a heartbeat."""
    rng = np.random.default_rng(1)
    for (model, task, version, _, _) in VERSIONS:
        version_id = ids[f"{model}/{version}"]
        with transaction(engine) as session:
            monitors = {k: registry.get_monitor(session, f"{model}-{k}").id
                        for k in ("data_drift", "performance", "concept_drift")}
            for day in range(DAYS):
                window = {"model_version_id": version_id, "window_start": T0 + day * DAY,
                          "window_end": T0 + (day + 1) * DAY}
                run_id = start_run(session, monitor_id=monitors["data_drift"], **window)
                rows = drift_rows(day, rng)
                add_drift_results(session, run_id=run_id, rows=rows)
                n_drifted = sum(r["drifted"] for r in rows)
                finish_run(session, run_id=run_id, status="succeeded", n_rows=40_000, duration_s=0.8, summary={
                    "dataset_drift": n_drifted / len(rows) >= 0.5, "drifted_share": n_drifted / len(rows),
                    "n_drifted": n_drifted, "n_features": len(rows), "drift_share": 0.5})
                run_id = start_run(session, monitor_id=monitors["performance"], **window)
                metrics = ("roc_auc", "f1", "accuracy") if task != "regression" else ("mae", "rmse", "r2")
                add_metric_values(session, run_id=run_id, rows=[
                    {"metric": m, "status": "ok", "value": 0.8 - day / 600, "ci_low": 0.78 - day / 600,
                     "ci_high": 0.82 - day / 600, "reference_value": 0.81, "threshold": 0.05, "p_value": 0.2,
                     "flagged": day > 50, "n": 12_000} for m in metrics])
                finish_run(session, run_id=run_id, status="succeeded", n_rows=40_000, n_labels=12_000, duration_s=2.1,
                           summary={"label_coverage": 0.3, "verdict": "ok"})
                if day % 7 == 6:
                    run_id = start_run(session, monitor_id=monitors["concept_drift"], **window)
                    add_detector_events(session, run_id=run_id, rows=[
                        {"detector": "adwin", "detected_at": T0 + day * DAY + timedelta(hours=7), "details": {}}])
                    finish_run(session, run_id=run_id, status="succeeded", duration_s=1.0)
            fire(session, version_id)


def fire(session: Any, version_id: int) -> None:
    """An open alert with a delivered notification for the version."""
    end = T0 + DAYS * DAY
    state = alerts.fire_alert(session, rule="bench-drift", kind="dataset_drift", model_version_id=version_id,
                              severity="warning", title="dataset drift", evidence={"drifted_share": 0.17},
                              window_start=end - DAY, window_end=end, now=end)
    for note_id in alerts.notify_alert(session, alert_id=state.id, channels=["oncall"], now=end):
        notifications.record_attempt(session, notification_id=note_id, ok=True, duration_ms=20, status_code=200)
    scheduler_state.beat(session, instance="bench", started_at=end, next_runs={}, now=datetime.now(UTC))


def stored_rows(engine: Engine) -> int:
    """Predictions in the store (from the hourly volumes)."""
    with transaction(engine) as session:
        return int(version_summary.overview(session, start=T0, end=T0 + DAYS * DAY)["predictions"].sum())


def page_queries(ids: dict[str, int], start: datetime, end: datetime) -> dict[str, list[Callable[[Any], Any]]]:
    """The storage calls each page makes on a first visit (credit-default 1.0 vs 2.0 selected).

    Pages whose reads changed for profiles (issue #15) also appear as ``<page> (before)`` with the
    calls they made before, so the table shows both in the same run.
    """
    v1, v2 = ids["credit-default/1.0"], ids["credit-default/2.0"]
    rng = {"start": start, "end": end}
    recent = datetime.now(UTC) - timedelta(days=7)

    def feature_page(s: Any) -> Any:
        history = drift_history.feature_history(s, model_version_id=v1, feature="num_0", **rng)
        return drift_history.histogram(s, run_id=int(history["run_id"].iloc[-1]), feature="num_0")

    def whole_range(s: Any) -> Any:
        profile = profile_reads.range_profile(s, model_version_id=v1, column="num_0", **rng)
        return profile_reads.distribution(profile), profile_reads.quantiles(profile)

    common = [version_summary.store_stamp, lambda s: registry.list_versions(s), version_summary.data_extent]
    version_rest = [lambda s, f=f: f(s, model_version_id=v1, **rng) for f in (
        result_series.metric_series, result_series.detector_events, result_series.drift_matrix,
        result_series.drift_share_series)] + [
        lambda s: alerts.list_alerts(s, status="active", model_version_id=v1),
        lambda s: retraining.list_requests(s, model_version_id=v1)]
    compare_rest = [lambda s, v=v, f=f: f(s, model_version_id=v, **rng) for v in (v1, v2) for f in (
        result_series.metric_series, result_series.drift_share_series)]
    feature_base = [*common, lambda s: drift_history.drift_features(s, model_version_id=v1), feature_page]
    return {
        "overview (before)": [*common, lambda s: version_summary.overview(s, **rng), scheduler_state.latest_heartbeat],
        "overview": [*common, lambda s: profile_reads.overview_with_profiles(s, **rng),
                     scheduler_state.latest_heartbeat],
        "version (before)": [*common, lambda s: version_summary.overview(s, **rng), *version_rest,
                             lambda s: result_series.volume_series(s, model_version_ids=[v1], freq="D", **rng)],
        "version": [*common, lambda s: profile_reads.overview_with_profiles(s, **rng), *version_rest,
                    lambda s: profile_reads.volume(s, model_version_ids=[v1], freq="D", **rng)],
        "feature": feature_base,
        "feature, Whole range tab": [*feature_base, whole_range],
        "compare (before)": [*common, *compare_rest,
                             lambda s: result_series.volume_series(s, model_version_ids=[v1, v2], freq="D", **rng)],
        "compare": [*common, *compare_rest,
                    lambda s: profile_reads.volume(s, model_version_ids=[v1, v2], freq="D", **rng)],
        "alerts": [*common, lambda s: alerts.list_alerts(s, status="active"),
                   lambda s: alerts.alert_history(s, alert_id=1), lambda s: notifications.delivery_log(s, alert_id=1)],
        "runs": [*common, lambda s: run_history.monitor_runs(s, **rng),
                 lambda s: run_history.collector_runs(s, since=recent),
                 lambda s: run_history.quarantine_counts(s, since=recent)],
    }


def range_figures_raw(version_id: int, start: datetime, end: datetime) -> Callable[[Any], Any]:
    """A feature's whole-range figures from the raw rows: rows, missing share, histogram on the spec's bins,
    category counts, quantiles (what the Whole range tab would cost without profiles)."""
    def read(s: Any) -> Any:
        frame = read_window(s, model_version_id=version_id, start=start, end=end)
        x = frame["num_0"].to_numpy(dtype=float)
        finite = x[np.isfinite(x)]
        edges = np.asarray(load_specs(s, model_version_id=version_id)["num_0"].edges)
        cells = np.bincount(histogram_cells(finite, edges), minlength=edges.size + 1)
        return len(x), int((~np.isfinite(x)).sum()), cells, np.quantile(finite, profile_reads.QUANTILES), \
            frame["cat_0"].value_counts()
    return read


def range_figures_profiles(version_id: int, start: datetime, end: datetime) -> Callable[[Any], Any]:
    """The same figures from the merged hourly profiles (quantiles from the KLL sketch)."""
    def read(s: Any) -> Any:
        rng = {"model_version_id": version_id, "start": start, "end": end}
        numeric = profile_reads.range_profile(s, column="num_0", **rng)
        categorical = profile_reads.range_profile(s, column="cat_0", **rng)
        return profile_reads.distribution(numeric), profile_reads.quantiles(numeric), \
            profile_reads.distribution(categorical)
    return read


def compare_range_figures(engine: Engine, ids: dict[str, int], end: datetime) -> None:
    """Print raw rows vs profiles for one feature's whole-range figures, per range length, same run."""
    v1 = ids["credit-default/1.0"]
    print("\n| range | rows in range | raw rows, median of 3 (s) | profiles, median of 3 (s) | raw / profiles |")
    print("|---|---:|---:|---:|---:|")
    for days in (7, 30, DAYS):
        start = end - days * DAY
        with transaction(engine) as session:
            n = int(profile_reads.range_profile(session, model_version_id=v1, column="num_0", start=start,
                                                end=end).profile.n_rows)
        _, raw = time_queries(engine, [range_figures_raw(v1, start, end)])
        _, profiled = time_queries(engine, [range_figures_profiles(v1, start, end)])
        print(f"| {days} days | {n:,} | {raw:.3f} | {profiled:.3f} | {raw / profiled:.1f} |", flush=True)


def time_queries(engine: Engine, calls: list[Callable[[Any], Any]], repeat: int = 3) -> tuple[float, float]:
    """Seconds for all of a page's queries: the first pass and the median of ``repeat`` passes."""
    passes = []
    for _ in range(repeat):
        started = time.perf_counter()
        with transaction(engine) as session:
            for call in calls:
                call(session)
        passes.append(time.perf_counter() - started)
    return passes[0], statistics.median(passes)


def time_render(url: str, name: str) -> tuple[float, float]:
    """Seconds for an AppTest render of a page (``"page, Tab tab"``: with that tab open): empty caches, then warm."""
    import streamlit
    from streamlit.logger import set_log_level
    from streamlit.testing.v1 import AppTest

    set_log_level(logging.ERROR)
    os.environ["DRIFTSCOPE_DATABASE_URL"] = url
    params = {"model": "credit-default", "version": "1.0", "feature": "num_0"}
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params.update(params)
    at.run()
    page, _, tab = name.partition(", ")
    if page != "overview":
        at.switch_page(f"../views/{page}.py").run()
    if tab:
        at.session_state[f"{page}.tab"] = tab.removesuffix(" tab")
        at.run()
    streamlit.cache_data.clear()
    times = []
    for _ in range(2):
        started = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - started)
        if at.exception:
            raise RuntimeError(f"{page}: {at.exception[0].value}")
    return times[0], times[1]


def measure(engine: Engine, url: str, label: str) -> None:
    """Print the Markdown table of query and render times per page."""
    ids = {f"{v.model}/{v.version}": v.id for v in _versions(engine)}
    with transaction(engine) as session:
        _, last = version_summary.data_extent(session)
    end = pd.Timestamp(last).ceil("D").to_pydatetime()
    start = end - 30 * DAY
    print(f"\n### {label}: {stored_rows(engine):,} predictions, range {start:%Y-%m-%d} – {end:%Y-%m-%d}\n")
    print("| page | queries, first (s) | queries, median of 3 (s) | render, cold caches (s) | render, warm (s) |")
    print("|---|---:|---:|---:|---:|")
    for page, calls in page_queries(ids, start, end).items():
        first, median = time_queries(engine, calls)
        cold, warm = time_render(url, page) if "(before)" not in page else (float("nan"), float("nan"))
        print(f"| {page} | {first:.3f} | {median:.3f} | {cold:.3f} | {warm:.3f} |", flush=True)
    print(f"\nThe Feature page's whole-range figures (credit-default 1.0, num_0 and cat_0), load "
          f"{os.getloadavg()[0]:.1f}:")
    compare_range_figures(engine, ids, end)


YEAR_T0 = datetime(2025, 1, 1, tzinfo=UTC)
YEAR_COLUMNS = {**dict.fromkeys(NUMERIC[:4], "numeric"), **dict.fromkeys(CATEGORICAL[:2], "categorical")}
ROWS_PER_HOUR = 300


def fill_profile_year(engine: Engine) -> int:
    """One version with a year of hourly profiles of :data:`YEAR_COLUMNS` (no prediction rows), month by month.

    ``ROWS_PER_HOUR`` rows an hour, so every hourly KLL sketch has compacted, as in a busy store.
    Returns the version id.
    """
    rng = np.random.default_rng(3)
    with transaction(engine) as session:
        model_id, _ = registry.ensure_model(session, name="year", task="binary_classification", retrain_webhook=None)
        version_id, _ = registry.ensure_version(session, model_id=model_id, version="1.0", status="active",
                                                column_schema={"id": "id", "timestamp": "ts", "features": YEAR_COLUMNS})
        specs = build_specs(frame(5_000, YEAR_T0 - DAY, DAY, "ref", 0, rng), YEAR_COLUMNS)
        save_specs(session, model_version_id=version_id, specs=specs)
    for month in range(12):
        start = YEAR_T0 + month * 30 * DAY if month < 11 else YEAR_T0 + 330 * DAY
        span = 30 * DAY if month < 11 else YEAR_T0 + 365 * DAY - start
        n = int(span.total_seconds() // 3600) * ROWS_PER_HOUR
        table = pa.Table.from_pandas(frame(n, start, span, "y", 0, rng)[["ts", *YEAR_COLUMNS]], preserve_index=False)
        with transaction(engine) as session:
            add_profiles(session, model_version_id=version_id, profiles=profile_table(table, specs))
    return version_id


def measure_profile_year(engine: Engine, label: str) -> None:
    """The Whole range tab's reads (num_0 and cat_0) over a year of hourly profiles, without and with roll-ups.

    Same run, same store: first with no roll-up (every hourly row read and merged, as before roll-ups),
    then after :func:`~driftscope.pipeline.roll_up_profiles`, then after a late write to one day (that
    day read from its hours). The range starts and ends mid-day. Also the cost of the writer's day-revision
    upsert against a one-hour :func:`add_profiles` call of the same columns.
    """
    from driftscope.storage.profiles.days import mark_days

    started = time.perf_counter()
    version_id = fill_profile_year(engine)
    fill_s = time.perf_counter() - started
    start, end = YEAR_T0 + timedelta(hours=5), YEAR_T0 + 364 * DAY + timedelta(hours=19)

    def read(s: Any) -> Any:
        for column in ("num_0", "cat_0"):
            rp = profile_reads.range_profile(s, model_version_id=version_id, column=column, start=start, end=end)
            profile_reads.distribution(rp), profile_reads.quantiles(rp)
        return rp

    _, before = time_queries(engine, [read], repeat=5)
    started = time.perf_counter()
    days = roll_up_profiles(engine, now=YEAR_T0 + 400 * DAY, budget_s=3600)
    build_s = time.perf_counter() - started
    _, after = time_queries(engine, [read], repeat=5)
    with transaction(engine) as session:
        specs = load_specs(session, model_version_id=version_id)
        late = pa.Table.from_pandas(frame(10, YEAR_T0 + 100 * DAY + timedelta(hours=3), timedelta(minutes=10), "late",
                                          0, np.random.default_rng(4))[["ts", *YEAR_COLUMNS]], preserve_index=False)
        add_profiles(session, model_version_id=version_id, profiles=profile_table(late, specs))
    _, late_read = time_queries(engine, [read], repeat=5)
    hour = pa.Table.from_pandas(frame(ROWS_PER_HOUR, YEAR_T0 + 200 * DAY, timedelta(hours=1), "w", 0,
                                      np.random.default_rng(5))[["ts", *YEAR_COLUMNS]], preserve_index=False)
    hour_profiles = profile_table(hour, specs)
    marks, writes = [], []
    for _ in range(20):
        with transaction(engine) as session:
            t = time.perf_counter()
            mark_days(session, model_version_id=version_id, starts=[s for s, _ in hour_profiles])
            marks.append(time.perf_counter() - t)
            t = time.perf_counter()
            add_profiles(session, model_version_id=version_id, profiles=hour_profiles)
            writes.append(time.perf_counter() - t)
    _, stamp = time_queries(engine, [version_summary.store_stamp], repeat=5)
    print(f"\n### {label}: a year of hourly profiles, {len(YEAR_COLUMNS)} columns, {ROWS_PER_HOUR} rows an hour "
          f"(filled in {fill_s:.0f} s), load {os.getloadavg()[0]:.1f}\n")
    print("| Whole range tab reads, num_0 + cat_0, 2025-01-01 05:00 - 2025-12-31 19:00 | median of 5 (s) | "
          "vs hourly |")
    print("|---|---:|---:|")
    print(f"| hourly profiles only (no roll-up: 2 x ~8,750 rows) | {before:.3f} | 1.00 |")
    print(f"| with daily roll-ups (2 x (363 days + 38 edge hours)) | {after:.3f} | {after / before:.3f} |")
    print(f"| with roll-ups, one day changed by a late row since | {late_read:.3f} | {late_read / before:.3f} |")
    print(f"\nBuilding the roll-ups of {days} days: {build_s:.2f} s. Store stamp (incl. the profile day "
          f"revisions): {stamp * 1000:.1f} ms. Writer: day-revision upsert {statistics.median(marks) * 1000:.2f} ms "
          f"per call vs add_profiles of one hour x {len(YEAR_COLUMNS)} columns {statistics.median(writes) * 1000:.1f}"
          f" ms (medians of 20).", flush=True)


def run_profile_year(pg_url: str | None) -> None:
    """:func:`measure_profile_year` on a new SQLite file in ``bench/out/`` and, with ``pg_url``, a new database."""
    path = HERE / "out" / "dashboard_bench_year.db"
    path.parent.mkdir(exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    migrations.upgrade(f"sqlite:///{path}")
    engine = make_engine(f"sqlite:///{path}")
    measure_profile_year(engine, "SQLite")
    engine.dispose()
    if pg_url is None:
        return
    admin = create_engine(make_url(pg_url), isolation_level="AUTOCOMMIT")
    name = "driftscope_dashboard_bench_year"
    url = make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        migrations.upgrade(url)
        engine = make_engine(url)
        measure_profile_year(engine, "PostgreSQL")
        engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _versions(engine: Engine) -> list[registry.VersionInfo]:
    with transaction(engine) as session:
        return registry.list_versions(session)


def fill(engine: Engine, rows: int) -> float:
    """Fill an empty store; return the seconds it took."""
    started = time.perf_counter()
    ids = register(engine)
    fill_predictions(engine, ids, rows)
    fill_results(engine, ids)
    roll_up_profiles(engine, now=T0 + DAYS * DAY, budget_s=3600)  # as the scheduler's tick would have
    return time.perf_counter() - started


def run_sqlite(rows: int, reuse: bool) -> None:
    """Fill (unless reused) and measure the SQLite store in ``bench/out/``."""
    path = HERE / "out" / f"dashboard_bench_{rows}.db"
    url = f"sqlite:///{path}"
    if not (reuse and path.exists()):
        path.parent.mkdir(exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        migrations.upgrade(url)
        engine = make_engine(url)
        print(f"filled SQLite with {rows:,} predictions in {fill(engine, rows):.0f} s "
              f"({path.stat().st_size / 2**30:.1f} GiB)")
    else:
        engine = make_engine(url)
    measure(engine, url, "SQLite")
    engine.dispose()


def run_postgres(base_url: str, rows: int, reuse: bool) -> None:
    """Fill and measure ``driftscope_dashboard_bench_<rows>`` on the server; kept for ``--reuse``, else dropped."""
    admin = create_engine(make_url(base_url), isolation_level="AUTOCOMMIT")
    name = f"driftscope_dashboard_bench_{rows}"
    url = make_url(base_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first() is not None
        if exists and not reuse:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        if not (exists and reuse):
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        engine = make_engine(url)
        if not (exists and reuse):
            migrations.upgrade(url)
            print(f"filled PostgreSQL with {rows:,} predictions in {fill(engine, rows):.0f} s")
        measure(engine, url, "PostgreSQL")
        engine.dispose()
    finally:
        if not reuse:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="predictions to store (default 10M)")
    parser.add_argument("--quick", action="store_true", help="1M predictions, for a first look")
    parser.add_argument("--pg-url", help="also fill and measure a database on this PostgreSQL server")
    parser.add_argument("--reuse", action="store_true",
                        help="reuse the stores of an earlier run (bench/out/ SQLite file, kept PostgreSQL database)")
    parser.add_argument("--profile-year", action="store_true",
                        help="only the Whole range reads over a year of hourly profiles, without and with roll-ups")
    args = parser.parse_args()
    if args.profile_year:
        run_profile_year(args.pg_url)
        return 0
    rows = 1_000_000 if args.quick else args.rows
    print("## Dashboard pages over a large store\n")
    print("Goal: every page under 2 s. Queries are the storage calls a first visit makes (no cache); the "
          "render is a full AppTest run of the page (Python side: queries, charts, widgets).")
    run_sqlite(rows, args.reuse)
    if args.pg_url:
        run_postgres(args.pg_url, rows, args.reuse)
    return 0


if __name__ == "__main__":
    sys.exit(main())
