"""The runner on real stores (SQLite file and PostgreSQL): windows, idempotency, failures, late labels."""

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from helpers_monitor import SCHEMA, applied, credit_frame, make_config, standard_monitors, store_rows
from sqlalchemy import Engine

from driftscope.config import Config
from driftscope.errors import ConfigError, NotFoundError
from driftscope.monitors.runner import run_monitors
from driftscope.storage.db import transaction
from driftscope.storage.labels import write_labels
from driftscope.storage.registry import ensure_version, get_version
from driftscope.storage.results import count_runs, detector_events, drift_results, list_runs, metric_values

DAY = timedelta(days=1)
T0 = datetime(2026, 1, 1, tzinfo=UTC)
SUMMARY_KEYS = {
    "data_drift": {"dataset_drift", "drifted_share", "n_drifted", "n_features", "drift_share", "prediction_drift",
                   "thresholds", "false_alarm_rate", "fdr"},
    "performance": {"label_coverage", "verdict"},
    "concept_drift": {"concept_drift", "detectors_fired", "label_coverage"},
}


def day_frame(day: int, n: int = 400, kind: str = "none") -> pd.DataFrame:
    """``n`` rows spread over day ``day`` (counted from 2026-01-01)."""
    return credit_frame(n, kind=kind, seed=day, start=(T0 + day * DAY).replace(tzinfo=None),
                        step=timedelta(seconds=86_400 // n), id_prefix=f"d{day}-")


def three_days(engine: Engine, tmp_path: Path) -> tuple[Engine, Config]:
    """Three days of predictions with labels; day 2 has covariate drift."""
    config = applied(engine, make_config(tmp_path, str(engine.url), standard_monitors(), n=1500))
    for day, kind in ((0, "none"), (1, "none"), (2, "covariate")):
        store_rows(engine, config, day_frame(day, kind=kind))
    return engine, config


@pytest.fixture
def store(engine: Engine, tmp_path: Path) -> tuple[Engine, Config]:
    """:func:`three_days` on SQLite and on PostgreSQL."""
    return three_days(engine, tmp_path)


@pytest.fixture
def sqlite_store(sqlite_engine: Engine, tmp_path: Path) -> tuple[Engine, Config]:
    """:func:`three_days` on SQLite only, for tests whose subject is the planning, not the database."""
    return three_days(sqlite_engine, tmp_path)


def test_a_window_is_computed_and_stored_as_long_rows(store: tuple[Engine, Config]) -> None:
    engine, config = store
    runs = run_monitors(engine, config, window_end=T0 + 3 * DAY)
    assert [(r.monitor, r.status) for r in runs] == [
        ("credit-drift", "succeeded"), ("credit-performance", "succeeded"), ("credit-concept", "succeeded")]
    assert all((r.window_start, r.window_end, r.n_rows, r.n_reference) == (T0 + 2 * DAY, T0 + 3 * DAY, 400, 1500)
               for r in runs)
    drift, performance, concept = runs
    assert all(set(r.summary) == SUMMARY_KEYS[r.kind] for r in runs)
    assert drift.summary["dataset_drift"] is True and drift.summary["n_drifted"] == 3
    assert performance.summary == {"label_coverage": 1.0, "verdict": "ok"} and performance.n_labels == 400
    assert concept.summary["concept_drift"] is False
    with transaction(engine) as session:
        rows = drift_results(session, run_id=drift.id)
        metrics = metric_values(session, run_id=performance.id)
        concept_metrics = metric_values(session, run_id=concept.id)
        detector_events(session, run_id=concept.id)
    assert sorted(rows["feature"]) == ["age", "debt_ratio", "has_card", "income", "prediction", "probability",
                                       "region"]
    assert set(rows.loc[rows["role"] == "prediction", "feature"]) == {"prediction", "probability"}
    assert rows.set_index("feature").loc["income", "histogram"]["type"] == "numeric"
    assert sorted(metrics["metric"]) == ["accuracy", "f1", "log_loss", "roc_auc"]
    assert (metrics["ci_low"] < metrics["value"]).all() and (metrics["n"] == 400).all()
    assert {"domain_classifier", "adwin", "label_drift"} <= set(concept_metrics["metric"])


def test_the_same_window_twice_leaves_one_set_of_results(store: tuple[Engine, Config]) -> None:
    engine, config = store
    first = run_monitors(engine, config, window_end=T0 + 3 * DAY)
    with pytest.raises(ConfigError, match="not a boundary of 1d windows"):
        run_monitors(engine, config, window_end=T0 + 3 * DAY + timedelta(hours=5))
    second = run_monitors(engine, config, window_end=T0 + 3 * DAY)
    assert [r.window_end for r in second] == [r.window_end for r in first]
    with transaction(engine) as session:
        assert count_runs(session) == 3
        assert len(drift_results(session, run_id=first[0].id)) == 0
        assert len(drift_results(session, run_id=second[0].id)) == 7
        assert len(metric_values(session, run_id=second[1].id)) == 4


def test_a_failing_monitor_records_its_error_and_the_others_complete(store: tuple[Engine, Config]) -> None:
    engine, config = store
    with transaction(engine) as session:
        info = get_version(session, "credit", "1.0")
        write_labels(session, model_id=info.model_id, source="test", frame=pd.DataFrame(
            {"prediction_id": ["d2-5"], "label": ["maybe"], "ts": [pd.Timestamp(T0 + 2 * DAY)]}))
    runs = run_monitors(engine, config, window_end=T0 + 3 * DAY)
    status = {r.monitor: r for r in runs}
    assert status["credit-drift"].status == "succeeded"
    for name in ("credit-performance", "credit-concept"):
        assert status[name].status == "failed"
        assert "'maybe' (prediction d2-5)" in status[name].error and "SchemaError" in status[name].error
    with transaction(engine) as session:
        stored = sorted(list_runs(session), key=lambda r: r.id)
    assert [(r.monitor, r.status) for r in stored] == [(r.monitor, r.status) for r in runs]


def test_backfill_versions_and_selection(sqlite_store: tuple[Engine, Config]) -> None:
    engine, config = sqlite_store
    with transaction(engine) as session:
        model_id = get_version(session, "credit", "1.0").model_id
        ensure_version(session, model_id=model_id, version="0.9", column_schema=SCHEMA, status="retired")
    runs = run_monitors(engine, config, monitor="credit-drift", backfill_from=T0 + timedelta(hours=1),
                        now=T0 + 3 * DAY + timedelta(hours=2))
    assert [r.window_end for r in runs] == [T0 + DAY, T0 + 2 * DAY, T0 + 3 * DAY]
    assert [r.summary["dataset_drift"] for r in runs] == [False, False, True]
    retired = run_monitors(engine, config, model="credit", version="0.9", monitor="credit-drift",
                           window_end=T0 + DAY)
    assert [r.status for r in retired] == ["failed"] and "no reference data" in retired[0].error
    latest = run_monitors(engine, config, model="credit", now=T0 + 3 * DAY + timedelta(minutes=1))
    assert {r.window_end for r in latest} == {T0 + 3 * DAY} and len(latest) == 3


def test_late_labels_are_picked_up_by_the_label_monitors(engine: Engine, tmp_path: Path) -> None:
    monitors = standard_monitors(detectors=["label_drift", "adwin"])
    config = applied(engine, make_config(tmp_path, str(engine.url), monitors, n=1500))
    late = day_frame(0)
    store_rows(engine, config, late, labels=False)
    store_rows(engine, config, day_frame(1))
    first = run_monitors(engine, config, backfill_from=T0, now=T0 + 2 * DAY)
    assert {(r.monitor, r.window_end): r.n_labels for r in first}[("credit-performance", T0 + DAY)] == 0
    with transaction(engine) as session:
        info = get_version(session, "credit", "1.0")
        write_labels(session, model_id=info.model_id, source="late", frame=pd.DataFrame(
            {"prediction_id": late["prediction_id"], "label": late["label"].astype(str), "ts": late["ts"]}))
    if engine.dialect.name == "sqlite":  # labels stamped in the second of a run's read count as new to it
        time.sleep(1.1)  # (one harmless extra recompute): let the recompute read in a later second
    again = run_monitors(engine, config, now=T0 + 2 * DAY + timedelta(hours=1))
    windows = {(r.monitor, r.window_end): r for r in again}
    assert set(windows) == {("credit-drift", T0 + 2 * DAY), ("credit-performance", T0 + DAY),
                            ("credit-performance", T0 + 2 * DAY), ("credit-concept", T0 + DAY),
                            ("credit-concept", T0 + 2 * DAY)}
    assert windows[("credit-performance", T0 + DAY)].n_labels == 400
    assert windows[("credit-performance", T0 + DAY)].summary["verdict"] == "ok"
    settled = run_monitors(engine, config, now=T0 + 2 * DAY + timedelta(hours=2))
    assert {r.window_end for r in settled} == {T0 + 2 * DAY}


def test_an_empty_window_is_a_succeeded_run_without_verdicts(sqlite_store: tuple[Engine, Config]) -> None:
    engine, config = sqlite_store
    runs = run_monitors(engine, config, window_end=T0 + 10 * DAY)
    assert [r.status for r in runs] == ["succeeded"] * 3 and all(r.n_rows == 0 for r in runs)
    assert runs[0].summary["n_features"] == 0 and runs[1].summary["verdict"] == "insufficient_labels"


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"monitor": "nope"}, NotFoundError, "no monitor named 'nope'"),
    ({"model": "other"}, NotFoundError, "no model named 'other'"),
    ({"version": "1.0"}, ConfigError, "a version needs a model or a monitor"),
    ({"window_end": T0, "backfill_from": T0}, ConfigError, "exclude each other"),
    ({"model": "credit", "version": "7"}, NotFoundError, "has no version '7'"),
    ({"window_end": datetime(2026, 1, 1)}, ValueError, "naive datetime"),
])
def test_bad_arguments(sqlite_engine: Engine, tmp_path: Path, kwargs: dict, error: type, message: str) -> None:
    config = applied(sqlite_engine, make_config(tmp_path, "sqlite://", standard_monitors(), n=300))
    with pytest.raises(error, match=message):
        run_monitors(sqlite_engine, config, **kwargs)


def test_a_monitor_that_was_not_applied(sqlite_engine: Engine, tmp_path: Path) -> None:
    config = applied(sqlite_engine, make_config(tmp_path, "sqlite://", standard_monitors()[:1], n=300))
    bigger = make_config(tmp_path, "sqlite://", standard_monitors(), n=300)
    with pytest.raises(NotFoundError, match="no monitor named 'credit-performance' in the store"):
        run_monitors(sqlite_engine, bigger, now=T0)
    assert run_monitors(sqlite_engine, config, now=T0)[0].status == "succeeded"


