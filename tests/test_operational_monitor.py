"""The operational monitor on a window with known latencies, errors and outcomes; serving rules fire (issue #13)."""

import time
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from helpers_collect import MODEL, T0, config_document, log_rows
from test_collect_serving import SERVING_SCHEMA

from driftscope.alerting.rules.evaluate import evaluate_pending
from driftscope.apply import apply_config
from driftscope.collectors import log_outcomes, log_predictions
from driftscope.config import parse_config
from driftscope.monitors.runner import run_monitors
from driftscope.monitors.serving import wilson_interval
from driftscope.storage.db import transaction
from driftscope.storage.results import metric_values

TRAINED = datetime(2025, 8, 1, tzinfo=UTC)  # 153 days before the window: above 120


def serving_config(tmp_path, engine):
    config = parse_config(serving_document(tmp_path, engine.url.render_as_string(hide_password=False)),
                          base_dir=tmp_path)
    apply_config(config, engine)
    return config


def serving_document(tmp_path, url: str) -> dict:
    """The credit model logging latency, status and outcomes, an hourly operational monitor and serving rules."""
    document = config_document(tmp_path, url, [])
    model = document["models"][0]
    model["schema"] = SERVING_SCHEMA
    model["versions"][0]["trained_at"] = TRAINED
    document["monitors"] = [{"name": "ops", "model": MODEL, "kind": "operational", "window": "1h",
                             "versions": ["1.0"], "latency_percentiles": [50, 95]}]
    document["alerts"] = {"rules": [
        {"name": "slow", "monitor": "ops", "when": "latency_above", "percentile": 95, "value": 250},
        {"name": "errors", "monitor": "ops", "when": "error_rate_above", "value": 0.05},
        {"name": "stale", "model": MODEL, "when": "model_age_above", "days": 120},
        {"name": "ctr", "monitor": "ops", "when": "metric_below", "metric": "outcome:clicked", "value": 0.5},
    ]}
    return document


def test_known_window_gives_known_figures_and_rules_fire(engine, tmp_path) -> None:
    config = serving_config(tmp_path, engine)
    latency = np.arange(1.0, 61.0) * 10  # 10, 20, ..., 600 ms over the first hour (one request a minute)
    status = ["error"] * 6 + ["timeout"] * 3 + ["ok"] * 51
    rows = log_rows(60).assign(latency_ms=latency, status=status)
    log_predictions(MODEL, "1.0", rows, engine=engine)
    log_outcomes(MODEL, pd.DataFrame({"request_id": [f"r{i}" for i in range(9, 29)],
                                      "clicked": [1] * 5 + [0] * 15, "revenue": np.arange(20.0)}), engine=engine)

    [run] = run_monitors(engine, config, window_end=T0 + timedelta(hours=1), now=T0 + timedelta(days=1))

    assert run.status == "succeeded", run.error
    with transaction(engine) as session:
        metrics = metric_values(session, run_id=run.id).set_index("metric")
    value = metrics["value"]
    assert value["request_count"] == 60 and value["request_rate"] == pytest.approx(60 / 3600)
    assert value["error_rate"] == pytest.approx(0.1) and value["timeout_rate"] == pytest.approx(0.05)
    low, high = wilson_interval(6, 60)
    assert (metrics.loc["error_rate", "ci_low"], metrics.loc["error_rate", "ci_high"]) == pytest.approx((low, high))
    assert value["latency_p50"] == pytest.approx(np.percentile(latency, 50))
    assert value["latency_p95"] == pytest.approx(np.percentile(latency, 95))  # 570.5 ms
    assert value["outcome_share"] == pytest.approx(20 / 51)
    assert value["outcome:clicked"] == pytest.approx(0.25) and value["outcome:revenue"] == pytest.approx(9.5)
    assert value["model_age_days"] == pytest.approx((T0 + timedelta(hours=1) - TRAINED).total_seconds() / 86400)

    with transaction(engine) as session:
        changes = evaluate_pending(session, config, now=T0 + timedelta(days=1))
    assert sorted(c.rule for c in changes if c.action == "opened") == ["ctr", "errors", "slow", "stale"]


def test_baseline_is_the_median_of_previous_windows(sqlite_engine, tmp_path) -> None:
    config = serving_config(tmp_path, sqlite_engine)
    for hour, errors in enumerate([1, 3, 2]):
        rows = log_rows(10, start=60 * hour).assign(latency_ms=5.0, status=["error"] * errors + ["ok"] * (10 - errors))
        log_predictions(MODEL, "1.0", rows, engine=sqlite_engine)

    runs = run_monitors(sqlite_engine, config, backfill_from=T0, backfill_until=T0 + timedelta(hours=3),
                        now=T0 + timedelta(days=1))

    with transaction(sqlite_engine) as session:
        last = metric_values(session, run_id=runs[-1].id).set_index("metric")
    assert last.loc["error_rate", "reference_value"] == pytest.approx(0.2)  # median of 0.1 and 0.3
    assert last.loc["error_rate", "value"] == pytest.approx(0.2)


def test_outcomes_arriving_after_a_run_recompute_its_window_once(engine, tmp_path) -> None:
    config = serving_config(tmp_path, engine)
    log_predictions(MODEL, "1.0", log_rows(20).assign(latency_ms=5.0, status="ok"), engine=engine)
    [first] = run_monitors(engine, config, window_end=T0 + timedelta(hours=1), now=T0 + timedelta(days=1))
    with transaction(engine) as session:
        before = metric_values(session, run_id=first.id).set_index("metric")["value"]
    log_outcomes(MODEL, pd.DataFrame({"request_id": [f"r{i}" for i in range(10)], "clicked": [1, 0] * 5}),
                 engine=engine)

    time.sleep(1.1)  # SQLite's clock has whole seconds: the recompute starts after the outcomes' second

    scheduled = run_monitors(engine, config, now=T0 + timedelta(days=1, hours=1))
    settled = run_monitors(engine, config, now=T0 + timedelta(days=1, hours=2))

    assert [r.window_end for r in scheduled] == [T0 + timedelta(hours=1), T0 + timedelta(days=1, hours=1)]
    with transaction(engine) as session:
        after = metric_values(session, run_id=scheduled[0].id).set_index("metric")["value"]
    assert before["outcome_share"] == 0 and after["outcome_share"] == pytest.approx(0.5)
    assert after["outcome:clicked"] == pytest.approx(0.5)
    assert [r.window_end for r in settled] == [T0 + timedelta(days=1, hours=2)]
