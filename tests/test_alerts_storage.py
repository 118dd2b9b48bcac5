"""Alerts, notifications, retraining requests, leases and the heartbeat in the store (SQLite and PostgreSQL)."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from factories import register_version
from sqlalchemy import Engine

from driftscope.storage.alerts import (
    ALERT_COLUMNS,
    AlertStateError,
    acknowledge_alert,
    alert_history,
    fire_alert,
    list_alerts,
    notify_alert,
    record_clean_run,
    resolve_alert,
)
from driftscope.storage.db import make_engine, transaction
from driftscope.storage.notifications import claim_due, delivery_log, enqueue, list_notifications, record_attempt
from driftscope.storage.registry import ensure_model
from driftscope.storage.retraining import (
    RequestStateError,
    get_request,
    list_requests,
    record_delivery,
    request_retraining,
    set_status,
)
from driftscope.storage.scheduler_state import (
    acquire_lease,
    beat,
    get_lease,
    latest_heartbeat,
    release_lease,
    renew_lease,
)

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def _fire(engine: Engine, version_id: int, *, rule: str = "r1", title: str = "t", evidence: dict | None = None,
          now: datetime = NOW, severity: str = "warning"):
    with transaction(engine) as session:
        return fire_alert(
            session, rule=rule, kind="dataset_drift", model_version_id=version_id, severity=severity, title=title,
            evidence=evidence or {}, window_start=now - timedelta(days=1), window_end=now, now=now,
        )


def test_firing_again_updates_the_one_active_alert(engine) -> None:
    version = register_version(engine)
    first = _fire(engine, version.id, title="2 of 4", evidence={"n": 2})
    with transaction(engine) as session:
        record_clean_run(session, rule="r1", model_version_id=version.id, resolve_after=3)
    second = _fire(engine, version.id, title="3 of 4", evidence={"n": 3}, now=NOW + timedelta(hours=1))
    assert first.opened and not second.opened
    assert second.id == first.id and second.fire_count == 2
    with transaction(engine) as session:
        alerts = list_alerts(session)
        history = alert_history(session, alert_id=first.id)
    assert len(alerts) == 1
    row = alerts.iloc[0]
    assert (row["title"], row["evidence"], row["clean_runs"], row["fire_count"]) == ("3 of 4", {"n": 3}, 0, 2)
    assert row["first_seen"] == NOW and row["last_seen"] == NOW + timedelta(hours=1)
    assert (row["model"], row["version"], row["status"]) == ("credit-default", "1.0", "open")
    assert list(history["action"]) == ["opened", "fired"]
    assert set(ALERT_COLUMNS) <= set(alerts.columns)


def test_clean_runs_resolve_and_the_next_firing_opens_a_new_alert(engine) -> None:
    version = register_version(engine)
    first = _fire(engine, version.id)
    with transaction(engine) as session:
        assert record_clean_run(session, rule="r1", model_version_id=version.id, resolve_after=2) is None
        assert record_clean_run(session, rule="r1", model_version_id=version.id, resolve_after=2) == first.id
        assert record_clean_run(session, rule="r1", model_version_id=version.id, resolve_after=2) is None
    again = _fire(engine, version.id)
    assert again.opened and again.id != first.id
    with transaction(engine) as session:
        assert list(list_alerts(session, status="resolved")["id"]) == [first.id]
        assert list(list_alerts(session, status="active")["id"]) == [again.id]
        history = alert_history(session, alert_id=first.id)
    assert list(history["action"]) == ["opened", "resolved"]
    assert history.iloc[-1]["actor"] == "driftscope" and "2 consecutive" in history.iloc[-1]["note"]


def test_ack_and_resolve_transitions_keep_history(engine) -> None:
    version = register_version(engine)
    alert = _fire(engine, version.id)
    with transaction(engine) as session:
        acknowledge_alert(session, alert_id=alert.id, actor="ana", note="looking")
    with transaction(engine) as session, pytest.raises(AlertStateError, match="only an open alert"):
        acknowledge_alert(session, alert_id=alert.id, actor="bob")
    with transaction(engine) as session:
        resolve_alert(session, alert_id=alert.id, actor="ana", note="fixed upstream")
    for action in (acknowledge_alert, resolve_alert):
        with transaction(engine) as session, pytest.raises(AlertStateError, match="resolved"):
            action(session, alert_id=alert.id, actor="bob")
    with transaction(engine) as session, pytest.raises(LookupError, match="no alert with id 999"):
        resolve_alert(session, alert_id=999, actor="bob")
    with transaction(engine) as session:
        history = alert_history(session, alert_id=alert.id)
        row = list_alerts(session, status="resolved").iloc[0]
    assert list(zip(history["action"], history["actor"], history["note"], strict=True))[1:] == [
        ("acknowledged", "ana", "looking"), ("resolved", "ana", "fixed upstream")]
    assert row["resolved_at"] is not None and row["status"] == "resolved"


def test_resolving_tells_the_channels_that_heard_of_the_alert(engine) -> None:
    version = register_version(engine)
    alert = _fire(engine, version.id)
    with transaction(engine) as session:
        notify_alert(session, alert_id=alert.id, channels=["mail", "hook"], now=NOW)
        resolve_alert(session, alert_id=alert.id, actor="ana")
        queued = list_notifications(session, alert_id=alert.id)
    assert list(zip(queued["channel"], queued["event"], strict=True)) == [
        ("mail", "alert.fired"), ("hook", "alert.fired"), ("mail", "alert.resolved"), ("hook", "alert.resolved")]


def test_list_filters(engine) -> None:
    v1 = register_version(engine)
    v2 = register_version(engine, model="other")
    _fire(engine, v1.id, rule="a", severity="critical")
    _fire(engine, v1.id, rule="b", severity="info")
    _fire(engine, v2.id, rule="a", severity="critical")
    with transaction(engine) as session:
        assert len(list_alerts(session, model="credit-default")) == 2
        assert set(list_alerts(session, severity="critical")["model"]) == {"credit-default", "other"}
        assert list(list_alerts(session, model_version_id=v2.id)["rule"]) == ["a"]
        assert list_alerts(session, status="acknowledged").empty
        with pytest.raises(ValueError, match="alert status must be"):
            list_alerts(session, status="closed")


def _engines(url: str, n: int) -> list[Engine]:
    return [make_engine(url) for _ in range(n)]


def test_concurrent_claims_never_share_a_notification(engine, db_url) -> None:
    with transaction(engine) as session:
        for i in range(40):
            enqueue(session, channel=f"c{i % 3}", payload={"type": "alert.fired", "id": str(i)})
    engines = _engines(db_url, 4)
    claimed: list[list[int]] = [[] for _ in engines]
    barrier = threading.Barrier(len(engines))
    now = datetime.now(UTC) + timedelta(seconds=1)

    def claim(i: int) -> None:
        barrier.wait()
        for _ in range(10):
            with transaction(engines[i]) as session:
                claimed[i] += [n.id for n in claim_due(session, now=now, claim_for=timedelta(minutes=5), limit=3)]

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(len(engines))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    for e in engines:
        e.dispose()
    every = [n for ids in claimed for n in ids]
    assert len(every) == len(set(every)) == 40


def test_attempts_decide_the_status(engine) -> None:
    version = register_version(engine)
    alert = _fire(engine, version.id)
    with transaction(engine) as session:
        ids = notify_alert(session, alert_id=alert.id, channels=["a", "b", "c"], now=NOW)
    later = datetime.now(UTC) + timedelta(minutes=5)
    with transaction(engine) as session:
        delivered = record_attempt(session, notification_id=ids[0], ok=True, duration_ms=12.5, status_code=200)
        assert delivered == "delivered"
        assert record_attempt(session, notification_id=ids[1], ok=False, duration_ms=3.0, status_code=500,
                              error="HTTP 500", retry_at=later) == "pending"
        assert record_attempt(session, notification_id=ids[2], ok=False, duration_ms=3.0, error="refused") == "failed"
        due_now = claim_due(session, now=later - timedelta(seconds=1), claim_for=timedelta(minutes=1))
        due_later = claim_due(session, now=later, claim_for=timedelta(minutes=1))
        log = delivery_log(session, alert_id=alert.id)
    assert due_now == [] and [n.id for n in due_later] == [ids[1]]
    assert list(log.columns[:2]) == ["notification_id", "channel"]
    assert {"channel", "attempt", "ok", "status_code", "error", "duration_ms", "created_at"} <= set(log.columns)
    assert list(zip(log["channel"], log["ok"], log["attempt"], strict=True)) == [("a", True, 1), ("b", False, 1),
                                                                              ("c", False, 1)]
    assert set(log["event"]) == {"alert.fired"}


def _model_with_webhook(engine: Engine, webhook: str | None) -> int:
    version = register_version(engine)
    with transaction(engine) as session:
        ensure_model(session, name="credit-default", task="binary_classification", retrain_webhook=webhook)
    return version.id


def test_request_queues_its_event_with_the_active_alerts(engine) -> None:
    version_id = _model_with_webhook(engine, "retrain-hook")
    alert = _fire(engine, version_id, evidence={"metric": {"metric": "roc_auc", "value": 0.6}})
    with transaction(engine) as session:
        request_id = request_retraining(session, model_version_id=version_id, reason="auc fell",
                                        requested_by="ana", evidence={"note": "x"})
        request = get_request(session, request_id=request_id)
        queued = list_notifications(session, retraining_request_id=request_id)
    assert request["status"] == "pending" and request["trigger"] == "manual"
    assert request["evidence"]["note"] == "x"
    assert [a["id"] for a in request["evidence"]["alerts"]] == [alert.id]
    assert list(zip(queued["channel"], queued["event"], strict=True)) == [("retrain-hook", "retraining.requested")]


def test_request_without_webhook_is_only_recorded(engine) -> None:
    version_id = _model_with_webhook(engine, None)
    with transaction(engine) as session:
        request_id = request_retraining(session, model_version_id=version_id, reason="r", requested_by="ana")
        assert list_notifications(session).empty
        with pytest.raises(ValueError, match="needs a reason"):
            request_retraining(session, model_version_id=version_id, reason="  ", requested_by="ana")
    with transaction(engine) as session:
        set_status(session, request_id=request_id, status="completed", actor="ana", note="retrained by hand")
        row = list_requests(session, model_version_id=version_id).iloc[0]
    assert (row["status"], row["updated_by"], row["note"]) == ("completed", "ana", "retrained by hand")


@pytest.mark.parametrize(
    ("path", "target", "allowed"),
    [
        ([], "sent", True), (["sent"], "acknowledged", True), (["sent", "acknowledged"], "completed", True),
        (["failed"], "completed", False), (["completed"], "failed", False), (["sent"], "pending", False),
        (["sent", "acknowledged"], "sent", False),
    ],
    ids=lambda v: "-".join(v) if isinstance(v, list) else str(v),
)
def test_request_transitions(sqlite_engine, path, target, allowed) -> None:
    version_id = _model_with_webhook(sqlite_engine, None)
    with transaction(sqlite_engine) as session:
        request_id = request_retraining(session, model_version_id=version_id, reason="r", requested_by="ana")
        for status in path:
            set_status(session, request_id=request_id, status=status, actor="ana")
        if allowed:
            set_status(session, request_id=request_id, status=target, actor="ana")
            assert get_request(session, request_id=request_id)["status"] == target
        else:
            with pytest.raises(RequestStateError, match=f"cannot become {target}"):
                set_status(session, request_id=request_id, status=target, actor="ana")


def test_delivery_moves_only_pending_requests(sqlite_engine) -> None:
    version_id = _model_with_webhook(sqlite_engine, None)
    with transaction(sqlite_engine) as session:
        a = request_retraining(session, model_version_id=version_id, reason="r", requested_by="ana")
        b = request_retraining(session, model_version_id=version_id, reason="r", requested_by="ana")
        set_status(session, request_id=b, status="completed", actor="ana")
        record_delivery(session, request_id=a, delivered=False)
        record_delivery(session, request_id=b, delivered=True)
        assert get_request(session, request_id=a)["status"] == "failed"
        assert get_request(session, request_id=b)["status"] == "completed"


def test_lease_is_exclusive_until_it_expires(engine) -> None:
    ttl = timedelta(seconds=30)
    with transaction(engine) as session:
        assert acquire_lease(session, job="j", holder="a", ttl=ttl, now=NOW)
        assert not acquire_lease(session, job="j", holder="b", ttl=ttl, now=NOW + timedelta(seconds=10))
        assert renew_lease(session, job="j", holder="a", ttl=ttl, now=NOW + timedelta(seconds=20))
        assert not acquire_lease(session, job="j", holder="b", ttl=ttl, now=NOW + timedelta(seconds=40))
        assert not renew_lease(session, job="j", holder="b", ttl=ttl, now=NOW)
        assert acquire_lease(session, job="j", holder="b", ttl=ttl, now=NOW + timedelta(seconds=51))
        assert get_lease(session, job="j").holder == "b"
        release_lease(session, job="j", holder="a")
        assert get_lease(session, job="j").holder == "b"
        release_lease(session, job="j", holder="b")
        assert get_lease(session, job="j") is None
        assert acquire_lease(session, job="j", holder="c", ttl=ttl, now=NOW)


@pytest.mark.parametrize("existing", ["none", "expired"])
def test_concurrent_acquire_has_one_winner(engine, db_url, existing) -> None:
    if existing == "expired":
        with transaction(engine) as session:
            acquire_lease(session, job="j", holder="old", ttl=timedelta(seconds=1), now=NOW)
    engines = _engines(db_url, 4)
    barrier = threading.Barrier(len(engines))
    won: list[str] = []

    def contend(i: int) -> None:
        barrier.wait()
        with transaction(engines[i]) as session:
            if acquire_lease(session, job="j", holder=f"h{i}", ttl=timedelta(minutes=1)):
                won.append(f"h{i}")

    threads = [threading.Thread(target=contend, args=(i,)) for i in range(len(engines))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    for e in engines:
        e.dispose()
    assert len(won) == 1
    with transaction(engine) as session:
        assert get_lease(session, job="j").holder == won[0]


def test_heartbeat_upserts_and_reports_the_latest(engine) -> None:
    with transaction(engine) as session:
        assert latest_heartbeat(session) is None
        beat(session, instance="a", started_at=NOW, next_runs={"tick": "x"}, now=NOW)
        beat(session, instance="b", started_at=NOW, next_runs={}, now=NOW + timedelta(seconds=5))
        beat(session, instance="a", started_at=NOW, next_runs={"tick": "y"}, now=NOW + timedelta(seconds=9))
    with transaction(engine) as session:
        latest = latest_heartbeat(session)
    assert (latest.instance, latest.beat_at, latest.next_runs) == ("a", NOW + timedelta(seconds=9), {"tick": "y"})
    assert latest.started_at == NOW
