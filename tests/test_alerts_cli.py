"""``driftscope alerts list|show|ack|resolve`` on a real store."""

from datetime import UTC, datetime

import pytest
from helpers_alerts import DRIFT_RULE, alert_config, alert_document, fired_drift_alert, register, write_yaml

from driftscope.cli import main
from driftscope.storage.alerts import IncidentFacts, get_alert, open_incident
from driftscope.storage.db import transaction
from driftscope.storage.notifications import list_notifications


@pytest.fixture
def store(sqlite_engine, sqlite_url, tmp_path, monkeypatch):
    """A config file on a migrated SQLite store with one open drift alert sent to ``hook``; (path, alert id)."""
    monkeypatch.setenv("HOOK_SECRET", "s")
    channels = [{"name": "hook", "kind": "webhook", "url": "http://127.0.0.1:9/x", "secret": "${HOOK_SECRET}"}]
    sections = {"database_url": sqlite_url, "rules": [{**DRIFT_RULE, "channels": ["hook"]}], "channels": channels}
    path = write_yaml(tmp_path / "driftscope.yaml", alert_document(**sections))
    config = alert_config(tmp_path, **sections)
    return path, fired_drift_alert(sqlite_engine, config, register(sqlite_engine, config))


def _cli(capsys, *args: str) -> tuple[int, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_list_ack_resolve_show(store, sqlite_engine, capsys) -> None:
    path, alert_id = store
    config = ("--config", str(path))
    code, out = _cli(capsys, "alerts", "list", *config)
    header, row = out.splitlines()
    assert code == 0 and header.split()[:6] == ["ID", "SEVERITY", "STATUS", "MODEL", "VERSION", "RULE"]
    assert row.split()[:7] == [str(alert_id), "warning", "open", "credit-default", "1.0", "drifted", "1"]
    assert _cli(capsys, "alerts", "ack", str(alert_id), "--note", "on it", "--actor", "ana", *config) == (
        0, f"alert {alert_id} acknowledged\n")
    code, out = _cli(capsys, "alerts", "ack", str(alert_id), *config)
    assert code == 1 and "only an open alert can be acknowledged" in out
    assert _cli(capsys, "alerts", "list", "--status", "open", *config) == (0, "(none)\n")
    code, _ = _cli(capsys, "alerts", "resolve", str(alert_id), "--note", "upstream fixed", "--actor", "ana", *config)
    assert code == 0
    code, out = _cli(capsys, "alerts", "--config", str(path), "list", "--status", "resolved")
    assert code == 0 and f"{alert_id}  " in out
    code, out = _cli(capsys, "alerts", "show", str(alert_id), *config)
    assert code == 0
    assert "acknowledged  ana" in out and "upstream fixed" in out and '"drifted_features"' in out
    with transaction(sqlite_engine) as session:
        events = list(list_notifications(session)["event"])
    assert events == ["alert.fired", "alert.resolved"]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["alerts", "resolve", "99"], 1, "no alert with id 99"),
        (["alerts", "list", "--severity", "fatal"], 2, "invalid choice"),
    ],
)
def test_errors_name_the_problem(store, capsys, args, code, message) -> None:
    path, _ = store
    try:
        result = _cli(capsys, *args, "--config", str(path))
    except SystemExit as exc:
        result = (exc.code, capsys.readouterr().err)
    assert result[0] == code and message in result[1]


def test_list_puts_the_most_severe_first(store, sqlite_engine, capsys) -> None:
    path, warning_id = store
    with transaction(sqlite_engine) as session:
        version_id = get_alert(session, alert_id=warning_id)["model_version_id"]
        t = datetime(2026, 1, 1, tzinfo=UTC)
        facts = [IncidentFacts(severity=s, title=s, evidence=None, data_start=t, data_end=t, window_start=t,
                               window_end=t, fire_count=1, clean_runs=0) for s in ("info", "critical")]
        info_id, critical_id = (open_incident(session, rule=f.severity, kind="no_data", model_version_id=version_id,
                                              facts=f, now=t) for f in facts)

    code, out = _cli(capsys, "alerts", "list", "--config", str(path))

    assert code == 0 and [int(line.split()[0]) for line in out.splitlines()[1:]] == [critical_id, warning_id, info_id]
