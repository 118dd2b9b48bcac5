"""Real ``driftscope scheduler`` processes: jobs end to end, restart after a crash, two schedulers at once."""

import itertools
import re
import signal
import time
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from helpers_alerts import (
    DRIFT_RULE,
    ENV,
    Receiver,
    SchedulerProcess,
    alert_document,
    fired_drift_alert,
    free_port,
    register,
    webhook_channel,
    write_yaml,
)
from helpers_monitor import SCHEMA, credit_frame, reference_file

from driftscope.apply import apply_config
from driftscope.config import load_config
from driftscope.storage.db import transaction
from driftscope.storage.notifications import delivery_log, list_notifications
from driftscope.storage.scheduler_state import latest_heartbeat, list_heartbeats

pytestmark = pytest.mark.slow


def _credit_document(tmp_path, db_url: str, **sections) -> dict:
    reference = reference_file(tmp_path / "reference.parquet", n=2000)
    model = {"name": "credit", "task": "binary_classification", "schema": SCHEMA,
             "versions": [{"version": "1.0", "reference": str(reference)}]}
    return {"database_url": db_url, "dashboard_url": "http://dash.test:8501", "models": [model], **sections}


def _drifted_predictions(directory, now: datetime) -> None:
    """Covariate-drifted predictions from yesterday 00:00 UTC to ``now``, in the configured column names."""
    start = now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
    n = 2400
    frame = credit_frame(n, kind="covariate", seed=5, start=start.replace(tzinfo=None), step=(now - start) / n)
    frame = frame.drop(columns=["label"]).rename(columns={
        "prediction_id": "request_id", "prediction": "predicted_label", "probability": "score"})
    directory.mkdir()
    frame.to_parquet(directory / "part-0.parquet", index=False)


def test_scheduler_runs_sources_and_monitors_end_to_end(sqlite_engine, sqlite_url, tmp_path) -> None:
    _drifted_predictions(tmp_path / "data", datetime.now(UTC))
    with Receiver() as hook:
        document = _credit_document(
            tmp_path, sqlite_url,
            sources=[{"name": "preds", "kind": "files", "model": "credit", "version": "1.0",
                      "records": "predictions", "url": "data/*.parquet", "schedule": "1s"}],
            monitors=[{"name": "drift", "model": "credit", "kind": "data_drift", "window": "1d", "schedule": "2s"}],
            alerts={"rules": [{**DRIFT_RULE, "channels": ["hook"]}]},
            channels=[webhook_channel("hook", hook.url())], scheduler={"tick": "1s"},
        )
        path = write_yaml(tmp_path / "driftscope.yaml", document)
        config = load_config(path, env=ENV)
        apply_config(config, sqlite_engine)
        with SchedulerProcess(path, tmp_path / "scheduler.log") as scheduler:
            got = hook.wait_for(1, timeout=60)
            code = scheduler.stop(signal.SIGTERM)
            log = scheduler.log()
    assert code == 0, log
    assert len(got) == 1 and got[0].signature_ok, log
    alert = got[0].json["alert"]
    assert (alert["model"], alert["version"], alert["rule"]) == ("credit", "1.0", "drifted")
    assert {"income", "debt_ratio"} <= {f["feature"] for f in alert["evidence"]["drifted_features"]}
    assert re.search(r"job=source:preds model=credit version=1.0 window=- rows=2400 .*outcome=succeeded", log), log
    assert re.search(r"job=monitor:drift model=credit version=1.0 window=\S+ rows=\d+ outcome=succeeded alerts=1", log)
    assert "event=scheduler_stopped" in log
    with transaction(sqlite_engine) as session:
        beat = latest_heartbeat(session)
    assert beat.instance.endswith(f":{scheduler.pid}") and beat.next_runs == {}


def test_restart_resumes_the_stored_jobs_and_loses_no_notification(sqlite_engine, sqlite_url, tmp_path) -> None:
    port = free_port()
    document = alert_document(
        database_url=sqlite_url, rules=[{**DRIFT_RULE, "channels": ["hook"]}],
        channels=[webhook_channel("hook", f"http://127.0.0.1:{port}/hook")], scheduler={"tick": "1s"},
    )
    document["monitors"][0]["schedule"] = "1h"
    path = write_yaml(tmp_path / "driftscope.yaml", document)
    config = load_config(path, env=ENV)
    alert_id = fired_drift_alert(sqlite_engine, config, register(sqlite_engine, config))
    store = SQLAlchemyJobStore(engine=sqlite_engine)

    # Retries 5 s apart, so the kill lands between two attempts even when the log is read late: a process
    # killed while it holds a claim leaves the notification claimed until the claim expires (minutes:
    # at-least-once, never twice), which is not what this test is about.
    with SchedulerProcess(path, tmp_path / "first.log", "--retry-delay", "5s") as first:
        assert first.wait_for("could not deliver alert.fired", timeout=30), first.log()
        planned = store.lookup_job("monitor:drift").next_run_time
        assert first.stop(signal.SIGKILL) == -signal.SIGKILL
    with transaction(sqlite_engine) as session:
        assert list(list_notifications(session)["status"]) == ["pending"]

    with Receiver(port=port) as hook, SchedulerProcess(path, tmp_path / "second.log", "--retry-delay", "5s") as second:
        got = hook.wait_for(1, timeout=30)
        assert second.wait_for("event=scheduler_started", timeout=5)
        resumed = store.lookup_job("monitor:drift").next_run_time
        assert second.stop() == 0
        log = second.log()
    assert "kept=2 added=0 replaced=0 removed=0" in log, log
    assert resumed == planned
    assert len(got) == 1 and len(hook.requests) == 1 and got[0].signature_ok
    with transaction(sqlite_engine) as session:
        attempts = delivery_log(session, alert_id=alert_id)
    assert list(attempts["ok"]) == [False, True]
    assert "ConnectionError" in attempts["error"].iloc[0]


def test_two_schedulers_never_run_the_same_job_at_once(sqlite_engine, sqlite_url, tmp_path) -> None:
    with Receiver(delay_s=1.5) as api:
        document = _credit_document(
            tmp_path, sqlite_url,
            sources=[{"name": "slow-api", "kind": "http", "model": "credit", "version": "1.0",
                      "records": "predictions", "url": api.url("/predictions"), "schedule": "1s", "timeout": "10s"}],
            scheduler={"tick": "1s"},
        )
        path = write_yaml(tmp_path / "driftscope.yaml", document)
        apply_config(load_config(path), sqlite_engine)
        with (SchedulerProcess(path, tmp_path / "a.log") as a, SchedulerProcess(path, tmp_path / "b.log") as b):
            assert a.wait_for("event=scheduler_started", timeout=90) and b.wait_for("event=scheduler_started", 90)
            _poll(lambda: len(api.requests) >= 2 and "outcome=skipped" in a.log() + b.log(), timeout=30)
            codes = a.stop(), b.stop()
            logs = a.log() + b.log()
        calls = sorted(api.requests, key=lambda r: r.started)
    assert codes == (0, 0), logs
    assert len(calls) >= 2
    overlaps = [(x.started, x.finished, y.started) for x, y in itertools.pairwise(calls) if y.started < x.finished]
    assert overlaps == [], logs
    skipped = re.findall(r'job=source:slow-api outcome=skipped reason="lease held by [^:]+:(\d+)/', logs)
    assert skipped and set(map(int, skipped)) <= {a.pid, b.pid}, logs
    with transaction(sqlite_engine) as session:
        assert {h.instance.rsplit(":", 1)[1] for h in list_heartbeats(session)} == {str(a.pid), str(b.pid)}


def _poll(done, *, timeout: float) -> bool:
    """Wait (bounded) until ``done()`` is true; returns its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if done():
            return True
        time.sleep(0.1)
    return bool(done())


def test_two_schedulers_run_each_scheduled_slot_once(engine, db_url, tmp_path) -> None:
    with Receiver() as api:
        document = _credit_document(
            tmp_path, db_url,
            sources=[{"name": "api", "kind": "http", "model": "credit", "version": "1.0", "records": "predictions",
                      "url": api.url("/predictions"), "schedule": "1s", "timeout": "5s"}],
            scheduler={"tick": "1s"},
        )
        path = write_yaml(tmp_path / "driftscope.yaml", document)
        apply_config(load_config(path), engine)
        with (SchedulerProcess(path, tmp_path / "a.log") as a, SchedulerProcess(path, tmp_path / "b.log") as b):
            assert a.wait_for("event=scheduler_started", timeout=90) and b.wait_for("event=scheduler_started", 90)
            _poll(lambda: len(api.requests) >= 6 and "outcome=skipped" in a.log() + b.log(), timeout=60)
            codes = a.stop(), b.stop()
            logs = a.log() + b.log()
        gets = len(api.requests)
    assert codes == (0, 0), logs
    ran = re.findall(r"job=source:api .*outcome=succeeded .*slot=(\S+)", logs)
    assert gets >= 6 and gets == len(ran), logs
    assert sorted(set(ran)) == sorted(ran), f"a slot ran twice: {sorted(ran)}"
    ticks = re.findall(r"job=tick outcome=ok .*slot=(\S+)", logs)
    assert ticks and len(set(ticks)) == len(ticks), f"a tick slot ran twice: {sorted(ticks)}"
    # the second scheduler was turned away, by the lease or by the slot's claim (which one depends on timing;
    # tests/test_scheduler_claims.py checks the claim itself)
    assert re.search(r'outcome=skipped .*reason="(slot already run by|lease held by)', logs), logs
