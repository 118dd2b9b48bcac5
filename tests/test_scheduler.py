"""The scheduler wiring in-process: persisted jobs, coalescing, leased job runs and ``--once``."""

import logging
import threading
import time
from datetime import UTC, datetime, timedelta

from apscheduler.events import EVENT_JOB_EXECUTED, EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED
from helpers_alerts import (
    DRIFT_RULE,
    ENV,
    SECRET,
    Receiver,
    alert_document,
    fired_drift_alert,
    register,
    webhook_channel,
    write_yaml,
)

from driftscope import pipeline
from driftscope.cli import main
from driftscope.config import load_config
from driftscope.scheduler import build_scheduler, job_specs, sync_jobs, tick_job
from driftscope.storage.alerts import list_alerts, resolve_alert
from driftscope.storage.db import make_engine, transaction
from driftscope.storage.notifications import list_notifications
from driftscope.storage.scheduler_state import acquire_lease, get_lease, release_lease

RETRY = timedelta(seconds=30)


def _config_file(tmp_path, db_url, **sections):
    return write_yaml(tmp_path / "driftscope.yaml", alert_document(database_url=db_url, **sections))


def _scheduled(tmp_path, db_url, *, monitor_schedule="*/5 * * * *", source=True, tick="30s"):
    document = alert_document(database_url=db_url, scheduler={"misfire_grace_time": "2m", "tick": tick})
    document["monitors"] = [{**document["monitors"][0], "schedule": monitor_schedule}, *document["monitors"][1:]]
    if source:
        document["sources"] = [{"name": "preds", "kind": "files", "model": "credit-default", "version": "1.0",
                                "records": "predictions", "url": "data/*.csv", "schedule": "1h"}]
    return write_yaml(tmp_path / "driftscope.yaml", document)


def _started(engine, path):
    config = load_config(path)
    scheduler = build_scheduler(engine, config)
    scheduler.start(paused=True)
    return scheduler, config


def test_jobs_persist_with_their_defaults_and_next_runs(engine, db_url, tmp_path) -> None:
    path = _scheduled(tmp_path, db_url)
    scheduler, config = _started(engine, path)
    scheduler.remove_all_jobs()
    first = sync_jobs(scheduler, job_specs(config, str(path), retry_base=RETRY))
    planned = {job.id: job.next_run_time for job in scheduler.get_jobs()}
    scheduler.shutdown(wait=False)
    assert first == {"source:preds": "added", "monitor:drift": "added", "tick": "added"}

    scheduler, config = _started(engine, path)
    again = sync_jobs(scheduler, job_specs(config, str(path), retry_base=RETRY))
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert again == dict.fromkeys(first, "kept")
    assert {job_id: job.next_run_time for job_id, job in jobs.items()} == planned
    assert {(j.coalesce, j.max_instances, j.misfire_grace_time) for j in jobs.values()} == {(True, 1, 120)}
    assert str(jobs["monitor:drift"].trigger).startswith("cron[") and jobs["tick"].args == (str(path), 30.0)
    scheduler.shutdown(wait=False)

    path = _scheduled(tmp_path, db_url, monitor_schedule="10m", source=False)
    scheduler, config = _started(engine, path)
    changed = sync_jobs(scheduler, job_specs(config, str(path), retry_base=RETRY))
    assert changed == {"monitor:drift": "replaced", "tick": "kept", "source:preds": "removed"}
    assert str(scheduler.get_job("monitor:drift").trigger) == "interval[0:10:00]"
    scheduler.shutdown(wait=False)


def test_missed_runs_coalesce_into_one_catch_up_run(sqlite_engine, sqlite_url, tmp_path) -> None:
    path = _scheduled(tmp_path, sqlite_url, source=False, tick="5s")
    scheduler, config = _started(sqlite_engine, path)
    sync_jobs(scheduler, job_specs(config, str(path), retry_base=RETRY))
    scheduler.remove_job("monitor:drift")
    scheduler.modify_job("tick", next_run_time=datetime.now(UTC) - timedelta(seconds=60))
    events: list[tuple[int, str]] = []
    scheduler.add_listener(lambda e: events.append((e.code, e.job_id)),
                           EVENT_JOB_EXECUTED | EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES)
    scheduler.resume()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not events:
        time.sleep(0.05)
    time.sleep(0.5)
    next_run = scheduler.get_job("tick").next_run_time
    scheduler.shutdown(wait=True)
    assert events == [(EVENT_JOB_EXECUTED, "tick")]
    assert next_run > datetime.now(UTC)


def test_run_job_skips_a_leased_job_and_logs_one_line_per_run(sqlite_engine, sqlite_url, tmp_path, caplog) -> None:
    config = load_config(_config_file(tmp_path, sqlite_url))
    calls: list[str] = []

    def work():
        calls.append("ran")
        yield {"model": "m", "version": "1.0", "window": "a/b", "rows": 10, "outcome": "succeeded"}
        yield {"model": "m", "version": "2.0", "window": "a/b", "rows": 0, "outcome": "failed", "error": "no data"}

    with transaction(sqlite_engine) as session:
        acquire_lease(session, job="monitor:x", holder="elsewhere:1/ab", ttl=timedelta(minutes=1))
    caplog.set_level(logging.INFO, logger="driftscope.jobs")
    assert pipeline.run_job(sqlite_engine, config, "monitor:x", work) == "skipped" and calls == []
    assert 'job=monitor:x outcome=skipped reason="lease held by elsewhere:1/ab"' in caplog.messages
    with transaction(sqlite_engine) as session:
        release_lease(session, job="monitor:x", holder="elsewhere:1/ab")
    caplog.clear()
    assert pipeline.run_job(sqlite_engine, config, "monitor:x", work) == "done" and calls == ["ran"]
    assert [m.split(" duration_s=")[0] for m in caplog.messages] == [
        "job=monitor:x model=m version=1.0 window=a/b rows=10 outcome=succeeded",
        'job=monitor:x model=m version=2.0 window=a/b rows=0 outcome=failed error="no data"',
    ]

    def broken():
        raise RuntimeError("reference missing")

    caplog.clear()
    assert pipeline.run_job(sqlite_engine, config, "monitor:x", broken) == "error"
    assert "outcome=error error=\"reference missing\"" in caplog.messages[0]
    with transaction(sqlite_engine) as session:
        assert get_lease(session, job="monitor:x") is None


def test_the_lease_is_renewed_while_a_long_job_runs(sqlite_url, tmp_path) -> None:
    config = load_config(_config_file(tmp_path, sqlite_url, scheduler={"lease_ttl": "1s"}))
    engine, rival = make_engine(sqlite_url), make_engine(sqlite_url)
    rival_got: list[bool] = []

    def work():
        for _ in range(4):
            time.sleep(0.5)
            with transaction(rival) as session:
                rival_got.append(acquire_lease(session, job="long", holder="rival", ttl=timedelta(seconds=1)))
        yield {"outcome": "ok"}

    assert pipeline.run_job(engine, config, "long", work) == "done"
    assert rival_got == [False, False, False, False]
    with transaction(rival) as session:
        assert acquire_lease(session, job="long", holder="rival", ttl=timedelta(seconds=1))
    engine.dispose()
    rival.dispose()


def test_once_runs_the_tick_and_delivers(sqlite_engine, sqlite_url, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    with Receiver() as hook:
        channels = [webhook_channel("hook", hook.url())]
        path = _config_file(tmp_path, sqlite_url, rules=[{**DRIFT_RULE, "channels": ["hook"]}], channels=channels)
        config = load_config(path)
        fired_drift_alert(sqlite_engine, config, register(sqlite_engine, config))
        assert main(["scheduler", "--once", "--config", str(path)]) == 0
        [got] = hook.delivered()
    assert got.signature_ok and got.json["type"] == "alert.fired"
    with transaction(sqlite_engine) as session:
        assert list(list_notifications(session)["status"]) == ["delivered"]


def test_stop_request_releases_unsent_claims(sqlite_engine, sqlite_url, tmp_path) -> None:
    with Receiver(delay_s=0.3) as hook:
        channels = [webhook_channel("hook", hook.url())]
        path = _config_file(tmp_path, sqlite_url, rules=[{**DRIFT_RULE, "channels": ["hook"]}], channels=channels)
        config = load_config(path, env=ENV)
        version_id = register(sqlite_engine, config)
        for day in range(4):
            fired_drift_alert(sqlite_engine, config, version_id, day=day * 3)
            with transaction(sqlite_engine) as session:
                resolve_alert(session, alert_id=int(list_alerts(session, status="active")["id"][0]), actor="t")
        stopper = threading.Timer(0.45, pipeline.request_stop)
        stopper.start()
        try:
            deliveries = pipeline.tick(sqlite_engine, config).deliveries
        finally:
            stopper.join()
            pipeline._STOP.clear()
    with transaction(sqlite_engine) as session:
        queued = list_notifications(session)
    assert 1 <= len(deliveries) < len(queued) == 8
    pending = queued[queued["status"] == "pending"]
    assert (pending["next_attempt_at"] <= datetime.now(UTC)).all() and (pending["attempts"] == 0).all()


def test_a_job_whose_config_no_longer_loads_logs_an_error(sqlite_url, tmp_path, caplog) -> None:
    path = _config_file(tmp_path, sqlite_url)
    path.write_text("models: [unclosed\n")
    caplog.set_level(logging.INFO, logger="driftscope.jobs")
    assert tick_job(str(path), 30.0) == "error"
    [line] = caplog.messages
    assert line.startswith("job=tick outcome=error error=") and "not valid YAML" in line and str(path) in line
