"""Estimated performance through the store: estimated -> realized, the track record, alerts confirmed or retracted."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from helpers_alerts import Mailbox, Receiver
from helpers_monitor import applied, config_document, credit_frame, store_rows

from driftscope.alerting.notify import deliver_due
from driftscope.alerting.rules import evaluate_run
from driftscope.config import parse_config
from driftscope.monitors.runner import run_monitors
from driftscope.storage.alerts import alert_history, list_alerts
from driftscope.storage.db import transaction
from driftscope.storage.estimates import estimation_series, estimation_track_record
from driftscope.storage.labels import write_labels
from driftscope.storage.registry import get_version
from driftscope.storage.results import metric_values

DAY = datetime(2026, 1, 2, tzinfo=UTC)
END = DAY + timedelta(days=1)
MONITOR = {"name": "credit-estimated", "model": "credit", "kind": "estimated_performance", "window": "1d",
           "metrics": ["accuracy", "roc_auc"], "min_labels": 200}


def _config(tmp_path, url: str, hook: str | None = None, smtp_port: int | None = None):
    document = config_document(tmp_path, url, [MONITOR])
    channels, names = [], []
    if hook is not None:
        channels.append({"name": "hook", "kind": "webhook", "url": hook, "timeout": "3s"})
        names.append("hook")
    if smtp_port is not None:
        channels.append({"name": "mail", "kind": "email", "to": ["oncall@example.com"], "from": "ds@example.com",
                         "smtp_host": "127.0.0.1", "smtp_port": smtp_port, "timeout": "5s"})
        names.append("mail")
    rule = {"name": "accuracy-floor", "monitor": "credit-estimated", "when": "metric_below", "metric": "accuracy",
            "value": 0.95, "channels": names}
    document |= {"alerts": {"rules": [rule]}, "channels": channels}
    return parse_config(document, base_dir=tmp_path)


def _window(engine, config, *, labels: bool):
    frame = credit_frame(1_500, seed=11, start=DAY.replace(tzinfo=None), step=timedelta(seconds=50))
    store_rows(engine, config, frame, labels=labels)
    return frame


def _run_and_alert(engine, config) -> list:
    [run] = run_monitors(engine, config, monitor="credit-estimated", window_end=END, now=END + timedelta(hours=1))
    assert run.status == "succeeded", run.error
    with transaction(engine) as session:
        return evaluate_run(session, config, run, now=END + timedelta(hours=1))


def test_estimated_then_realized_in_the_store_with_the_track_record(engine, tmp_path) -> None:
    config = applied(engine, _config(tmp_path, str(engine.url)))
    frame = _window(engine, config, labels=False)
    _run_and_alert(engine, config)
    with transaction(engine) as session:
        version_id = get_version(session, "credit", "1.0").id
        before = estimation_series(session, model_version_id=version_id)
        pending = estimation_track_record(session, model_version_id=version_id)
    assert set(before["state"]) == {"estimated"} and before["realized_value"].isna().all()
    assert pending["n_realized"].tolist() == [0, 0] and pending["mae"].isna().all()
    _label(engine, frame)
    _run_and_alert(engine, config)
    with transaction(engine) as session:
        after = estimation_series(session, model_version_id=version_id)
        record = estimation_track_record(session, model_version_id=version_id)
    assert set(after["state"]) == {"realized"}
    assert after["value"].tolist() == pytest.approx(before["value"].tolist())  # the estimate is kept
    accuracy = after[after["metric"] == "accuracy"].iloc[0]
    assert accuracy["realized_value"] == pytest.approx((frame["prediction"] == frame["label"]).mean())
    row = record[record["metric"] == "accuracy"].iloc[0]
    assert row["n_realized"] == 1
    assert row["mae"] == pytest.approx(abs(accuracy["value"] - accuracy["realized_value"]))
    assert row["inside_band"] == (accuracy["ci_low"] <= accuracy["realized_value"] <= accuracy["ci_high"])


def _label(engine, frame, *, perfect: bool = False) -> None:
    """Labels land for the window: as drawn, or equal to the predictions (``perfect``)."""
    labels = (frame["prediction"] if perfect else frame["label"]).astype(str)
    with transaction(engine) as session:
        info = get_version(session, "credit", "1.0")
        write_labels(session, model_id=info.model_id, source="test",
                     frame=pd.DataFrame({"prediction_id": frame["prediction_id"], "label": labels, "ts": frame["ts"]}))


@pytest.mark.parametrize("verdict", ["confirmed", "retracted"])
def test_an_alert_on_an_estimate_is_confirmed_or_retracted_once_labels_land(sqlite_engine, tmp_path, verdict) -> None:
    with Receiver() as receiver, Mailbox() as box:
        config = applied(sqlite_engine, _config(tmp_path, str(sqlite_engine.url), hook=receiver.url(),
                                                smtp_port=box.port))
        frame = _window(sqlite_engine, config, labels=False)
        [opened] = _run_and_alert(sqlite_engine, config)
        assert opened.action == "opened" and opened.notified
        with transaction(sqlite_engine) as session:
            [alert] = list_alerts(session, status="active").to_dict("records")
        assert alert["title"].startswith("estimated accuracy") and "labels pending" in alert["title"]
        assert alert["evidence"]["metric"]["state"] == "estimated"
        deliver_due(sqlite_engine, config)
        _label(sqlite_engine, frame, perfect=verdict == "retracted")
        [settled] = _run_and_alert(sqlite_engine, config)
        assert settled.action == verdict and settled.alert_id == opened.alert_id
        deliver_due(sqlite_engine, config)
        posts = receiver.wait_for(2)
    assert [p.json["type"] for p in posts] == ["alert.fired", f"alert.{verdict}"]
    assert [m["Subject"].split("]")[0] for m in box.messages] == ["[WARNING", f"[{verdict.upper()}"]
    fired, settled_mail = (m.get_body(("plain",)).get_content() for m in box.messages)
    assert "estimated without labels (band " in fired and "labelled rows" not in fired
    assert "realized from labels (estimated " in settled_mail and verdict in settled_mail
    with transaction(sqlite_engine) as session:
        [final] = list_alerts(session).to_dict("records")
        history = alert_history(session, alert_id=final["id"])
    assert final["status"] == ("open" if verdict == "confirmed" else "resolved")
    assert final["evidence"]["metric"]["state"] == "realized"  # judged on the realized value now
    assert final["title"].startswith(f"{verdict} by labels: accuracy")
    assert verdict in history["action"].tolist()


def test_a_confirmed_alert_says_realized_and_keeps_the_estimate_it_was_raised_on(sqlite_engine, tmp_path) -> None:
    """The lifecycle's reconcile, which runs after the settlement, must not put the estimate's title back."""
    config = applied(sqlite_engine, _config(tmp_path, str(sqlite_engine.url)))
    frame = _window(sqlite_engine, config, labels=False)
    [opened] = _run_and_alert(sqlite_engine, config)
    assert opened.action == "opened"
    with transaction(sqlite_engine) as session:
        raised = list_alerts(session).to_dict("records")[0]
    _label(sqlite_engine, frame)
    _run_and_alert(sqlite_engine, config)
    with transaction(sqlite_engine) as session:
        [final] = list_alerts(session).to_dict("records")
        history = alert_history(session, alert_id=final["id"])
    realized = (frame["prediction"] == frame["label"]).mean()
    metric = final["evidence"]["metric"]
    assert final["title"].startswith("confirmed by labels: accuracy") and "realized" in final["title"]
    assert "labels pending" not in final["title"]
    assert metric["state"] == "realized" and metric["verdict"] == "confirmed"
    assert metric["value"] == pytest.approx(realized)
    assert metric["estimate"] == pytest.approx(raised["evidence"]["metric"]["value"])
    assert metric["band"] == pytest.approx(raised["evidence"]["metric"]["band"])
    assert metric["estimated_title"] == raised["title"]
    assert history["action"].tolist()[:2] == ["opened", "confirmed"]
    confirmed = history[history["action"] == "confirmed"].iloc[0]
    assert confirmed["note"] == final["title"]


def test_an_alert_with_other_breaching_windows_is_not_retracted_by_one_good_realized_window(
    sqlite_engine, tmp_path
) -> None:
    """Day 1 breaches on labels, day 2 on an estimate (same incident); day 2's labels are good: the alert
    still stands on day 1, so it is updated, never retracted and then reopened."""
    with Receiver() as receiver:
        config = applied(sqlite_engine, _config(tmp_path, str(sqlite_engine.url), hook=receiver.url()))
        store_rows(sqlite_engine, config, credit_frame(1_500, seed=11, start=DAY.replace(tzinfo=None),
                                                       step=timedelta(seconds=50), id_prefix="a"))
        second = credit_frame(1_500, seed=12, start=END.replace(tzinfo=None), step=timedelta(seconds=50),
                              id_prefix="b")
        store_rows(sqlite_engine, config, second, labels=False)
        for end in (END, END + timedelta(days=1)):
            [run] = run_monitors(sqlite_engine, config, monitor="credit-estimated", window_end=end,
                                 now=end + timedelta(hours=1))
            with transaction(sqlite_engine) as session:
                evaluate_run(session, config, run, now=end + timedelta(hours=1))
        with transaction(sqlite_engine) as session:
            [alert] = list_alerts(session).to_dict("records")
        assert alert["fire_count"] == 2 and alert["evidence"]["metric"]["state"] == "estimated"
        _label(sqlite_engine, second, perfect=True)
        later = END + timedelta(days=1, hours=2)
        [run] = run_monitors(sqlite_engine, config, monitor="credit-estimated", window_end=END + timedelta(days=1),
                             now=later)
        with transaction(sqlite_engine) as session:
            changes = evaluate_run(session, config, run, now=later)
            [final] = list_alerts(session).to_dict("records")
            history = alert_history(session, alert_id=final["id"])
        deliver_due(sqlite_engine, config)
        types = [p.json["type"] for p in receiver.wait_for(2)]
    assert [c.action for c in changes] == ["updated"]
    assert final["status"] == "open" and "retracted" not in history["action"].tolist()
    assert "alert.retracted" not in types and types[-1] == "alert.updated"


def test_a_window_labelled_from_the_start_is_realized_at_once(engine, tmp_path) -> None:
    config = applied(engine, _config(tmp_path, str(engine.url)))
    _window(engine, config, labels=True)
    [run] = run_monitors(engine, config, monitor="credit-estimated", window_end=END, now=END + timedelta(hours=1))
    with transaction(engine) as session:
        values = metric_values(session, run_id=run.id)
    assert set(values["state"]) == {"realized"}
    assert values["details"].map(lambda d: d["method"]).tolist() == ["cbpe", "cbpe"]


def test_version_page_draws_estimates_beside_realized_values_with_the_track_record(
    sqlite_engine, sqlite_url, monkeypatch
) -> None:
    import streamlit
    from streamlit.testing.v1 import AppTest

    from driftscope.storage.registry import ensure_model, ensure_monitor, ensure_version
    from driftscope.storage.results import add_metric_values, finish_run, start_run

    app = Path(__file__).resolve().parent.parent / "dashboard" / "entry" / "driftscope_dashboard.py"
    with transaction(sqlite_engine) as session:
        model_id, _ = ensure_model(session, name="credit", task="binary_classification", retrain_webhook=None)
        version_id, _ = ensure_version(session, model_id=model_id, version="1.0", status="active", column_schema={
            "id": "i", "timestamp": "t", "prediction": "p", "probability": "s", "target": "y",
            "features": {"x": "numeric"}})
        monitor_id, _ = ensure_monitor(session, name="credit-estimated", model_id=model_id,
                                       kind="estimated_performance", schedule=None, window_seconds=86_400, settings={})
        for day, realized in enumerate([0.81, 0.79, None]):
            run_id = start_run(session, monitor_id=monitor_id, model_version_id=version_id,
                               window_start=DAY + timedelta(days=day), window_end=END + timedelta(days=day))
            add_metric_values(session, run_id=run_id, rows=[{
                "metric": "roc_auc", "status": "ok", "value": 0.8, "ci_low": 0.78, "ci_high": 0.82, "n": 500,
                "flagged": False, "details": {"unreliable": day == 2}, "realized_value": realized,
                "state": "estimated" if realized is None else "realized"}])
            finish_run(session, run_id=run_id, status="succeeded", n_rows=500, n_labels=0 if realized is None else 500)
    for name in ("DRIFTSCOPE_CONFIG", "DRIFTSCOPE_DASHBOARD_USERS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DRIFTSCOPE_DATABASE_URL", sqlite_url)
    streamlit.cache_data.clear()
    streamlit.cache_resource.clear()
    at = AppTest.from_file(str(app), default_timeout=30)
    at.query_params.update({"model": "credit", "version": "1.0", "start": "2026-01-01", "end": "2026-01-10"})
    at.run()
    at.switch_page("../views/version.py").run()
    assert [e.value for e in at.exception] == []
    assert "Estimated performance" in [s.value for s in at.subheader]
    record = at.dataframe[0].value
    assert record[["metric", "n_windows", "n_realized"]].values.tolist() == [["roc_auc", 3, 2]]
    assert record["mae"].iloc[0] == pytest.approx(0.01) and record["inside_band"].iloc[0] == pytest.approx(1.0)
