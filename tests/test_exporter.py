"""The Prometheus endpoint (issue #13): scraped over HTTP on 127.0.0.1, it shows the stored figures, read per scrape."""

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from helpers_collect import MODEL, T0, log_rows
from helpers_kafka import free_port
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, event
from test_operational_monitor import serving_config, serving_document

from driftscope.alerting.rules.evaluate import evaluate_pending
from driftscope.apply import apply_config
from driftscope.collectors import log_outcomes, log_predictions
from driftscope.config import parse_config
from driftscope.errors import DriftscopeError
from driftscope.exporter import StoreCollector, serve_metrics
from driftscope.monitors.runner import run_monitors
from driftscope.storage import results
from driftscope.storage.db import make_engine, transaction
from driftscope.storage.experiments import put_looks
from driftscope.storage.registry import ensure_monitor, get_version
from driftscope.storage.results import metric_values

ROOT = Path(__file__).resolve().parent.parent
HOUR = timedelta(hours=1)
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(url: str) -> Samples:
    """Every sample of one scrape: (name, sorted labels) -> value."""
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200
        text = response.read().decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def one(samples: Samples, name: str, **labels: str) -> float:
    return samples[(f"driftscope_{name}", tuple(sorted(labels.items())))]


@contextmanager
def endpoint(engine: Engine) -> Iterator[str]:
    server = serve_metrics(engine, host="127.0.0.1", port=0)
    try:
        yield f"http://127.0.0.1:{server.address[1]}/metrics"
    finally:
        server.close()


def serve_window(engine: Engine, config, hour: int, *, errors: int, latency_ms: float) -> None:  # type: ignore[no-untyped-def]
    """60 requests in hour ``hour`` (``errors`` of them failed), then the operational monitor's run of that hour."""
    status = ["error"] * errors + ["ok"] * (60 - errors)
    rows = log_rows(60, start=60 * hour).assign(latency_ms=latency_ms, status=status)
    log_predictions(MODEL, "1.0", rows, engine=engine)
    run_monitors(engine, config, window_end=T0 + (hour + 1) * HOUR, now=T0 + timedelta(days=1))


def drift_run(engine: Engine, share: float) -> None:
    """A data-drift run of version 1.0 over the first day, through storage functions."""
    with transaction(engine) as session:
        info = get_version(session, MODEL, "1.0")
        monitor_id, _ = ensure_monitor(session, name="drift", model_id=info.model_id, kind="data_drift",
                                       schedule=None, window_seconds=86_400, settings={})
        run_id = results.start_run(session, monitor_id=monitor_id, model_version_id=info.id, window_start=T0,
                                   window_end=T0 + 24 * HOUR)
        results.finish_run(session, run_id=run_id, status="succeeded", n_rows=60, n_reference=300,
                           summary={"drifted_share": share, "dataset_drift": share >= 0.5})


def test_a_scrape_shows_the_stored_figures_of_the_newest_window(engine, tmp_path) -> None:
    config = serving_config(tmp_path, engine)
    latency = np.arange(1.0, 61.0) * 10
    rows = log_rows(60).assign(latency_ms=latency, status=["error"] * 6 + ["timeout"] * 3 + ["ok"] * 51)
    log_predictions(MODEL, "1.0", rows, engine=engine)
    log_outcomes(MODEL, pd.DataFrame({"request_id": [f"r{i}" for i in range(9, 29)],
                                      "clicked": [1] * 5 + [0] * 15, "revenue": np.arange(20.0)}), engine=engine)
    [run] = run_monitors(engine, config, window_end=T0 + HOUR, now=T0 + timedelta(days=1))
    with transaction(engine) as session:
        evaluate_pending(session, config, now=T0 + timedelta(days=1))
        stored = metric_values(session, run_id=run.id).set_index("metric")["value"]
    drift_run(engine, 0.25)

    with endpoint(engine) as url:
        samples = scrape(url)

    ops = {"model": MODEL, "version": "1.0", "monitor": "ops"}
    assert one(samples, "window_requests", **ops) == stored["request_count"] == 60
    assert one(samples, "requests_per_second", **ops) == pytest.approx(stored["request_rate"])
    assert stored["request_rate"] == pytest.approx(60 / 3600)
    assert one(samples, "error_ratio", **ops) == pytest.approx(stored["error_rate"]) == pytest.approx(0.1)
    assert one(samples, "timeout_ratio", **ops) == pytest.approx(0.05)
    for p in ("50", "95"):
        assert one(samples, "latency_seconds", **ops, percentile=p) == pytest.approx(
            stored[f"latency_p{p}"] / 1000) == pytest.approx(np.percentile(latency, float(p)) / 1000)
    assert one(samples, "outcome_coverage_ratio", **ops) == pytest.approx(20 / 51)
    assert one(samples, "outcome_mean", **ops, outcome="clicked") == pytest.approx(0.25)
    assert one(samples, "outcome_mean", **ops, outcome="revenue") == pytest.approx(9.5)
    assert one(samples, "model_age_seconds", **ops) == pytest.approx(stored["model_age_days"] * 86_400)
    assert one(samples, "window_end_timestamp_seconds", **ops) == (T0 + HOUR).timestamp()
    drift = {"model": MODEL, "version": "1.0", "monitor": "drift"}
    assert (one(samples, "drift_share", **drift), one(samples, "dataset_drift", **drift)) == (0.25, 0.0)
    alerts = {(labels[1][1], labels[2][1]): v for (name, labels), v in samples.items()
              if name == "driftscope_open_alerts"}  # labels sorted: model, severity, version
    assert alerts == {("info", "1.0"): 0, ("warning", "1.0"): 4, ("critical", "1.0"): 0,
                      ("info", "2.0"): 0, ("warning", "2.0"): 0, ("critical", "2.0"): 0}
    assert one(samples, "store_up") == 1


def test_each_scrape_reads_the_store_anew_in_three_queries(sqlite_engine, tmp_path) -> None:
    config = serving_config(tmp_path, sqlite_engine)
    serve_window(sqlite_engine, config, 0, errors=3, latency_ms=100.0)
    statements: list[str] = []

    def count(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    with endpoint(sqlite_engine) as url:
        before = scrape(url)
        serve_window(sqlite_engine, config, 1, errors=12, latency_ms=300.0)
        event.listen(sqlite_engine, "before_cursor_execute", count)
        try:
            after = scrape(url)
        finally:
            event.remove(sqlite_engine, "before_cursor_execute", count)

    ops = {"model": MODEL, "version": "1.0", "monitor": "ops"}
    assert one(before, "error_ratio", **ops) == pytest.approx(0.05)
    assert one(after, "error_ratio", **ops) == pytest.approx(0.2)
    assert one(after, "latency_seconds", **ops, percentile="95") == pytest.approx(0.3)
    assert one(after, "window_end_timestamp_seconds", **ops) == (T0 + 2 * HOUR).timestamp()
    assert len(statements) == 3, statements  # windows, alerts, experiments


def look(hour: int, *, effect: float, low: float, high: float, verdict: str) -> dict:  # type: ignore[type-arg]
    """One stored experiment look of window ``hour`` (cumulative figures as the evaluation writes them)."""
    return {"window_start": T0 + hour * HOUR, "window_end": T0 + (hour + 1) * HOUR, "arms": {}, "n_control": 500,
            "n_treatment": 50, "control_mean": 0.12, "treatment_mean": 0.12 + effect, "effect": effect, "low": low,
            "high": high, "verdict": verdict, "decided": verdict != "no_detectable_difference",
            "decided_at": T0 + (hour + 1) * HOUR if verdict != "no_detectable_difference" else None,
            "reason": "", "breaches": [], "samples_needed": 1200.0 if verdict == "no_detectable_difference" else None}


def test_a_scrape_shows_each_experiments_newest_verdict_and_bounds(engine, tmp_path) -> None:
    serving_config(tmp_path, engine)
    with transaction(engine) as session:
        control, treatment = get_version(session, MODEL, "1.0").id, get_version(session, MODEL, "2.0").id
        put_looks(session, experiment="canary", control_version_id=control, treatment_version_id=treatment,
                  read_at=datetime.now(UTC), looks=[
            look(0, effect=0.01, low=-0.08, high=0.1, verdict="no_detectable_difference"),
            look(1, effect=-0.04, low=-0.07, high=-0.01, verdict="worse")])

    with endpoint(engine) as url:
        samples = scrape(url)

    arms = {"experiment": "canary", "model": MODEL, "control": "1.0", "treatment": "2.0"}
    verdicts = {v: one(samples, "experiment_verdict", **arms, verdict=v)
                for v in ("better", "worse", "no_detectable_difference")}
    assert verdicts == {"better": 0.0, "worse": 1.0, "no_detectable_difference": 0.0}
    assert one(samples, "experiment_decided", **arms) == 1.0
    assert (one(samples, "experiment_effect", **arms), one(samples, "experiment_effect_lower", **arms),
            one(samples, "experiment_effect_upper", **arms)) == (-0.04, -0.07, -0.01)
    assert ("driftscope_experiment_samples_needed", tuple(sorted(arms.items()))) not in samples


def test_a_store_that_cannot_be_read_answers_store_up_zero(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'missing' / 'driftscope.db'}")
    try:
        families = {f.name: f for f in StoreCollector(engine).collect()}
    finally:
        engine.dispose()
    assert set(families) == {"driftscope_store_up", "driftscope_scrape_duration_seconds"}
    assert families["driftscope_store_up"].samples[0].value == 0


def test_a_port_in_use_is_a_readable_error(sqlite_engine) -> None:
    with endpoint(sqlite_engine) as url, pytest.raises(DriftscopeError, match=r"metrics_endpoint\.port"):
        serve_metrics(sqlite_engine, host="127.0.0.1", port=int(url.split(":")[2].split("/")[0]))


def test_metrics_endpoint_defaults_to_the_loopback_interface(tmp_path) -> None:
    config = parse_config({"metrics_endpoint": {"port": 9464}}, base_dir=tmp_path)
    assert config.metrics_endpoint is not None
    assert (config.metrics_endpoint.host, config.metrics_endpoint.port) == ("127.0.0.1", 9464)
    with pytest.raises(DriftscopeError, match=r"metrics_endpoint\.port"):
        parse_config({"metrics_endpoint": {"port": 70000}}, base_dir=tmp_path)


@contextmanager
def running(command: list[str], cwd: Path) -> Iterator[subprocess.Popen[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRIFTSCOPE_")}
    process = subprocess.Popen([sys.executable, "-m", "driftscope", *command], cwd=cwd, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


def scrape_when_up(url: str, process: subprocess.Popen[str], timeout: float = 60) -> Samples:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"exited with {process.returncode}: {process.stderr.read() if process.stderr else ''}")
        try:
            return scrape(url)
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"{url} did not answer within {timeout} s")


@pytest.mark.slow  # a Python process per case, the CLI's imports included
@pytest.mark.parametrize("command", ["exporter", "scheduler"])
def test_the_exporter_command_and_the_scheduler_serve_the_endpoint(sqlite_url, tmp_path, command) -> None:
    port = free_port()
    document = {**serving_document(tmp_path, sqlite_url), "metrics_endpoint": {"port": port}}
    path = tmp_path / "driftscope.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    engine = make_engine(sqlite_url)
    try:
        config = parse_config(document, base_dir=tmp_path)
        apply_config(config, engine)
        serve_window(engine, config, 0, errors=6, latency_ms=50.0)
    finally:
        engine.dispose()
    with running([command, "--config", str(path)], tmp_path) as process:
        samples = scrape_when_up(f"http://127.0.0.1:{port}/metrics", process)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    assert one(samples, "error_ratio", model=MODEL, version="1.0", monitor="ops") == pytest.approx(0.1)
    assert process.returncode == 0
