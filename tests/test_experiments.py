"""Experiments end to end (issue #13): config checks, looks per window, a guardrail breach decides "worse" in its
window and reaches the real SMTP and HTTP catchers exactly once; re-evaluating the same data changes nothing."""

import json
import re
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
from helpers_alerts import ENV, Mailbox, Receiver, webhook_channel
from helpers_collect import MODEL, T0, config_document, log_rows
from test_collect_serving import SERVING_SCHEMA

from driftscope.alerting.notify import Backoff
from driftscope.apply import apply_config
from driftscope.collectors import log_outcomes, log_predictions
from driftscope.config import parse_config
from driftscope.errors import ConfigError
from driftscope.monitors.experiment_runner import evaluate_figures, run_experiments
from driftscope.pipeline import monitor_cycle
from driftscope.storage.db import transaction
from driftscope.storage.experiments import experiment_looks, experiments_between

FAST = Backoff(base=timedelta(milliseconds=100), jitter=0.0)
EXPERIMENT = {"name": "canary", "model": MODEL, "control": "1.0", "treatment": "2.0",
              "primary": {"outcome": "clicked", "direction": "increase"},
              "guardrails": [{"operational": "latency_p95", "max_increase": 0.10},
                             {"operational": "error_rate", "max_increase": 0.05}],
              "alpha": 0.05, "minimum_effect": 0.05, "window": "1h"}


def _document(tmp_path, url: str, **experiment: Any) -> dict[str, Any]:
    document = config_document(tmp_path, url, [])
    document["models"][0]["schema"] = SERVING_SCHEMA
    document["experiments"] = [{**EXPERIMENT, **experiment}]
    return document


def _config(tmp_path, engine, *, smtp_port: int = 2525, hook: str = "http://127.0.0.1:9/hook", retrain: bool = False):
    document = _document(tmp_path, engine.url.render_as_string(hide_password=False))
    if retrain:
        document["models"][0]["retrain_webhook"] = "hook"
    document["dashboard_url"] = "http://dash.test:8501"
    document["channels"] = [
        {"name": "mail", "kind": "email", "to": ["oncall@example.com"], "from": "driftscope@example.com",
         "smtp_host": "127.0.0.1", "smtp_port": smtp_port, "timeout": "5s"},
        webhook_channel("hook", hook)]
    document["alerts"] = {"rules": [{"name": "canary-decided", "experiment": "canary", "when": "experiment_decided",
                                     "severity": "critical", "channels": ["mail", "hook"], "retrain": retrain}]}
    document["monitors"] = [{"name": "ops", "model": MODEL, "kind": "operational", "window": "1h",
                             "versions": ["1.0"]}]
    config = parse_config(document, base_dir=tmp_path, env=ENV)
    apply_config(config, engine)
    return config


@pytest.mark.parametrize(("change", "message"), [
    ({"treatment": "9.9"}, "experiments[0].treatment: model 'credit-default' has no version '9.9'"),
    ({"primary": {"outcome": "bought", "direction": "increase"}}, "declares no outcome 'bought'"),
    ({"guardrails": [{"operational": "latency_p95", "max_increase": 0.1, "max_decrease": 0.1}]}, "one of"),
    ({"guardrails": [{"operational": "latency_pX", "max_increase": 0.1}]}, "unknown operational metric"),
    ({"guardrails": [{"metric": "mae", "max_increase": 0.1}]}, "'mae' does not apply to a binary_classification"),
    ({"primary": {"metric": "roc_auc", "direction": "increase"}}, "not a per-row metric"),
    ({"control": "2.0"}, "control and treatment are both version '2.0'"),
])
def test_experiment_config_is_checked_against_the_model(tmp_path, change, message) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_config(_document(tmp_path, "sqlite:///x.db", **change), base_dir=tmp_path)


def test_a_guardrail_needs_the_column_it_reads(tmp_path) -> None:
    document = _document(tmp_path, "sqlite:///x.db")
    document["models"][0]["schema"] = {k: v for k, v in SERVING_SCHEMA.items() if k != "latency"}
    with pytest.raises(ConfigError, match=r"guardrails\[0\].operational: model 'credit-default' logs no latency"):
        parse_config(document, base_dir=tmp_path)


@pytest.mark.parametrize(("rule", "message"), [
    ({"experiment": "nope"}, "alerts.rules[0].experiment: no experiment named 'nope'"),
    ({}, "needs 'experiment'"),
    ({"experiment": "canary", "monitor": "m"}, "takes 'experiment', not monitor"),
])
def test_experiment_decided_rules_name_a_configured_experiment(tmp_path, rule, message) -> None:
    document = _document(tmp_path, "sqlite:///x.db")
    document["alerts"] = {"rules": [{"name": "r", "when": "experiment_decided", **rule}]}
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_config(document, base_dir=tmp_path)


def _log_hour(engine, hour: int, *, latency: tuple[float, float], errors: tuple[int, int] = (0, 0),
              outcomes: bool = True) -> None:
    """60 requests per arm in ``hour`` (one a minute), every one with a click outcome (1 in 4 clicks)."""
    for version, prefix, ms, failed in (("1.0", "c", latency[0], errors[0]), ("2.0", "t", latency[1], errors[1])):
        rows = log_rows(60, start=60 * hour, seed=hour, prefix=prefix).assign(
            latency_ms=ms + np.arange(60.0) % 7, status=["error"] * failed + ["ok"] * (60 - failed))
        log_predictions(MODEL, version, rows, engine=engine)
        if outcomes:
            _log_clicks(engine, rows["request_id"])


def _log_clicks(engine, request_ids: pd.Series) -> None:
    log_outcomes(MODEL, pd.DataFrame({"request_id": request_ids, "clicked": np.arange(len(request_ids)) % 4 == 0}),
                 engine=engine)


def _looks(engine) -> pd.DataFrame:
    with transaction(engine) as session:
        return experiment_looks(session, experiment="canary")


def test_guardrail_breach_decides_worse_in_its_window_and_notifies_once(engine, tmp_path) -> None:
    with Mailbox() as box, Receiver() as hook:
        config = _config(tmp_path, engine, smtp_port=box.port, hook=hook.url())
        for hour in range(2):
            _log_hour(engine, hour, latency=(100.0, 102.0))
        _log_hour(engine, 2, latency=(100.0, 150.0))  # the canary is 50 % slower in its third hour
        _log_hour(engine, 3, latency=(100.0, 100.0))
        cycle = {"backfill_from": T0, "backfill_until": T0 + timedelta(hours=4), "now": T0 + timedelta(days=1),
                 "backoff": FAST}

        report = monitor_cycle(engine, config, **cycle)
        hook.wait_for(1)

        looks = _looks(engine)
        assert looks["verdict"].tolist() == ["no_detectable_difference"] * 2 + ["worse"] * 2
        decided = looks.iloc[2]
        assert decided["decided_at"] == T0 + timedelta(hours=3) and decided["breaches"] == ["latency_p95"]
        assert looks.iloc[3]["breaches"] == [] and looks.iloc[3]["decided_at"] == T0 + timedelta(hours=3)
        assert looks["n_control"].tolist() == [60, 120, 180, 240]  # cumulative primary units
        slow = np.percentile(150 + np.arange(60.0) % 7, 95)
        assert looks.iloc[2]["arms"]["treatment"]["latency_p95"] == pytest.approx(slow)
        assert [c.action for c in report.alerts] == ["opened"]
        [mail] = box.messages
        [request] = hook.delivered()
        body = request.json
        evidence = body["alert"]["evidence"]
        assert request.signature_ok and body["type"] == "alert.fired" and body["alert"]["version"] == "2.0"
        assert evidence["verdict"] == "worse" and evidence["guardrails_breached"] == ["latency_p95"]
        assert "/compare?model=credit-default&version=2.0&compare=1.0&alert=" in body["links"]["dashboard"]
        assert evidence["n"] == {"control": 180, "treatment": 180}
        assert evidence["confidence_sequence"]["low"] < evidence["effect"] < evidence["confidence_sequence"]["high"]
        assert body["alert"]["window"] == {"start": (T0 + timedelta(hours=2)).isoformat(),
                                           "end": (T0 + timedelta(hours=3)).isoformat()}
        assert body["alert"]["data_time"]["start"] == (T0 + timedelta(hours=2)).isoformat()
        text = mail.get_body(("plain",)).get_content()
        assert "[CRITICAL] credit-default 2.0: canary-decided - experiment canary decided worse" in mail["Subject"]
        assert "Guardrails breached  latency_p95" in text and "Reached in" in text and "2026-01-01 02:00" in text

        with transaction(engine) as session:
            between = experiments_between(session, version_ids=[int(decided["control_version_id"]),
                                                                int(decided["treatment_version_id"])])
        assert between["experiment"].tolist() == ["canary"]
        assert between["last_window_end"].iloc[0] == T0 + timedelta(hours=4)

        stamps = _looks(engine)["computed_at"].tolist()
        again = monitor_cycle(engine, config, **cycle)
        assert again.alerts == [] and again.deliveries == []
        assert len(box.messages) == 1 and len(hook.requests) == 1
        assert _looks(engine)["computed_at"].tolist() == stamps


def test_a_decided_experiment_can_call_the_rollback_webhook(sqlite_engine, tmp_path) -> None:
    with Receiver() as hook:
        config = _config(tmp_path, sqlite_engine, hook=hook.url(), retrain=True)
        _log_hour(sqlite_engine, 0, latency=(100.0, 100.0), errors=(0, 12))  # 20 % errors: the guardrail breaches
        report = monitor_cycle(sqlite_engine, config, window_end=T0 + timedelta(hours=1),
                               now=T0 + timedelta(hours=2), backoff=FAST)
        delivered = hook.wait_for(2)  # the alert to the hook channel, and the retraining request
    types = sorted(r.json["type"] for r in delivered)
    assert [c.retraining_request_id is not None for c in report.alerts] == [True]
    assert types == ["alert.fired", "retraining.requested"]
    request = next(r.json for r in delivered if r.json["type"] == "retraining.requested")
    assert request["request"]["reason"].startswith("experiment canary decided worse: guardrail breached: error_rate")
    assert request["evidence"]["guardrails_breached"] == ["error_rate"]


def test_a_scheduled_monitor_job_catches_up_every_window_since_the_last_look(sqlite_engine, tmp_path) -> None:
    config = _config(tmp_path, sqlite_engine)
    for hour in range(3):
        _log_hour(sqlite_engine, hour, latency=(100.0, 100.0))
    [first] = run_experiments(sqlite_engine, config, now=T0 + timedelta(hours=1, minutes=5))
    assert [w.end for w in first.windows] == [T0 + timedelta(hours=1)]
    scheduled = monitor_cycle(sqlite_engine, config, monitor="ops", now=T0 + timedelta(hours=3, minutes=5))
    [later] = scheduled.experiments  # the scheduler's monitor job runs this very cycle
    caught_up = [w.end for w in later.windows if w.end > T0 + timedelta(hours=1)]  # (hour 0 may be evaluated
    assert caught_up == [T0 + timedelta(hours=2), T0 + timedelta(hours=3)]  # again: its clicks came in its second)
    assert _looks(sqlite_engine)["n_treatment"].tolist() == [60, 120, 180]
    assert later.latest is not None and later.latest.verdict == "no_detectable_difference"


def test_a_scheduled_run_evaluates_again_a_window_whose_outcomes_arrived_late(engine, tmp_path) -> None:
    config = _config(tmp_path, engine)
    for hour in range(3):
        _log_hour(engine, hour, latency=(100.0, 100.0), outcomes=hour != 0)
    now = T0 + timedelta(hours=3, minutes=5)
    run_experiments(engine, config, backfill_from=T0, backfill_until=T0 + timedelta(hours=3), now=now)
    assert _looks(engine)["n_treatment"].tolist() == [0, 60, 120]  # hour 0's clicks are not in yet
    [quiet] = run_experiments(engine, config, now=now)  # (clicks logged in the second the data was read count
    assert T0 + timedelta(hours=1) not in [w.end for w in quiet.windows] and quiet.changed == 0  # as new, harmlessly)

    _log_clicks(engine, pd.Series([f"{arm}{i}" for arm in "ct" for i in range(60)]))
    [late] = run_experiments(engine, config, now=now)
    assert late.windows[0].end == T0 + timedelta(hours=1) and late.changed == 3
    assert _looks(engine)["n_treatment"].tolist() == [60, 120, 180]
    [again] = run_experiments(engine, config, now=now)
    assert again.changed == 0 and _looks(engine)["n_treatment"].tolist() == [60, 120, 180]


def test_a_clear_lift_decides_better_from_the_cumulative_data(tmp_path) -> None:
    """The looks of stored per-arm figures: a 20 % vs 10 % click rate is declared better once enough data is in."""
    document = _document(tmp_path, "sqlite:///x.db", guardrails=[], minimum_effect=0.5)
    config = parse_config(document, base_dir=tmp_path)
    arm = {"n": 100.0, "requests": 100.0}
    figures = [{"window_start": T0 + timedelta(hours=h), "window_end": T0 + timedelta(hours=h + 1),
                "arms": {"control": {**arm, "total": 10.0, "total_sq": 10.0},
                         "treatment": {**arm, "total": 20.0, "total_sq": 20.0}}} for h in range(6)]
    looks = evaluate_figures(config.experiment("canary"), figures)
    first = next(i for i, look in enumerate(looks) if look.decided)
    assert looks[-1].verdict == "better" and 0 < first < 6
    assert all(look.decided_at == looks[first].window_end for look in looks[first:])
    assert looks[first].effect == pytest.approx(0.1)


def test_production_contract_experiment_section_is_accepted() -> None:
    """The experiment and its rule as the contract writes them raise no complaint of their own."""
    from pathlib import Path

    import yaml

    document = yaml.safe_load((Path(__file__).parent.parent / "examples" / "production.yaml").read_text())
    try:
        parse_config(document, base_dir=Path("examples").resolve(), env={})
    except ConfigError as exc:
        problems = [line for line in str(exc).splitlines()[1:] if "experiment" in line]
        assert problems == [], json.dumps(problems)


@pytest.mark.usefixtures("clean_streamlit")
def test_compare_page_becomes_the_experiment_view(monkeypatch, sqlite_engine, tmp_path) -> None:
    from test_dashboard_app import metrics, open_app, texts

    config = _config(tmp_path, sqlite_engine)
    for hour in range(3):
        _log_hour(sqlite_engine, hour, latency=(100.0, 150.0 if hour == 2 else 100.0))
    run_experiments(sqlite_engine, config, backfill_from=T0, backfill_until=T0 + timedelta(hours=3),
                    now=T0 + timedelta(days=1))
    url = sqlite_engine.url.render_as_string(hide_password=False)

    at = open_app(monkeypatch, url, "compare", model=MODEL, version="1.0", start="2026-01-01", end="2026-01-02")

    assert at.tabs[0].label == "Experiment"
    assert "Verdict: **worse**, reached in the window" in texts(at, "error") and "latency_p95" in texts(at, "error")
    shown = metrics(at)
    assert shown["Units (control / treatment)"] == "180 / 180"
    assert shown["Traffic split (treatment share)"] == "50.0%"
    guardrails = at.dataframe[0].value
    assert guardrails.iloc[0].tolist()[1:] == ["latency_p95", "106", "156", "yes"]
    assert len(at.get("plotly_chart")) == 1

    from_alert = open_app(monkeypatch, url, "compare", model=MODEL, version="2.0", compare="1.0",
                          start="2026-01-01", end="2026-01-02")  # the decision's e-mail link: treatment selected
    assert from_alert.tabs[0].label == "Experiment" and "Verdict: **worse**" in texts(from_alert, "error")
