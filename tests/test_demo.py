"""``driftscope demo`` end to end: every scripted incident is caught by the right monitor on time.

Runs the real demo (files, label table, collectors, 60 days of monitors, rule replay, delivery to
the local catcher) once per test session without the dashboard.
"""

import json
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest

from driftscope.demo.run import DemoResult
from driftscope.demo.scenario import CANARY_DAYS, N_DAYS, QUIET_DAYS, event
from driftscope.storage.alerts import list_alerts
from driftscope.storage.db import make_engine, read_transaction
from driftscope.storage.experiments import experiment_looks
from driftscope.storage.quarantine import list_quarantined
from driftscope.storage.registry import get_version
from driftscope.storage.results import drift_results, list_runs
from driftscope.storage.retraining import list_requests

pytestmark = pytest.mark.slow


def _engine(demo: DemoResult):
    return make_engine(f"sqlite:///{demo.directory / 'driftscope.db'}")


def _day(demo: DemoResult, day: int) -> pd.Timestamp:
    return pd.Timestamp(demo.start + timedelta(days=day))


def _drift_by_day(demo: DemoResult, model: str, version: str, monitor: str) -> dict[int, pd.DataFrame]:
    engine = _engine(demo)
    with read_transaction(engine) as session:
        info = get_version(session, model, version)
        runs = [r for r in list_runs(session, model_version_id=info.id, limit=10_000) if r.monitor == monitor]
        out = {(r.window_start - demo.start).days: drift_results(session, run_id=r.id).set_index("feature")
               for r in runs}
    engine.dispose()
    return out


def _alerts(demo: DemoResult) -> pd.DataFrame:
    engine = _engine(demo)
    with read_transaction(engine) as session:
        alerts = list_alerts(session)
    engine.dispose()
    return alerts


def _first_seen(alerts: pd.DataFrame, rule: str, version: str) -> pd.Timestamp:
    rows = alerts[(alerts["rule"] == rule) & (alerts["version"] == version)]
    assert not rows.empty, f"rule {rule} never fired for version {version}"
    return pd.Timestamp(rows["first_seen"].min())


def test_every_window_was_computed(demo) -> None:
    assert demo.failed_runs == 0
    assert demo.runs >= 60 * 5


def test_covariate_shift_is_caught_by_data_drift_on_its_first_day(demo) -> None:
    start = event("covariate_shift").start_day
    drift = _drift_by_day(demo, "credit-default", "1.0", "credit-data-drift")
    assert drift[start].loc[["income", "debt_ratio"], "drifted"].all()
    assert not any(drift[d].loc[["income", "debt_ratio"], "drifted"].any() for d in QUIET_DAYS)
    assert _first_seen(_alerts(demo), "credit-feature-drift", "1.0") <= _day(demo, start + 1)


def test_category_mix_is_caught_on_its_day(demo) -> None:
    start = event("category_mix").start_day
    drift = _drift_by_day(demo, "house-price", "3.1", "house-data-drift")
    assert drift[start].loc["city", "drifted"]
    assert not any(drift[d].loc["city", "drifted"] for d in range(start))


def test_missing_values_are_caught_by_the_data_quality_rule(demo) -> None:
    start = event("missing_values").start_day
    drift = _drift_by_day(demo, "house-price", "3.1", "house-data-drift")
    assert drift[start].loc["sqft", "missing_share_current"] == pytest.approx(0.3, abs=0.05)
    assert drift[start + 1].loc["sqft", "missing_share_current"] == 0
    assert _first_seen(_alerts(demo), "house-missing-values", "3.1") == _day(demo, start + 1)


def test_concept_drift_is_caught_by_the_concept_monitor(demo) -> None:
    start = event("concept_drift").start_day
    alerts = _alerts(demo)
    assert _first_seen(alerts, "credit-concept-drift", "1.0") == _day(demo, start + 1)
    assert _first_seen(alerts, "credit-auc-drop", "1.0") <= _day(demo, start + 1)
    engine = _engine(demo)
    with read_transaction(engine) as session:
        info = get_version(session, "credit-default", "1.0")
        runs = {(r.window_start - demo.start).days: r for r in list_runs(session, model_version_id=info.id,
                                                                         limit=10_000)
                if r.monitor == "credit-concept"}
    engine.dispose()
    assert runs[start].summary["concept_drift"] is True
    assert not any(runs[d].summary["concept_drift"] for d in range(start))


def test_collector_outage_raises_no_data_within_the_day(demo) -> None:
    outage = _day(demo, event("collector_outage").start_day)
    first = _first_seen(_alerts(demo), "credit-silent", "1.0")
    assert outage < first < outage + timedelta(days=1)


def test_quiet_stretch_raises_no_critical_alert(demo) -> None:
    alerts = _alerts(demo)
    quiet_end = _day(demo, max(QUIET_DAYS) + 1)
    early = alerts[(alerts["severity"] == "critical") & (pd.to_datetime(alerts["first_seen"]) <= quiet_end)]
    assert early.empty, early[["rule", "title", "first_seen"]].to_string()


def test_quiet_stretch_requests_no_retraining(demo) -> None:
    """Every retraining request comes from an incident that began after the quiet days (data time)."""
    engine = _engine(demo)
    with read_transaction(engine) as session:
        requests = list_requests(session)
    engine.dispose()
    alerts = _alerts(demo).set_index("id")
    assert not requests.empty and requests["alert_id"].notna().all()
    began = pd.to_datetime(alerts.loc[requests["alert_id"].astype(int), "data_start"])
    assert (began >= _day(demo, max(QUIET_DAYS) + 1)).all(), requests[["reason", "alert_id"]].to_string()


def test_the_canary_experiment_decides_worse_on_the_scripted_day_and_not_before(demo) -> None:
    day = event("canary_regression").start_day
    engine = _engine(demo)
    with read_transaction(engine) as session:
        looks = experiment_looks(session, experiment="credit-v2-canary")
    engine.dispose()
    days = [(pd.Timestamp(t) - _day(demo, 0)).days for t in looks["window_start"]]
    assert days == list(range(N_DAYS - CANARY_DAYS, N_DAYS))
    verdicts = dict(zip(days, looks["verdict"], strict=True))
    assert {verdicts[d] for d in days if d < day} == {"no_detectable_difference"}
    assert verdicts[day] == "worse" and looks.iloc[-1]["decided_at"] == _day(demo, day + 1)
    assert looks.set_index(pd.Index(days)).loc[day, "breaches"] == ["latency_p95"]
    assert _first_seen(_alerts(demo), "credit-canary-decided", "2.0") == _day(demo, day + 1)
    mails = [p for p in (Path(demo.directory) / "inbox").glob("mail-*.eml") if "credit-canary-decided" in p.read_text()]
    assert len(mails) == 1


def test_malformed_rows_are_quarantined_with_reasons(demo) -> None:
    engine = _engine(demo)
    with read_transaction(engine) as session:
        rows = list_quarantined(session)
    engine.dispose()
    assert len(rows) == 12
    assert set(rows["source"]) == {"credit-predictions", "house-predictions"}
    assert rows["reason"].str.len().gt(0).all() and rows["location"].str.len().gt(0).all()


def test_notifications_reached_the_catcher_signed(demo) -> None:
    inbox = Path(demo.directory) / "inbox"
    hooks = [json.loads(p.read_text()) for p in sorted(inbox.glob("webhook-*.json"))]
    assert demo.mails > 0 and len(list(inbox.glob("mail-*.eml"))) == demo.mails
    assert hooks and all(h["verified"] for h in hooks)
    assert {h["body"]["type"] for h in hooks} >= {"alert.fired", "retraining.requested"}


DEMO_PAGES = {  # screenshot name -> (sidebar link, page title, extra query)
    "demo-overview": ("Overview", "Overview", ""),
    "demo-version": ("Model version", "credit-default · version 1.0", ""),
    "demo-feature": ("Feature", "Feature", "&feature=income"),
    "demo-compare": ("Compare versions", "Compare versions", "&compare=2.0"),
    "demo-alerts": ("Alerts", "Alerts", ""),
    "demo-runs": ("Runs", "Runs", ""),
}


@pytest.mark.browser
def test_the_demo_dashboard_in_chromium(demo) -> None:
    """Every page over the demo store renders without exceptions; screenshots feed the README tour."""
    import os
    import signal
    import subprocess
    import sys

    from playwright.sync_api import sync_playwright

    from tests.test_dashboard_browser import (
        ARTIFACTS,
        CHROMIUM,
        LAUNCH_ARGS,
        PAGE_S,
        chromium_or_skip,
        free_port,
        settle,
        shoot,
        wait_ready,
    )

    chromium_or_skip()
    ARTIFACTS.mkdir(exist_ok=True)
    port, log = free_port(), Path(demo.directory) / "driftscope.dashboard.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRIFTSCOPE_")}
    command = [sys.executable, "-m", "driftscope", "dashboard", "--config", str(demo.config_path), "--port", str(port)]
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=demo.directory, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    selection = f"model=credit-default&version=1.0&start={demo.start:%Y-%m-%d}&end={demo.end:%Y-%m-%d}"
    problems = []
    try:
        wait_ready(url, process, log)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                for name, (_, title, extra) in DEMO_PAGES.items():
                    path = "" if name == "demo-overview" else name.removeprefix("demo-")
                    path = {"version": "model_version"}.get(path, path)
                    page.goto(f"{url}/{path}?{selection}{extra}", timeout=PAGE_S * 1000)
                    settle(page, title)
                    shoot(page, name)
                    if page.get_by_test_id("stException").count() or "Traceback" in page.inner_text("body"):
                        problems.append(f"{name}: {page.inner_text('body')[:500]}")
            finally:
                browser.close()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    assert problems == []
    assert all((ARTIFACTS / f"{name}.png").stat().st_size > 10_000 for name in DEMO_PAGES)
