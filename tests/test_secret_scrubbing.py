"""Secrets that servers echo back never reach the store or the logs (issue #18 item 14).

A real SMTP server (aiosmtpd) answers 535 quoting the password it was given, plain or as the
base64 ``AUTH PLAIN`` line; a real HTTP receiver answers 401 quoting the channel secret, or 404
quoting a Slack-style URL path that holds the token. ``delivery_attempts.error``/``response`` and
every log record carry ``***`` instead. Secrets too short to scrub are refused by ``config check``.
(The http source's echoed token: ``test_collect_http_hardening.py``.)
"""

import base64
import logging
import math
import string
from typing import Any

import pytest
import yaml
from aiosmtpd.smtp import AuthResult, LoginPassword
from helpers_alerts import (
    DRIFT_RULE,
    ENV,
    Mailbox,
    Receiver,
    alert_config,
    alert_document,
    fired_drift_alert,
    register,
    webhook_channel,
)
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from driftscope.alerting.notify import deliver_due
from driftscope.cli import main
from driftscope.config import load_config
from driftscope.redact import MASK, scrub, secrets_in
from driftscope.storage.db import transaction
from driftscope.storage.models import DeliveryAttempt
from driftscope.storage.notifications import delivery_log, list_notifications, record_attempt

SMTP_PASSWORD = "smtp-pw-77c1e0"
HOOK_SECRET = "whsec-91ab22f0"


class EchoingMailbox(Mailbox):
    """An SMTP server that refuses every login and quotes the password in its 535 answer."""

    def _authenticate(self, _server: Any, _session: Any, _envelope: Any, _mechanism: str, data: Any) -> AuthResult:
        password = data.password.decode() if isinstance(data, LoginPassword) else "?"
        return AuthResult(success=False, handled=False, message=f"535 5.7.8 bad password {password!r} for alerts")


class Base64EchoingMailbox(Mailbox):
    """An SMTP server that refuses every login and quotes the client's ``AUTH PLAIN`` line, base64 as sent."""

    def _authenticate(self, _server: Any, _session: Any, _envelope: Any, _mechanism: str, data: Any) -> AuthResult:
        line = base64.b64encode(b"\0" + data.login + b"\0" + data.password).decode()
        return AuthResult(success=False, handled=False, message=f"535 5.7.8 rejected AUTH PLAIN {line}")


@pytest.mark.parametrize("mailbox", [EchoingMailbox, Base64EchoingMailbox])
def test_an_smtp_535_echoing_the_password_is_scrubbed(engine, tmp_path, caplog, mailbox) -> None:
    with mailbox(login=("alerts", "x")) as box, caplog.at_level(logging.DEBUG):
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
    assert SMTP_PASSWORD.encode() not in _decoded_spans(stored)
    assert any("could not deliver" in r.getMessage() for r in caplog.records)
    assert SMTP_PASSWORD not in caplog.text and SMTP_PASSWORD.encode() not in _decoded_spans(caplog.text)


def _decoded_spans(text: str) -> bytes:
    """Every base64-looking word of ``text`` decoded at each alignment, joined (to search for secrets)."""
    out = []
    for word in text.replace("'", " ").replace('"', " ").split():
        for skip in range(4):
            chunk = word[skip:].rstrip("=")
            chunk = chunk[:len(chunk) - len(chunk) % 4]
            try:
                out.append(base64.b64decode(chunk, validate=True))
            except ValueError:
                continue
    return b"|".join(out)


@given(user=st.text(string.ascii_letters, min_size=1, max_size=12),
       secret=st.text(string.digits + "-!@#", min_size=4, max_size=24))
def test_a_secret_inside_base64_is_masked_whatever_its_alignment(user: str, secret: str) -> None:
    """``AUTH PLAIN`` sends base64("\\0user\\0password"): the password's span is masked at any offset."""
    offset = len(user) + 2
    line = base64.b64encode(f"\0{user}\0{secret}".encode()).decode()
    before, _, after = scrub(line, extra=[secret]).partition(MASK)
    assert _ == MASK
    assert before == line[:math.ceil(8 * offset / 6)]  # only characters that the user's bytes fill
    assert len(after) <= 3  # at most the last character shared with padding, and the padding


def test_a_slack_style_webhook_path_is_scrubbed(engine, tmp_path, caplog) -> None:
    token = "Xq7bP2mZ8rT4vW9yK3nL6cD1"
    path = f"/services/T0AB12CD/B0EF34GH/{token}"
    with Receiver(fail_first=1, fail_status=404, fail_body=f"no route for {path}".encode()) as hook, \
            caplog.at_level(logging.DEBUG):
        config = alert_config(tmp_path, rules=[{**DRIFT_RULE, "channels": ["slack"]}],
                              channels=[webhook_channel("slack", hook.url(path))])
        alert_id = fired_drift_alert(engine, config, register(engine, config))
        [refused] = deliver_due(engine, config)
    assert not refused.ok and refused.status_code == 404
    with transaction(engine) as session:
        [attempt] = delivery_log(session, alert_id=alert_id).to_dict("records")
        [response] = session.scalars(select(DeliveryAttempt.response)).all()
    assert "404" in attempt["error"] and response == f"no route for {MASK}"
    assert any("POST" in r.getMessage() for r in caplog.records if r.name.startswith("urllib3"))
    assert token not in caplog.text


def test_config_check_refuses_a_secret_too_short_to_scrub(tmp_path, capsys, caplog, monkeypatch) -> None:
    document = alert_document(channels=[webhook_channel("hook", "http://127.0.0.1:9/h")])
    path = tmp_path / "driftscope.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    with caplog.at_level(logging.WARNING):
        load_config(path, env={**ENV, "HOOK_SECRET": "abc"})
    assert "channels[0].secret is shorter than 4" in caplog.text
    monkeypatch.setenv("HOOK_SECRET", "abc")
    assert main(["config", "check", "--config", str(path)]) == 1
    assert "channels[0].secret" in capsys.readouterr().err
    monkeypatch.setenv("HOOK_SECRET", HOOK_SECRET)
    assert main(["config", "check", "--config", str(path)]) == 0


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
