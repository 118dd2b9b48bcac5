"""E-mail delivery to a real SMTP server (aiosmtpd on 127.0.0.1): plain, STARTTLS, SSL, login; the message parsed."""

from datetime import UTC, datetime, timedelta

import pytest
from helpers_alerts import DRIFT_RULE, Mailbox, alert_config, fired_drift_alert, free_port, register, self_signed

from driftscope.alerting.notify import deliver_due
from driftscope.storage.db import transaction
from driftscope.storage.notifications import delivery_log, list_notifications

LINK = ("http://dash.test:8501/model_version?model=credit-default&version=1.0&alert={alert_id}"
        "&start=2026-01-01T00%3A00%3A00Z&end=2026-01-02T00%3A00%3A00Z")


def _email_config(tmp_path, port: int, password: str | None = None, **options):
    channel = {"name": "oncall", "kind": "email", "to": ["oncall@example.com", "ml@example.com"],
               "from": "driftscope@example.com", "smtp_host": "127.0.0.1", "smtp_port": port, "timeout": "5s",
               **options}
    rule = {**DRIFT_RULE, "channels": ["oncall"]}
    env = {} if password is None else {"SMTP_PASSWORD": password}
    return alert_config(tmp_path, rules=[rule], channels=[channel], env=env)


def test_plain_smtp_message_has_subject_both_bodies_and_the_link(sqlite_engine, tmp_path) -> None:
    with Mailbox() as box:
        config = _email_config(tmp_path, box.port)
        alert_id = fired_drift_alert(sqlite_engine, config, register(sqlite_engine, config))
        [delivery] = deliver_due(sqlite_engine, config)
    assert delivery.ok and delivery.status_code == 250
    [message] = box.messages
    assert box.envelopes == [("driftscope@example.com", ["oncall@example.com", "ml@example.com"])]
    assert message["Subject"] == ("[WARNING] credit-default 1.0: drifted - dataset drift: 3 of 4 features drifted "
                                  "(75%; drift declared at 50% or more)")
    assert message["X-Driftscope-Event"] == "alert.fired"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Drifted features  3 of 4 (share 75%; dataset drift at 50% or more)" in text
    assert "income: psi 0.42 >= threshold 0.2" in text
    assert "Data time         2026-01-01 00:00 to 2026-01-02 00:00 (UTC, breaching windows)" in text
    assert "Window            2026-01-01 00:00 to 2026-01-02 00:00 (UTC, newest breaching)" in text
    link = LINK.format(alert_id=alert_id)
    assert f"Open in the dashboard: {link}" in text
    assert f'href="{link.replace("&", "&amp;")}"' in html and "<td" in html and "income" in html
    with transaction(sqlite_engine) as session:
        log = delivery_log(session, alert_id=alert_id)
    assert list(zip(log["channel"], log["ok"], log["status_code"], strict=True)) == [("oncall", True, 250)]


@pytest.fixture
def certificate(tmp_path, monkeypatch):
    cert, key = self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    return cert, key


@pytest.mark.parametrize("mode", ["starttls", "ssl"])
def test_tls_with_login(sqlite_engine, tmp_path, certificate, mode) -> None:
    with Mailbox(mode, cert=certificate, login=("alerts", "pa55")) as box:
        config = _email_config(tmp_path, box.port, "pa55", smtp_user="alerts", smtp_password="${SMTP_PASSWORD}",
                               **{mode: True})
        fired_drift_alert(sqlite_engine, config, register(sqlite_engine, config))
        [delivery] = deliver_due(sqlite_engine, config)
    assert delivery.ok, delivery.error
    assert len(box.messages) == 1 and box.messages[0]["Subject"].startswith("[WARNING] credit-default 1.0")


def test_wrong_password_and_dead_server_are_recorded_for_retry(sqlite_engine, tmp_path, certificate) -> None:
    with Mailbox("starttls", cert=certificate, login=("alerts", "pa55")) as box:
        config = _email_config(tmp_path, box.port, "wrong", smtp_user="alerts", smtp_password="${SMTP_PASSWORD}",
                               starttls=True)
        alert_id = fired_drift_alert(sqlite_engine, config, register(sqlite_engine, config))
        [refused] = deliver_due(sqlite_engine, config)
    assert not refused.ok and refused.status_code == 535 and refused.status == "pending"
    assert box.messages == [] and "wrong" not in refused.error
    dead = _email_config(tmp_path, free_port())
    with transaction(sqlite_engine) as session:
        [notification_id] = list_notifications(session, alert_id=alert_id)["id"]
    [down] = deliver_due(sqlite_engine, dead, now=datetime.now(UTC) + timedelta(hours=1))
    assert down.notification_id == notification_id and not down.ok and "ConnectionRefusedError" in down.error
    with transaction(sqlite_engine) as session:
        log = delivery_log(session, alert_id=alert_id)
    assert list(log["attempt"]) == [1, 2] and not log["ok"].any()


def test_drifted_model_outputs_are_named_as_outputs_not_features() -> None:
    from driftscope.alerting.notify.messages import drift_table

    drifted = [{"feature": "income", "role": "feature", "method": "ks", "statistic": 0.3, "threshold": 0.1},
               {"feature": "probability", "role": "prediction", "method": "ks", "statistic": 0.2, "threshold": 0.1}]
    table = drift_table({"alert": {"evidence": {"drifted_features": drifted}}})
    assert [row["feature"] for row in table] == ["income", "probability (model output)"]
