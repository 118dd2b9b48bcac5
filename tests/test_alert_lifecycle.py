"""The alert lifecycle in data time, on SQLite and PostgreSQL, delivered to a real HTTP receiver.

Runs are stored through the storage API (as the runner stores them) and judged by draining the
rules' outbox, as ``monitor run`` and the scheduler's tick do.
"""

from datetime import UTC, datetime, timedelta

import pytest
from factories import T0
from helpers_alerts import (
    Receiver,
    alert_config,
    drift_row,
    drift_summary,
    metric_row,
    register,
    store_run,
    webhook_channel,
)

from driftscope.alerting.notify import deliver_due
from driftscope.pipeline import drain_outbox
from driftscope.storage.alerts import list_alerts
from driftscope.storage.db import transaction

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def _day(day: int) -> datetime:
    return T0 + timedelta(days=day)


def _auc(value: float | None) -> dict:
    """A performance run's metrics: ROC AUC ``value``, or no verdict (too few labels) when None."""
    if value is None:
        return {"metrics": [metric_row("roc_auc", 0.0, status="insufficient_labels")],
                "summary": {"verdict": "insufficient_labels"}}
    return {"metrics": [metric_row("roc_auc", value)], "summary": {"verdict": "ok"}}


def _cycle(engine, config, receiver: Receiver | None = None, *, now: datetime = NOW) -> list:
    changes = drain_outbox(engine, config, now=now)
    if receiver is not None:
        deliver_due(engine, config)
    return changes


def _alerts(engine):
    with transaction(engine) as session:
        return list_alerts(session)


def _setup(engine, tmp_path, receiver: Receiver | None = None, **rule):
    base = {"name": "auc", "monitor": "perf", "when": "metric_below", "metric": "roc_auc", "value": 0.7,
            "channels": ["hook"]}
    url = receiver.url() if receiver else "http://127.0.0.1:9/unused"
    config = alert_config(tmp_path, rules=[base | rule], channels=[webhook_channel("hook", url)])
    return config, register(engine, config)


def _events(receiver: Receiver) -> list[str]:
    return [r.json["type"] for r in receiver.delivered()]


@pytest.mark.parametrize("monitor", ["perf", "concept"])
def test_a_window_without_labels_never_resolves(engine, tmp_path, monitor) -> None:
    if monitor == "perf":
        config, version = _setup(engine, tmp_path)
        breach, blind, clean = _auc(0.6), _auc(None), _auc(0.8)
    else:
        config, version = _setup(engine, tmp_path, name="concept", monitor="concept", when="detector_fired",
                                 metric=None, value=None)
        breach = {"summary": {"concept_drift": True, "detectors_fired": ["adwin"]}}
        blind = {"summary": {"verdict": "insufficient_labels"}}
        clean = {"summary": {"concept_drift": False, "detectors_fired": []}}
    days = [breach, blind, blind, blind, blind, clean, clean]
    for day, run in enumerate(days):
        store_run(engine, monitor=monitor, model_version_id=version, day=day, **run)
        _cycle(engine, config, now=NOW + timedelta(days=day))
        status = _alerts(engine).iloc[0]["status"]
        assert status == ("resolved" if day == 6 else "open"), f"day {day}: {status}"
    alert = _alerts(engine).iloc[0]
    assert alert["resolved_window_end"] == _day(7) and alert["fire_count"] == 1


def test_backfilling_the_same_span_twice_notifies_once(engine, tmp_path) -> None:
    with Receiver() as receiver:
        config, version = _setup(engine, tmp_path, receiver)
        values = [0.8, 0.6, 0.62, 0.8, 0.8, 0.6, 0.8]
        for attempt in range(2):
            for day, value in enumerate(values):
                store_run(engine, monitor="perf", model_version_id=version, day=day, **_auc(value))
            changes = _cycle(engine, config, receiver, now=NOW + timedelta(hours=attempt))
            if attempt == 0:
                first = _events(receiver)
                assert first == ["alert.fired", "alert.resolved", "alert.fired"]
            else:
                assert changes == [] and _events(receiver) == first
        alerts = _alerts(engine).sort_values("id")
    assert list(alerts["status"]) == ["resolved", "open"]
    assert list(alerts["data_start"]) == [_day(1), _day(5)] and list(alerts["data_end"]) == [_day(3), _day(6)]
    assert alerts.iloc[0]["resolved_window_end"] == _day(5)
    assert list(alerts["first_seen"]) == [NOW, NOW], "wall-clock creation stays apart from data time"


def test_late_labels_that_flip_a_window_update_the_alert_once(engine, tmp_path) -> None:
    with Receiver() as receiver:
        config, version = _setup(engine, tmp_path, receiver)
        for day, value in enumerate([0.6, 0.61, 0.8]):
            store_run(engine, monitor="perf", model_version_id=version, day=day, **_auc(value))
        _cycle(engine, config, receiver)
        assert _events(receiver) == ["alert.fired"]
        for attempt in range(2):  # the labels of day 2 arrive: it breaches too; recomputed twice
            store_run(engine, monitor="perf", model_version_id=version, day=2, **_auc(0.55))
            changes = _cycle(engine, config, receiver, now=NOW + timedelta(hours=1 + attempt))
            assert [c.action for c in changes] == (["updated"] if attempt == 0 else [])
        assert _events(receiver) == ["alert.fired", "alert.updated"]
        update = receiver.delivered()[-1].json["alert"]
    assert update["fire_count"] == 3 and update["data_time"]["end"] == _day(3).isoformat()
    assert len(_alerts(engine)) == 1


def test_a_recomputed_window_does_not_resolve_and_refire(engine, tmp_path) -> None:
    """A resolved incident whose resolving window turns out to breach is reopened, not re-fired."""
    with Receiver() as receiver:
        config, version = _setup(engine, tmp_path, receiver)
        for day, value in enumerate([0.6, 0.8, 0.8]):
            store_run(engine, monitor="perf", model_version_id=version, day=day, **_auc(value))
        _cycle(engine, config, receiver)
        store_run(engine, monitor="perf", model_version_id=version, day=2, **_auc(0.6))
        _cycle(engine, config, receiver, now=NOW + timedelta(hours=1))
        assert _events(receiver) == ["alert.fired", "alert.resolved", "alert.updated"]
    [alert] = _alerts(engine).to_dict("records")
    assert alert["status"] == "open" and alert["fire_count"] == 2 and alert["data_end"] == _day(3)


def test_for_two_of_three_fires_on_the_second_breach_only(engine, tmp_path) -> None:
    config, version = _setup(engine, tmp_path, **{"for": "2 of 3"})
    opened_on = []
    for day, value in enumerate([0.6, 0.8, 0.8, None, 0.8, 0.6, None, 0.8, 0.6]):
        store_run(engine, monitor="perf", model_version_id=version, day=day, **_auc(value))
        opened_on += [day for c in _cycle(engine, config, now=NOW + timedelta(days=day)) if c.action == "opened"]
    assert opened_on == [8], "an isolated breach stays quiet; the second of three windows with a verdict fires"
    alert = _alerts(engine).iloc[0]
    assert (alert["data_start"], alert["data_end"], alert["fire_count"]) == (_day(5), _day(9), 2)


@pytest.mark.parametrize(("hysteresis", "incidents"), [(0.0, 2), (0.05, 1)])
def test_hysteresis_keeps_a_hovering_value_open(sqlite_engine, tmp_path, hysteresis, incidents) -> None:
    """Floor 0.7: 0.71 and 0.72 clear the floor but not by 5 % of it (0.735), so they are not clean.

    Without hysteresis the hovering value flaps: resolved, then a second incident.
    """
    config, version = _setup(sqlite_engine, tmp_path, hysteresis=hysteresis)
    for day, value in enumerate([0.65, 0.71, 0.72, 0.69, 0.71, 0.72]):
        store_run(sqlite_engine, monitor="perf", model_version_id=version, day=day, **_auc(value))
    _cycle(sqlite_engine, config)
    alerts = _alerts(sqlite_engine)
    assert len(alerts) == incidents
    if incidents == 1:
        assert alerts.iloc[0]["status"] == "open" and alerts.iloc[0]["fire_count"] == 2


def test_severity_follows_the_effect_size(sqlite_engine, tmp_path) -> None:
    config, version = _setup(sqlite_engine, tmp_path, severity="warning", escalate={"critical": 0.1})
    store_run(sqlite_engine, monitor="perf", model_version_id=version, day=0, **_auc(0.65))
    _cycle(sqlite_engine, config)
    assert _alerts(sqlite_engine).iloc[0]["severity"] == "warning"
    store_run(sqlite_engine, monitor="perf", model_version_id=version, day=1, **_auc(0.55))
    _cycle(sqlite_engine, config, now=NOW + timedelta(days=1))
    assert _alerts(sqlite_engine).iloc[0]["severity"] == "critical"


def test_alert_times_are_window_times_after_a_backfill(engine, tmp_path) -> None:
    rules = [{"name": "drifted", "monitor": "drift", "when": "dataset_drift"}]
    config = alert_config(tmp_path, rules=rules)
    version = register(engine, config)
    for day in range(3, 8):
        store_run(engine, monitor="drift", model_version_id=version, day=day, summary=drift_summary(3),
                  drift=[drift_row("age", True)])
    _cycle(engine, config)
    alert = _alerts(engine).iloc[0]
    assert (alert["data_start"], alert["data_end"]) == (_day(3), _day(8))
    assert (alert["window_start"], alert["window_end"]) == (_day(7), _day(8))
