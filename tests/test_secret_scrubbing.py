"""Secrets that servers echo back never reach the store or the logs (issue #18 item 14).

A real SMTP server (aiosmtpd) answers 535 quoting the password it was given; a real HTTP receiver
answers 401 quoting the channel secret. ``delivery_attempts.error``/``response`` and every log
record carry ``***`` instead. (The http source's echoed token: ``test_collect_http_hardening.py``.)
"""

import logging
from typing import Any

from aiosmtpd.smtp import AuthResult, LoginPassword
from helpers_alerts import DRIFT_RULE, Mailbox, Receiver, alert_config, fired_drift_alert, register, webhook_channel

from driftscope.alerting.notify import deliver_due
from driftscope.redact import MASK, scrub, secrets_in
from driftscope.storage.db import transaction
from driftscope.storage.notifications import delivery_log, list_notifications, record_attempt

SMTP_PASSWORD = "smtp-pw-77c1e0"
HOOK_SECRET = "whsec-91ab22f0"


class EchoingMailbox(Mailbox):
    """An SMTP server that refuses every login and quotes the password in its 535 answer."""

    def _authenticate(self, _server: Any, _session: Any, _envelope: Any, _mechanism: str, data: Any) -> AuthResult:
        password = data.password.decode() if isinstance(data, LoginPassword) else "?"
        return AuthResult(success=False, handled=False, message=f"535 5.7.8 bad password {password!r} for alerts")


def test_an_smtp_535_echoing_the_password_is_scrubbed(engine, tmp_path, caplog) -> None:
    with EchoingMailbox(login=("alerts", "x")) as box, caplog.at_level(logging.DEBUG):
        channel = {"name": "oncall", "kind": "email", "to": ["oncall@example.com"], "from": "ds@example.com",
                   "smtp_host": "127.0.0.1", "smtp_port": box.port, "timeout": "5s", "smtp_user": "alerts",
                   "smtp_password": "${SMTP_PASSWORD}"}
        config = alert_config(tmp_path, rules=[{**DRIFT_RULE, "channels": ["oncall"]}], channels=[channel],
                              env={"SMTP_PASSWORD": SMTP_PASSWORD})
        alert_id = fired_drift_alert(engine, config, register(engine, config))
        [refused] = deliver_due(engine, config)
    assert not refused.ok and refused.status_code == 535
    with transaction(engine) as session:
        [attempt] = delivery_log(session, alert_id=alert_id).to_dict("records")
    stored = f"{attempt['error']} {attempt.get('response')}"
    assert "535" in stored and MASK in stored and SMTP_PASSWORD not in stored
    assert any("could not deliver" in r.getMessage() for r in caplog.records)
    assert SMTP_PASSWORD not in caplog.text


def test_a_webhook_answer_echoing_the_secret_is_scrubbed(engine, tmp_path, caplog) -> None:
    echo = f"bad signature for secret {HOOK_SECRET}".encode()
    with Receiver(fail_first=1, fail_status=401, fail_body=echo, secret=HOOK_SECRET) as hook, \
            caplog.at_level(logging.DEBUG):
        config = alert_config(tmp_path, rules=[{**DRIFT_RULE, "channels": ["hook"]}],
                              channels=[webhook_channel("hook", hook.url())], env={"HOOK_SECRET": HOOK_SECRET})
        alert_id = fired_drift_alert(engine, config, register(engine, config))
        [refused] = deliver_due(engine, config)
    assert not refused.ok
    with transaction(engine) as session:
        [attempt] = delivery_log(session, alert_id=alert_id).to_dict("records")
    assert "401" in attempt["error"] and HOOK_SECRET not in f"{attempt['error']} {attempt.get('response')}"
    assert HOOK_SECRET not in caplog.text
    with transaction(engine) as session:  # whatever a sender reports, the store scrubs before writing
        [note] = list_notifications(session, alert_id=alert_id)["id"]
        record_attempt(session, notification_id=note, ok=False, duration_ms=1.0, error=f"echo {HOOK_SECRET}",
                       response=f"body {HOOK_SECRET}", retry_at=None)
    with transaction(engine) as session:
        last = delivery_log(session, alert_id=alert_id).to_dict("records")[-1]
    assert last["error"] == f"echo {MASK}"


def test_every_secret_of_the_config_is_found(tmp_path) -> None:
    config = alert_config(tmp_path, channels=[webhook_channel("hook", "http://127.0.0.1:9/h")],
                          env={"HOOK_SECRET": HOOK_SECRET})
    assert HOOK_SECRET in secrets_in(config)
    assert scrub(f"x {HOOK_SECRET} y") == f"x {MASK} y"
