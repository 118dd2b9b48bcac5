"""Webhook delivery against a real HTTP server on 127.0.0.1: signatures, retries, backoff, isolation."""

import itertools
import json
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from helpers_alerts import (
    DRIFT_RULE,
    SECRET,
    Receiver,
    alert_config,
    fired_drift_alert,
    free_port,
    register,
    webhook_channel,
)
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from driftscope.alerting.notify import Backoff, deliver_due
from driftscope.alerting.notify.signing import sign, verify
from driftscope.storage.db import transaction
from driftscope.storage.models import Notification
from driftscope.storage.notifications import delivery_log, list_notifications
from driftscope.storage.retraining import get_request, request_retraining

FAST = Backoff(base=timedelta(milliseconds=100), jitter=0.0)


def _config(tmp_path, channels, rule_channels=None, **kwargs):
    rule = {**DRIFT_RULE, "channels": rule_channels or [c["name"] for c in channels]}
    return alert_config(tmp_path, rules=[rule], channels=channels, **kwargs)


def _deliver_until(engine, config, done, *, timeout: float = 15.0, backoff: Backoff = FAST) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not done():
        deliver_due(engine, config, backoff=backoff)
        time.sleep(0.02)


def test_delivery_is_signed_versioned_and_recorded(engine, tmp_path) -> None:
    with Receiver() as hook:
        config = _config(tmp_path, [webhook_channel("ops", hook.url("/alerts"))])
        alert_id = fired_drift_alert(engine, config, register(engine, config))
        [delivery] = deliver_due(engine, config)
        [got] = hook.requests
    assert delivery.ok and delivery.status == "delivered" and delivery.status_code == 200
    assert got.path == "/alerts" and got.signature_ok
    body = got.json
    assert (body["schema_version"], body["type"]) == (1, "alert.fired")
    assert got.headers["X-Driftscope-Event"] == "alert.fired"
    assert got.headers["Idempotency-Key"] == body["id"]
    assert abs(int(got.headers["X-Driftscope-Timestamp"]) - time.time()) < 60
    assert datetime.fromisoformat(body["sent_at"]) <= datetime.now(UTC)
    alert = body["alert"]
    assert (alert["id"], alert["rule"], alert["model"], alert["version"]) == (alert_id, "drifted", "credit-default",
                                                                             "1.0")
    assert [f["feature"] for f in alert["evidence"]["drifted_features"]] == ["income", "age", "region"]
    assert body["links"]["dashboard"] == ("http://dash.test:8501/model_version?model=credit-default&version=1.0"
                                          f"&alert={alert_id}&start=2026-01-01T00%3A00%3A00Z"
                                          "&end=2026-01-02T00%3A00%3A00Z")
    with transaction(engine) as session:
        stored = session.execute(select(Notification.payload)).scalars().all()
        log = delivery_log(session, alert_id=alert_id)
    assert SECRET not in json.dumps(stored)
    assert list(zip(log["attempt"], log["ok"], log["status_code"], strict=True)) == [(1, True, 200)]
    assert log["duration_ms"].iloc[0] > 0


def test_server_errors_are_retried_with_exponential_backoff(sqlite_engine, tmp_path) -> None:
    with Receiver(fail_first=3) as hook:
        config = _config(tmp_path, [webhook_channel("ops", hook.url())])
        alert_id = fired_drift_alert(sqlite_engine, config, register(sqlite_engine, config))
        _deliver_until(sqlite_engine, config, lambda: len(hook.delivered()) == 1)
        got = list(hook.requests)
    assert [r.status for r in got] == [500, 500, 500, 200]
    assert len({r.headers["Idempotency-Key"] for r in got}) == 1 and all(r.signature_ok for r in got)
    gaps = [b.started - a.started for a, b in itertools.pairwise(got)]
    assert [g >= expected for g, expected in zip(gaps, (0.1, 0.2, 0.4), strict=True)] == [True, True, True]
    with transaction(sqlite_engine) as session:
        log = delivery_log(session, alert_id=alert_id)
        [status] = list_notifications(session)["status"]
    assert list(log["attempt"]) == [1, 2, 3, 4] and list(log["ok"]) == [False, False, False, True]
    assert list(log["status_code"]) == [500, 500, 500, 200] and log["error"].iloc[0] == "HTTP 500 Internal Server Error"
    assert status == "delivered"


def test_gives_up_after_max_attempts_and_fails_the_request(sqlite_engine, tmp_path) -> None:
    with Receiver(fail_first=100) as hook:
        channels = [webhook_channel("retrain", hook.url("/retrain"), max_attempts=3)]
        config = alert_config(tmp_path, channels=channels, retrain_webhook="retrain")
        version_id = register(sqlite_engine, config)
        with transaction(sqlite_engine) as session:
            request_id = request_retraining(session, model_version_id=version_id, reason="drift", requested_by="ana")
        _deliver_until(sqlite_engine, config, lambda: len(hook.requests) >= 3, timeout=10)
        time.sleep(0.5)
        assert deliver_due(sqlite_engine, config, backoff=FAST) == []
        got = list(hook.requests)
    assert len(got) == 3
    body = got[0].json
    assert body["type"] == "retraining.requested" and body["idempotency_key"] == got[0].headers["Idempotency-Key"]
    with transaction(sqlite_engine) as session:
        request = get_request(session, request_id=request_id)
        notification = list_notifications(session).iloc[0]
    assert body["idempotency_key"] == request["idempotency_key"]
    assert (notification["status"], notification["attempts"]) == ("failed", 3)
    assert request["status"] == "failed" and "could not be reached" in request["note"]


def test_a_dead_or_slow_channel_does_not_block_the_others(sqlite_engine, tmp_path) -> None:
    dead = f"http://127.0.0.1:{free_port()}/services/T1/B2/SECRETPATH"
    with Receiver(delay_s=2.0) as slow, Receiver() as good:
        channels = [webhook_channel("dead", dead), webhook_channel("slow", slow.url(), timeout="1s"),
                    webhook_channel("good", good.url())]
        config = _config(tmp_path, channels)
        alert_id = fired_drift_alert(sqlite_engine, config, register(sqlite_engine, config))
        started = time.time()
        deliveries = {d.channel: d for d in deliver_due(sqlite_engine, config)}
        first_good = good.requests[0].started - started
    assert first_good < 0.9
    assert deliveries["good"].ok and not deliveries["dead"].ok and not deliveries["slow"].ok
    assert "ConnectionError" in deliveries["dead"].error and "SECRETPATH" not in deliveries["dead"].error
    assert "Timeout" in deliveries["slow"].error
    with transaction(sqlite_engine) as session:
        statuses = dict(zip(*[list_notifications(session, alert_id=alert_id)[c] for c in ("channel", "status")],
                            strict=True))
    assert statuses == {"dead": "pending", "slow": "pending", "good": "delivered"}


def test_slack_format_and_unknown_channels(sqlite_engine, tmp_path) -> None:
    with Receiver() as hook:
        channels = [webhook_channel("chat", hook.url("/slack"), format="slack")]
        config = _config(tmp_path, channels, rule_channels=["chat"])
        alert_id = fired_drift_alert(sqlite_engine, config, register(sqlite_engine, config))
        smaller = alert_config(tmp_path, channels=[])
        [missing] = deliver_due(sqlite_engine, smaller)
        assert not missing.ok and "no channel named 'chat'" in missing.error
        [sent] = deliver_due(sqlite_engine, config, now=datetime.now(UTC) + timedelta(hours=1))
        [got] = hook.requests
    assert sent.ok and got.signature_ok
    message = got.json
    assert message["text"].startswith("[WARNING] credit-default 1.0: drifted - dataset drift: 3 of 4")
    texts = json.dumps(message["blocks"])
    assert "*Drifted features*" in texts and "income" in texts and "model_version?model=credit-default" in texts
    with transaction(sqlite_engine) as session:
        assert list(delivery_log(session, alert_id=alert_id)["ok"]) == [False, True]


@given(secret=st.text(min_size=1, max_size=40), body=st.binary(max_size=200), flip=st.integers(0, 10_000))
def test_signatures_verify_and_any_change_breaks_them(secret, body, flip) -> None:
    signature = sign(secret, 1_000_000, body)
    assert verify(secret, timestamp="1000000", body=body, signature=signature, now=1_000_100)
    assert not verify(secret, timestamp="1000001", body=body, signature=signature, now=1_000_100)
    assert not verify(secret + "x", timestamp="1000000", body=body, signature=signature, now=1_000_100)
    if body:
        i = flip % len(body)
        tampered = body[:i] + bytes([body[i] ^ 1]) + body[i + 1:]
        assert not verify(secret, timestamp="1000000", body=tampered, signature=signature, now=1_000_100)


@pytest.mark.parametrize(("age_s", "ok"), [(0, True), (299, True), (301, False), (-301, False)])
def test_replays_outside_the_tolerance_are_refused(age_s, ok) -> None:
    signature = sign("k", 5000, b"{}")
    assert verify("k", timestamp="5000", body=b"{}", signature=signature, now=5000 + age_s) is ok


def test_the_documented_verifier_accepts_real_requests_only(sqlite_engine, tmp_path) -> None:
    docs = (Path(__file__).resolve().parent.parent / "docs" / "webhooks.md").read_text()
    namespace: dict = {}
    exec(re.search(r"```python\n(.*?)```", docs, re.S).group(1), namespace)
    with Receiver() as hook:
        config = _config(tmp_path, [webhook_channel("ops", hook.url())])
        fired_drift_alert(sqlite_engine, config, register(sqlite_engine, config))
        deliver_due(sqlite_engine, config)
        [got] = hook.requests
    documented = namespace["verify"]
    assert documented(SECRET, got.headers, got.body)
    assert not documented("other-secret", got.headers, got.body)
    assert not documented(SECRET, got.headers, got.body.replace(b'"warning"', b'"info"'))
    stale = {**got.headers, "X-Driftscope-Timestamp": str(int(got.headers["X-Driftscope-Timestamp"]) - 301)}
    assert not documented(SECRET, stale, got.body)
    for odd in MALFORMED_TIMESTAMPS:
        malformed = {**got.headers, "X-Driftscope-Timestamp": odd}
        assert documented(SECRET, malformed, got.body) is False, odd
        assert verify(SECRET, timestamp=odd, body=got.body, signature=got.headers["X-Driftscope-Signature"]) is False


MALFORMED_TIMESTAMPS = ["\N{SUPERSCRIPT TWO}", "1\N{SUPERSCRIPT ONE}", "\N{ARABIC-INDIC DIGIT ONE}" * 10,
                        "\N{FULLWIDTH DIGIT ONE}" * 10, " 1", "+1", "1_000", "", "-5", "9" * 5000, "1000\n"]


def test_the_documented_receiver_deduplicates_on_the_signed_body_id() -> None:
    docs = (Path(__file__).resolve().parent.parent / "docs" / "webhooks.md").read_text()
    assert "deduplicate on the body's `id`" in docs and "**Not signed**" in docs
