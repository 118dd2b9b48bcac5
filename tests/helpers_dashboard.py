"""A seeded store for the dashboard tests, built only through storage functions.

Two models over 14 UTC days from 2026-01-01: ``credit-default`` (versions 1.0 active, 2.0 shadow)
and ``house-price`` 3.1, with predictions, labels, daily data-drift / performance / concept-drift
runs, detector events, alerts with delivery attempts, and a scheduler heartbeat. :class:`Seeded`
carries the ids and the figures the pages must show.
"""

import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine

from driftscope.storage import alerts, collector_state, migrations, notifications, quarantine, results, scheduler_state
from driftscope.storage.db import transaction
from driftscope.storage.labels import write_labels
from driftscope.storage.predictions import write_predictions
from driftscope.storage.registry import ensure_model, ensure_monitor, ensure_version

T0 = datetime(2026, 1, 1, tzinfo=UTC)
DAYS = 14
DAY = timedelta(days=1)
CREDIT_FEATURES = {"income": "numeric", "age": "numeric", "region": "categorical", "has_card": "binary"}
HOUSE_FEATURES = {"sqft": "numeric", "city": "categorical"}
DRIFT_FROM_DAY = 10


def schema(features: dict[str, str], target: str) -> dict[str, Any]:
    """A version's column schema document."""
    return {"id": "id", "timestamp": "ts", "prediction": "pred", "probability": None, "target": target,
            "positive_label": 1, "features": features}


@dataclass
class Seeded:
    """Ids and expected figures of the seeded store."""

    version_ids: dict[str, int] = field(default_factory=dict)
    model_ids: dict[str, int] = field(default_factory=dict)
    monitor_ids: dict[str, int] = field(default_factory=dict)
    predictions: dict[str, int] = field(default_factory=dict)
    labelled: dict[str, int] = field(default_factory=dict)
    roc_auc: list[float] = field(default_factory=list)
    alert_ids: dict[str, int] = field(default_factory=dict)
    failed_run_error: str = "reference data for house-price 3.1 is missing; run `driftscope apply`"
    collector_error: str = "http://127.0.0.1:9100/predictions: connection refused after 5 attempts"
    quarantined: int = 3


def _frame(features: dict[str, str], n: int, start: datetime, step: timedelta, prefix: str, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "prediction_id": [f"{prefix}{i}" for i in range(n)],
        "ts": pd.date_range(start, periods=n, freq=step, tz="UTC"),
        "prediction": rng.integers(0, 2, n),
    })
    for name, kind in features.items():
        if kind == "numeric":
            frame[name] = rng.normal(100, 10, n)
        elif kind == "categorical":
            frame[name] = rng.choice(["north", "south", "east"], n)
        else:
            frame[name] = rng.integers(0, 2, n)
    return frame


def _drift_rows(features: dict[str, str], day: int, drifting: str | None) -> list[dict[str, Any]]:
    rows = []
    for name, kind in features.items():
        drifted = name == drifting and day >= DRIFT_FROM_DAY
        if kind == "numeric":
            hist = {"type": "numeric", "edges": [70.0, 90.0, 110.0, 130.0], "reference": [20, 60, 20],
                    "current": [10, 50, 40] if drifted else [21, 59, 20]}
            values = {"method": "psi", "statistic": 0.35 if drifted else 0.02, "p_value": None, "threshold": 0.1}
        else:
            current = [70, 20, 10, 5] if drifted else [34, 33, 33, 0]
            hist = {"type": "categorical", "categories": ["north", "south", "east", "west"],
                    "reference": [33, 33, 34, 0], "current": current, "other_reference": 0, "other_current": 0}
            values = {"method": "chisquare", "statistic": 40.0 if drifted else 0.5,
                      "p_value": 1e-6 if drifted else 0.7, "threshold": 0.05}
        rows.append({
            "feature": name, "role": "feature", "feature_type": kind, "status": "ok", "drifted": drifted,
            "missing_share_reference": 0.01, "missing_share_current": 0.08 if drifted else 0.01,
            "out_of_range_share": None, "new_categories": ["west"] if drifted and kind != "numeric" else [],
            "histogram": hist, **values,
        })
    return rows


def _run(session: Any, monitor_id: int, version_id: int, day: int, *, status: str = "succeeded",
         summary: dict[str, Any] | None = None, error: str | None = None, n_rows: int = 144) -> int:
    run_id = results.start_run(session, monitor_id=monitor_id, model_version_id=version_id,
                               window_start=T0 + day * DAY, window_end=T0 + (day + 1) * DAY)
    results.finish_run(session, run_id=run_id, status=status, n_rows=n_rows, n_reference=1000, summary=summary,
                       duration_s=0.5 + day / 10, error=error)
    return run_id


def _register(session: Any, seeded: Seeded) -> None:
    credit, _ = ensure_model(session, name="credit-default", task="binary_classification", retrain_webhook=None)
    house, _ = ensure_model(session, name="house-price", task="regression", retrain_webhook=None)
    seeded.model_ids.update({"credit-default": credit, "house-price": house})
    for key, model_id, version, features, status in (
        ("credit-1.0", credit, "1.0", CREDIT_FEATURES, "active"),
        ("credit-2.0", credit, "2.0", CREDIT_FEATURES, "shadow"),
        ("house-3.1", house, "3.1", HOUSE_FEATURES, "active"),
    ):
        seeded.version_ids[key], _ = ensure_version(session, model_id=model_id, version=version,
                                                    column_schema=schema(features, "y"), status=status)
    for name, model_id, kind in (
        ("credit-data-drift", credit, "data_drift"), ("credit-performance", credit, "performance"),
        ("credit-concept", credit, "concept_drift"), ("house-drift", house, "data_drift"),
    ):
        seeded.monitor_ids[name], _ = ensure_monitor(session, name=name, model_id=model_id, kind=kind,
                                                     schedule=None, window_seconds=86_400, settings={})


def _predictions(session: Any, seeded: Seeded) -> None:
    plans = (
        ("credit-1.0", CREDIT_FEATURES, DAYS * 144, T0, timedelta(minutes=10), "a"),
        ("credit-2.0", CREDIT_FEATURES, 7 * 72, T0 + 7 * DAY, timedelta(minutes=20), "b"),
        ("house-3.1", HOUSE_FEATURES, DAYS * 48, T0, timedelta(minutes=30), "h"),
    )
    for seed, (key, features, n, start, step, prefix) in enumerate(plans):
        frame = _frame(features, n, start, step, prefix, seed)
        write_predictions(session, model_version_id=seeded.version_ids[key], frame=frame, source="seed")
        seeded.predictions[key] = n
    labelled = [f"a{i}" for i in range(0, 10 * 144, 2)]
    labels = pd.DataFrame({"prediction_id": labelled, "label": "1", "ts": pd.Timestamp(T0 + 12 * DAY)})
    write_labels(session, model_id=seeded.model_ids["credit-default"], frame=labels, source="seed")
    seeded.labelled.update({"credit-1.0": len(labelled), "credit-2.0": 0, "house-3.1": 0})


def _monitor_runs(session: Any, seeded: Seeded) -> None:
    v1, v2, house = (seeded.version_ids[k] for k in ("credit-1.0", "credit-2.0", "house-3.1"))
    m = seeded.monitor_ids
    for day in range(DAYS):
        for version_id, drifting in ((v1, "region"), (v2, None)):
            if version_id == v2 and day < 7:
                continue
            rows = _drift_rows(CREDIT_FEATURES, day, drifting)
            n_drifted = sum(r["drifted"] for r in rows)
            summary = {"dataset_drift": n_drifted / 4 >= 0.5, "drifted_share": n_drifted / 4,
                       "n_drifted": n_drifted, "n_features": 4, "drift_share": 0.5, "prediction_drift": False}
            results.add_drift_results(session, run_id=_run(session, m["credit-data-drift"], version_id, day,
                                                           summary=summary), rows=rows)
            auc = round(0.85 - (0.012 * day if version_id == v1 else 0.001 * day), 4)
            if version_id == v1:
                seeded.roc_auc.append(auc)
            run_id = _run(session, m["credit-performance"], version_id, day,
                          summary={"label_coverage": 0.5, "verdict": "degraded" if auc < 0.75 else "ok"})
            results.add_metric_values(session, run_id=run_id, rows=[
                {"metric": "roc_auc", "status": "ok", "value": auc, "ci_low": auc - 0.03, "ci_high": auc + 0.03,
                 "reference_value": 0.86, "threshold": 0.05, "p_value": 0.01 if auc < 0.75 else 0.4,
                 "flagged": auc < 0.75, "n": 72},
                {"metric": "accuracy", "status": "ok", "value": 0.8, "ci_low": 0.77, "ci_high": 0.83,
                 "reference_value": 0.81, "threshold": 0.05, "p_value": 0.5, "flagged": False, "n": 72},
            ])
        house_rows = _drift_rows(HOUSE_FEATURES, day, "sqft")
        results.add_drift_results(session, run_id=_run(session, m["house-drift"], house, day, summary={
            "dataset_drift": day >= DRIFT_FROM_DAY, "drifted_share": 0.5 if day >= DRIFT_FROM_DAY else 0.0,
            "n_drifted": int(day >= DRIFT_FROM_DAY), "n_features": 2, "drift_share": 0.5}), rows=house_rows)
    run_id = _run(session, m["credit-concept"], v1, 12, summary={"concept_drift": True, "detectors_fired": ["adwin"]})
    results.add_detector_events(session, run_id=run_id, rows=[
        {"detector": "adwin", "detected_at": T0 + 12 * DAY + timedelta(hours=5), "details": {"position": 30}}])
    _run(session, m["house-drift"], house, DAYS, status="failed", error=seeded.failed_run_error, n_rows=0)


def _alerts(session: Any, seeded: Seeded) -> None:
    now = T0 + DAYS * DAY
    auc = alerts.fire_alert(
        session, rule="credit-auc-floor", kind="metric_below", model_version_id=seeded.version_ids["credit-1.0"],
        severity="critical", title="roc_auc 0.694 below 0.70", evidence={"metric": "roc_auc", "value": 0.694},
        window_start=now - DAY, window_end=now, now=now,
    )
    (note_id,) = alerts.notify_alert(session, alert_id=auc.id, channels=["oncall-email"], now=now)
    notifications.record_attempt(session, notification_id=note_id, ok=False, duration_ms=12.5,
                                 error="connection refused", retry_at=now + timedelta(minutes=1), now=now)
    notifications.record_attempt(session, notification_id=note_id, ok=True, duration_ms=8.0, status_code=250, now=now)
    house = alerts.fire_alert(
        session, rule="house-dataset-drift", kind="dataset_drift", model_version_id=seeded.version_ids["house-3.1"],
        severity="warning", title="dataset drift: 1 of 2 features", evidence={"drifted_share": 0.5},
        window_start=now - DAY, window_end=now, now=now,
    )
    old = alerts.fire_alert(
        session, rule="credit-dataset-drift", kind="dataset_drift", model_version_id=seeded.version_ids["credit-1.0"],
        severity="warning", title="dataset drift in the first week", evidence={}, window_start=T0, window_end=T0 + DAY,
        now=T0 + DAY,
    )
    alerts.resolve_alert(session, alert_id=old.id, actor="ann", note="seasonal, expected")
    seeded.alert_ids.update({"auc": auc.id, "house": house.id, "resolved": old.id})
    scheduler_state.beat(session, instance="scheduler-1", started_at=now - DAY,
                         next_runs={"monitor:credit-performance": (now + timedelta(hours=1)).isoformat()},
                         now=datetime.now(UTC))


def _collectors(session: Any, seeded: Seeded) -> None:
    ok = collector_state.start_collector_run(session, source="credit-predictions")
    collector_state.add_run_counts(session, run_id=ok, read=2019, stored=2016, duplicate=0,
                                   quarantined=seeded.quarantined)
    collector_state.finish_collector_run(session, run_id=ok, status="succeeded")
    failed = collector_state.start_collector_run(session, source="house-predictions")
    collector_state.finish_collector_run(session, run_id=failed, status="failed", error=seeded.collector_error)
    rows = pd.DataFrame({"location": [f"predictions.csv line {n}" for n in (12, 40, 41)],
                         "reason": ["income: not a number ('n/a')"] * 2 + ["ts: missing"],
                         "payload": ['{"income": "n/a"}'] * 2 + ['{"ts": null}']})
    quarantine.add_quarantined(session, source="credit-predictions", model_id=seeded.model_ids["credit-default"],
                               records="predictions", rows=rows)


def seed_store(engine: Engine) -> Seeded:
    """Fill an empty, migrated store and return what was put in."""
    seeded = Seeded()
    with transaction(engine) as session:
        _register(session, seeded)
        _predictions(session, seeded)
        _monitor_runs(session, seeded)
        _alerts(session, seeded)
        _collectors(session, seeded)
    return seeded


@dataclass(frozen=True)
class Serving:
    """What :func:`seed_serving` stored: the daily figures of credit-default 1.0 and the latency alert's id."""

    error_rate: list[float]
    latency_p95: list[float]
    clicked: list[float]
    alert_id: int


def seed_serving(engine: Engine, seeded: Seeded) -> Serving:
    """Add an operational monitor with 14 daily windows for credit-default 1.0 (a latency and error regression
    from day 12, an alert on it) and register it, without runs, for 2.0; separate from :func:`seed_store` so
    the other pages' counts stay as they are."""
    errors = [0.01] * 12 + [0.06, 0.08]
    p95 = [120.0] * 12 + [380.0, 420.0]
    clicked = [0.10 + 0.002 * day for day in range(DAYS)]
    version_id = seeded.version_ids["credit-1.0"]
    with transaction(engine) as session:
        monitor_id, _ = ensure_monitor(session, name="credit-ops", model_id=seeded.model_ids["credit-default"],
                                       kind="operational", schedule=None, window_seconds=86_400, settings={})
        for day in range(DAYS):
            rows = [
                {"metric": "request_count", "status": "ok", "value": 144.0, "n": 144},
                {"metric": "request_rate", "status": "ok", "value": 144 / 86_400, "n": 144},
                {"metric": "error_rate", "status": "ok", "value": errors[day], "ci_low": errors[day] / 2,
                 "ci_high": errors[day] * 2, "reference_value": 0.01, "n": 144},
                {"metric": "timeout_rate", "status": "ok", "value": 0.005, "ci_low": 0.001, "ci_high": 0.03, "n": 144},
                {"metric": "latency_p50", "status": "ok", "value": 40.0, "n": 144},
                {"metric": "latency_p95", "status": "ok", "value": p95[day], "reference_value": 120.0, "n": 144},
                {"metric": "outcome_share", "status": "ok", "value": 0.6, "ci_low": 0.52, "ci_high": 0.68, "n": 144},
                {"metric": "outcome:clicked", "status": "ok", "value": clicked[day], "ci_low": clicked[day] - 0.04,
                 "ci_high": clicked[day] + 0.04, "reference_value": 0.11, "n": 86},
                {"metric": "model_age_days", "status": "ok", "value": 30.0 + day + 1, "n": 0},
            ]
            blank = {"ci_low": None, "ci_high": None, "reference_value": None, "threshold": None, "p_value": None,
                     "flagged": False}
            results.add_metric_values(session, run_id=_run(session, monitor_id, version_id, day,
                                                           summary={"requests": 144}),
                                      rows=[{**blank, **row} for row in rows])
        alert = alerts.fire_alert(
            session, rule="credit-latency", kind="latency_above", model_version_id=version_id, severity="critical",
            title="latency p95 420 ms above the limit 250 ms", evidence={"metric": "latency_p95", "value": 420.0},
            window_start=T0 + 12 * DAY, window_end=T0 + DAYS * DAY, now=T0 + DAYS * DAY,
        )
    return Serving(errors, p95, clicked, alert.id)


def fresh_store_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated, empty store for a module-scoped fixture parametrised ``sqlite`` / ``postgres``.

    SQLite: a copy of the session's migrated template. PostgreSQL: the session's database, emptied
    by migrating down to base and up again (public migration functions, no SQL here).
    """
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("dashboard") / "driftscope.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("pg_url")
    migrations.downgrade(url, "base")
    migrations.upgrade(url)
    return url
