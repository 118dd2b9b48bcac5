"""``driftscope retrain``: manual requests sent to a real webhook, status, acknowledgement, completion."""

import pytest
from helpers_alerts import SECRET, Receiver, alert_config, alert_document, register, webhook_channel, write_yaml

from driftscope.cli import main
from driftscope.storage.db import transaction
from driftscope.storage.retraining import list_requests


def _cli(capsys, *args: str) -> tuple[int, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.fixture
def hook():
    with Receiver() as receiver:
        yield receiver


@pytest.fixture
def config_path(sqlite_engine, sqlite_url, tmp_path, monkeypatch, hook):
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    sections = {"database_url": sqlite_url, "channels": [webhook_channel("retrain-hook", hook.url("/retrain"))],
                "retrain_webhook": "retrain-hook"}
    register(sqlite_engine, alert_config(tmp_path, **sections))
    return str(write_yaml(tmp_path / "driftscope.yaml", alert_document(**sections)))


def test_manual_request_is_sent_signed_and_tracked(config_path, sqlite_engine, hook, capsys) -> None:
    code, out = _cli(capsys, "retrain", "--model", "credit-default", "--version", "1.0", "--reason", "new season",
                     "--by", "ana", "--config", config_path)
    assert code == 0 and "retraining request 1 for credit-default 1.0: sent" in out
    [got] = hook.delivered()
    body = got.json
    assert got.signature_ok and got.path == "/retrain"
    assert body["type"] == "retraining.requested" and got.headers["Idempotency-Key"] == body["idempotency_key"]
    assert body["request"] | {"requested_at": None} == {
        "id": 1, "model": "credit-default", "version": "1.0", "model_version_id": 1, "trigger": "manual",
        "reason": "new season", "requested_by": "ana", "alert_id": None, "requested_at": None}
    assert body["evidence"] == {"alerts": []}
    code, out = _cli(capsys, "retrain", "status", "--config", config_path)
    assert code == 0 and out.splitlines()[1].split()[:6] == ["1", "credit-default", "1.0", "manual", "sent", "ana"]
    assert _cli(capsys, "retrain", "ack", "1", "--config", config_path)[0] == 0
    assert _cli(capsys, "retrain", "complete", "1", "--note", "v1.1 shipped", "--actor", "bo", "--config",
                config_path) == (0, "retraining request 1 completed\n")
    code, out = _cli(capsys, "retrain", "complete", "1", "--config", config_path)
    assert code == 1 and "is completed and cannot become completed; that status is final" in out
    with transaction(sqlite_engine) as session:
        row = list_requests(session).iloc[0]
    assert (row["status"], row["updated_by"], row["note"]) == ("completed", "bo", "v1.1 shipped")


def test_unreachable_webhook_leaves_the_request_pending(config_path, hook, capsys) -> None:
    hook.fail_first = 10
    code, out = _cli(capsys, "retrain", "--model", "credit-default", "--version", "1.0", "--reason", "r",
                     "--config", config_path)
    assert code == 0 and ": pending" in out and "the scheduler retries it" in out
    code, out = _cli(capsys, "retrain", "status", "--model", "credit-default", "--version", "1.0",
                     "--config", config_path)
    assert code == 0 and " pending " in out


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["retrain", "--model", "credit-default"], 2, "retrain needs --version, --reason"),
        (["retrain", "--model", "credit-default", "--version", "9", "--reason", "x"], 1, "has no version '9'"),
        (["retrain", "complete", "42"], 1, "no retraining request 42"),
    ],
)
def test_retrain_errors_name_the_problem(config_path, capsys, args, code, message) -> None:
    result = _cli(capsys, *args, "--config", config_path)
    assert result[0] == code and message in result[1]
