"""Rule checks on monitor runs (pure), and their effect on alerts, notifications and retraining (store)."""

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from factories import T0, canonical_predictions
from helpers_alerts import (
    alert_config,
    drift_row,
    drift_summary,
    metric_row,
    register,
    store_run,
    webhook_channel,
)
from hypothesis import given
from hypothesis import strategies as st

from driftscope.alerting.rules import CHECKS, RunResults, evaluate_no_data, evaluate_run
from driftscope.alerting.rules.checks import no_data_finding
from driftscope.config import RuleConfig
from driftscope.storage.alerts import acknowledge_alert, alert_history, list_alerts
from driftscope.storage.db import transaction
from driftscope.storage.notifications import list_notifications
from driftscope.storage.predictions import write_predictions
from driftscope.storage.results import RunInfo
from driftscope.storage.retraining import list_requests

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
HOOK = webhook_channel("hook", "http://127.0.0.1:9/unused")


def _run(status: str = "succeeded", summary: dict | None = None, error: str | None = None) -> RunInfo:
    return RunInfo(id=7, monitor_id=1, monitor="m", kind="data_drift", model_version_id=1, window_start=T0,
                   window_end=T0 + timedelta(days=1), status=status, n_rows=100, n_reference=100, n_labels=50,
                   summary=summary or {}, error=error)


def _results(drift: list[dict] | None = None, metrics: list[dict] | None = None,
             events: list[dict] | None = None) -> RunResults:
    return RunResults(pd.DataFrame(drift or []), pd.DataFrame(metrics or []),
                      pd.DataFrame(events or [], columns=["detector", "detected_at", "details"]))


def _rule(when: str, **options) -> RuleConfig:
    return RuleConfig(name="r", when=when, monitor="m", **options)


def test_dataset_drift_lists_drifted_features_strongest_first() -> None:
    drift = [drift_row("age", True, 0.15), drift_row("income", True, 0.9), drift_row("region", False, 0.01)]
    finding = CHECKS["dataset_drift"](_rule("dataset_drift"), _run(summary=drift_summary(2)), _results(drift))
    assert finding.fired
    assert [f["feature"] for f in finding.evidence["drifted_features"]] == ["income", "age"]
    assert finding.evidence["drifted_share"] == 0.5
    assert "2 of 4 features drifted (50%; drift declared at 50% or more)" in finding.title
    clean = CHECKS["dataset_drift"](_rule("dataset_drift"), _run(summary=drift_summary(1)), _results(drift))
    assert not clean.fired


@pytest.mark.parametrize("when", ["dataset_drift", "feature_drift", "metric_below", "metric_drop", "detector_fired"])
def test_a_failed_run_gives_no_verdict_except_run_failed(when) -> None:
    rule = _rule(when, metric="roc_auc", value=0.7) if when.startswith("metric") else _rule(when)
    results = _results([drift_row("age", True)], [metric_row("roc_auc", 0.5, flagged=True, p_value=0.01)])
    failed = _run("failed", summary={"dataset_drift": True, "concept_drift": True}, error="boom")
    assert CHECKS[when](rule, failed, results) is None
    finding = CHECKS["run_failed"](_rule("run_failed"), failed, results)
    assert finding.fired and finding.title == "monitor m failed: boom"


@pytest.mark.parametrize(
    ("feature", "expected"),
    [(None, True), ("age", True), ("region", False), ("unknown", None)],
)
def test_feature_drift_for_one_or_any_feature(feature, expected) -> None:
    results = _results([drift_row("age", True, 0.4, 0.1), drift_row("region", False, 0.01)])
    finding = CHECKS["feature_drift"](_rule("feature_drift", feature=feature), _run(), results)
    if expected is None:
        assert finding is None
        return
    assert finding.fired is expected
    if expected:
        assert finding.title == "feature drift: age (psi 0.4 >= threshold 0.1)"


@given(value=st.floats(0, 1), floor=st.floats(0, 1))
def test_metric_below_fires_exactly_below_the_floor(value, floor) -> None:
    results = _results(metrics=[metric_row("roc_auc", value, ci=(value - 0.05, value + 0.05))])
    finding = CHECKS["metric_below"](_rule("metric_below", metric="roc_auc", value=floor), _run(), results)
    assert finding.fired is (value < floor)
    assert finding.evidence["metric"]["floor"] == floor and finding.evidence["metric"]["value"] == value


@pytest.mark.parametrize("status", ["insufficient_labels", "undefined"])
def test_metric_without_a_verdict_is_not_judged(status) -> None:
    results = _results(metrics=[metric_row("roc_auc", 0.1, status=status)])
    assert CHECKS["metric_below"](_rule("metric_below", metric="roc_auc", value=0.7), _run(), results) is None
    other = _results(metrics=[metric_row("accuracy", 0.1)])
    assert CHECKS["metric_below"](_rule("metric_below", metric="roc_auc", value=0.7), _run(), other) is None


@pytest.mark.parametrize(
    ("row", "min_drop", "fired"),
    [
        (metric_row("roc_auc", 0.70, reference=0.80, flagged=True, p_value=0.01), None, True),
        (metric_row("roc_auc", 0.70, reference=0.80, flagged=False, p_value=0.30), None, False),
        (metric_row("roc_auc", 0.78, reference=0.80, flagged=True, p_value=0.01), 0.05, False),
        (metric_row("roc_auc", 0.70, reference=0.80, ci=(0.65, 0.75)), None, True),
        (metric_row("roc_auc", 0.70, reference=0.80, ci=(0.60, 0.85)), None, False),
        (metric_row("log_loss", 0.60, reference=0.40, ci=(0.50, 0.70), higher_is_better=False), None, True),
        (metric_row("log_loss", 0.30, reference=0.40, ci=(0.25, 0.35), higher_is_better=False), None, False),
    ],
    ids=["flagged", "not-significant", "below-min-drop", "ci-below", "ci-overlaps", "loss-up", "loss-down"],
)
def test_metric_drop_is_a_significant_worsening(row, min_drop, fired) -> None:
    rule = _rule("metric_drop", metric=row["metric"], value=min_drop)
    finding = CHECKS["metric_drop"](rule, _run(), _results(metrics=[row]))
    assert finding.fired is fired
    worse_by = row["reference_value"] - row["value"] if row["details"]["higher_is_better"] else row["value"] - row[
        "reference_value"]
    assert finding.evidence["metric"]["drop"] == pytest.approx(worse_by)


@pytest.mark.parametrize(("detector", "fired"), [(None, True), ("adwin", True), ("ddm", False)])
def test_detector_fired_reads_summary_and_change_points(detector, fired) -> None:
    events = [{"detector": "adwin", "detected_at": T0 + timedelta(hours=3), "details": {"width": 40}}]
    run = _run(summary={"concept_drift": False, "detectors_fired": [], "label_coverage": 0.8})
    finding = CHECKS["detector_fired"](_rule("detector_fired", detector=detector), run, _results(events=events))
    assert finding.fired is fired
    assert [p["detector"] for p in finding.evidence["change_points"]] == (["adwin"] if fired else [])


@pytest.mark.parametrize(("silent_h", "fired"), [(5.9, False), (6.0, True), (30, True)])
def test_no_data_counts_hours_of_silence(silent_h, fired) -> None:
    rule = RuleConfig(name="silent", when="no_data", model="credit-default", hours=6)
    finding = no_data_finding(rule, last_seen=NOW - timedelta(hours=silent_h), activity={}, now=NOW)
    assert finding.fired is fired and finding.evidence["silent_hours"] == pytest.approx(silent_h)


def _notifications(engine) -> list[tuple[str, str]]:
    with transaction(engine) as session:
        frame = list_notifications(session)
    return list(zip(frame["channel"], frame["event"], strict=True))


def _evaluate(engine, config, run, now):
    with transaction(engine) as session:
        return evaluate_run(session, config, run, now=now)


def test_dedup_cooldown_and_auto_resolve(engine, tmp_path) -> None:
    rules = [{"name": "drifted", "monitor": "drift", "when": "dataset_drift", "channels": ["hook"]}]
    config = alert_config(tmp_path, rules=rules, channels=[HOOK])
    version_id = register(engine, config)
    drifted = {"monitor": "drift", "model_version_id": version_id, "summary": drift_summary(3),
               "drift": [drift_row("age", True)]}
    steps = [(0, drifted, timedelta(0)), (1, drifted, timedelta(minutes=10)), (2, drifted, timedelta(hours=2))]
    actions = []
    for day, run, offset in steps:
        changes = _evaluate(engine, config, store_run(engine, day=day, **run), NOW + offset)
        actions += [(c.action, c.notified) for c in changes]
    assert actions == [("opened", True), ("fired", False), ("fired", True)]
    clean = {"monitor": "drift", "model_version_id": version_id, "summary": drift_summary(0)}
    first = _evaluate(engine, config, store_run(engine, day=3, **clean), NOW + timedelta(hours=3))
    second = _evaluate(engine, config, store_run(engine, day=4, **clean), NOW + timedelta(hours=4))
    assert first == [] and [c.action for c in second] == ["resolved"]
    assert _notifications(engine) == [("hook", "alert.fired")] * 2 + [("hook", "alert.resolved")]
    with transaction(engine) as session:
        alert = list_alerts(session).iloc[0]
        history = alert_history(session, alert_id=int(alert["id"]))
    assert (alert["status"], alert["fire_count"]) == ("resolved", 3)
    assert alert["evidence"]["window"]["end"] == (T0 + timedelta(days=3)).isoformat()
    assert alert["evidence"]["drifted_features"][0]["feature"] == "age"
    assert list(history["action"]) == ["opened", "notified", "fired", "fired", "notified", "resolved"]


def test_acknowledged_alert_is_not_renotified_and_failed_runs_do_not_count(sqlite_engine, tmp_path) -> None:
    rules = [{"name": "drifted", "monitor": "drift", "when": "dataset_drift", "channels": ["hook"]},
             {"name": "broken", "monitor": "drift", "when": "run_failed", "severity": "critical"}]
    config = alert_config(tmp_path, rules=rules, channels=[HOOK])
    version_id = register(sqlite_engine, config)
    run = {"monitor": "drift", "model_version_id": version_id, "summary": drift_summary(4)}
    [opened] = _evaluate(sqlite_engine, config, store_run(sqlite_engine, day=0, **run), NOW)
    with transaction(sqlite_engine) as session:
        acknowledge_alert(session, alert_id=opened.alert_id, actor="ana")
    again = _evaluate(sqlite_engine, config, store_run(sqlite_engine, day=1, **run), NOW + timedelta(days=1))
    assert [(c.rule, c.action, c.notified) for c in again] == [("drifted", "fired", False)]
    failed = store_run(sqlite_engine, day=2, monitor="drift", model_version_id=version_id, status="failed",
                       error="reference missing")
    changes = _evaluate(sqlite_engine, config, failed, NOW + timedelta(days=2))
    assert [(c.rule, c.action, c.notified) for c in changes] == [("broken", "opened", False)]
    with transaction(sqlite_engine) as session:
        alerts = list_alerts(session).set_index("rule")
    assert alerts.loc["drifted", "clean_runs"] == 0 and alerts.loc["drifted", "status"] == "acknowledged"
    assert alerts.loc["broken", "severity"] == "critical" and "reference missing" in alerts.loc["broken", "title"]


def test_retraining_is_requested_at_most_once_per_interval(engine, tmp_path) -> None:
    rules = [{"name": "auc", "monitor": "perf", "when": "metric_below", "metric": "roc_auc", "value": 0.7,
              "severity": "critical", "channels": ["hook"], "retrain": True}]
    config = alert_config(tmp_path, rules=rules, channels=[HOOK, webhook_channel("retrain", "http://127.0.0.1:9/r")],
                          retrain_webhook="retrain", retraining={"min_interval": "7d"})
    version_id = register(engine, config)
    run = {"monitor": "perf", "model_version_id": version_id,
           "metrics": [metric_row("roc_auc", 0.61, ci=(0.55, 0.66))]}
    requested = []
    for day, offset in ((0, timedelta(0)), (1, timedelta(days=1)), (8, timedelta(days=8))):
        changes = _evaluate(engine, config, store_run(engine, day=day, **run), NOW + offset)
        requested += [c.retraining_request_id for c in changes]
    assert requested[0] is None, "one breaching window never asks for retraining"
    assert None not in (requested[1], requested[2]) and requested[1] != requested[2]
    with transaction(engine) as session:
        requests = list_requests(session)
    assert list(requests["trigger"]) == ["alert", "alert"] and set(requests["status"]) == {"pending"}
    evidence = requests.iloc[-1]["evidence"]
    assert evidence["rule"] == "auc" and evidence["window"]["start"] == (T0 + timedelta(days=0)).isoformat()
    assert evidence["alerts"][0]["evidence"]["metric"]["value"] == pytest.approx(0.61)
    assert ("retrain", "retraining.requested") in _notifications(engine)


def test_no_data_fires_on_silence_and_resolves_when_rows_arrive(engine, tmp_path) -> None:
    rules = [{"name": "silent", "model": "credit-default", "when": "no_data", "hours": 6, "channels": ["hook"]}]
    config = alert_config(tmp_path, rules=rules, channels=[HOOK])
    version_id = register(engine, config)
    wall = datetime.now(UTC)
    with transaction(engine) as session:
        assert evaluate_no_data(session, config, now=wall + timedelta(hours=1)) == []
        [opened] = evaluate_no_data(session, config, now=wall + timedelta(hours=7))
    assert (opened.action, opened.notified) == ("opened", True)
    with transaction(engine) as session:
        write_predictions(session, model_version_id=version_id, frame=canonical_predictions(10), source="t")
    with transaction(engine) as session:
        assert evaluate_no_data(session, config, now=wall + timedelta(hours=1)) == []
        [resolved] = evaluate_no_data(session, config, now=wall + timedelta(hours=2))
        alert = list_alerts(session).iloc[0]
    assert resolved.action == "resolved" and alert["status"] == "resolved"
    assert alert["evidence"]["silent_hours"] == pytest.approx(7, abs=0.1)
    assert alert["evidence"]["last_ingested_at"] is None


def test_no_data_replay_finds_a_past_outage(engine, tmp_path) -> None:
    """Replaying past hours, a gap in the prediction timestamps fires and the rows after it resolve it."""
    rules = [{"name": "silent", "model": "credit-default", "when": "no_data", "hours": 5, "channels": ["hook"]}]
    config = alert_config(tmp_path, rules=rules, channels=[HOOK])
    version_id = register(engine, config)
    hourly = canonical_predictions(48, step=timedelta(hours=1))
    gap = hourly["ts"].between(pd.Timestamp(T0 + timedelta(hours=10)), pd.Timestamp(T0 + timedelta(hours=17)))
    with transaction(engine) as session:
        write_predictions(session, model_version_id=version_id, frame=hourly[~gap], source="t")
    actions = []
    for hour in range(1, 48):
        with transaction(engine) as session:
            changes = evaluate_no_data(session, config, now=T0 + timedelta(hours=hour), replay=True)
        actions += [(hour, c.action) for c in changes]
    resolve_after = config.alerts.resolve_after
    assert actions == [(14, "opened"), (15, "fired"), (16, "fired"), (17, "fired"), (17 + resolve_after, "resolved")]
    with transaction(engine) as session:
        alert = list_alerts(session).iloc[0]
    assert alert["first_seen"] == T0 + timedelta(hours=14)


def test_feature_drift_ignores_the_prediction_rows() -> None:
    rows = [drift_row("age", False, 0.01), {**drift_row("probability", True, 0.5), "role": "prediction"}]
    rows[0]["role"] = "feature"
    finding = CHECKS["feature_drift"](_rule("feature_drift"), _run(), _results(rows))
    assert finding is not None and not finding.fired
