"""Evidence that lands while a run computes marks its window stale: the run's ``read_at`` is taken before its reads.

The write is injected between a run's read and its store by wrapping the runner's store step, so
the race is reproduced exactly, without timing luck.
"""

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from helpers_alerts import ENV, Receiver, webhook_channel
from helpers_collect import MODEL, log_rows
from helpers_collect import config_document as serving_document
from helpers_monitor import SCHEMA, applied, config_document, credit_frame, store_rows
from sqlalchemy import Engine, inspect
from test_collect_serving import SERVING_SCHEMA

from driftscope.collectors import log_outcomes, log_predictions
from driftscope.config import parse_config
from driftscope.monitors import runner
from driftscope.monitors.runner import run_monitors
from driftscope.pipeline import monitor_cycle
from driftscope.storage import migrations
from driftscope.storage.db import make_engine, read_transaction, transaction
from driftscope.storage.labels import write_labels
from driftscope.storage.models import MonitorRun
from driftscope.storage.registry import ensure_model, ensure_monitor, ensure_version, get_version
from driftscope.storage.results import RunInfo, add_metric_values, finish_run, list_runs, metric_values, start_run

DAY = timedelta(days=1)
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _write_before_storing(monkeypatch: pytest.MonkeyPatch, window_end: datetime, write: Callable[[], None]) -> list:
    """Run ``write`` once, after the run of the window ending at ``window_end`` read and computed, before it stores."""
    store, done = runner._store, []

    def store_after_write(engine: Engine, target: runner.Target, window: runner.Window, *args: Any) -> RunInfo:
        if window.end == window_end and not done:
            write()
            _second_passes(engine)  # the store lands in a later second: SQLite's clock cannot hide the race
            done.append(window)
        return store(engine, target, window, *args)

    monkeypatch.setattr(runner, "_store", store_after_write)
    return done


def _runs(engine: Engine) -> dict[tuple[str, datetime], RunInfo]:
    with read_transaction(engine) as session:
        return {(r.monitor, r.window_end): r for r in list_runs(session)}


def _metric(engine: Engine, run: RunInfo, metric: str) -> float:
    with read_transaction(engine) as session:
        values = metric_values(session, run_id=run.id)
    return float(values.loc[values["metric"] == metric, "value"].iloc[0])


def _second_passes(engine: Engine) -> None:
    """SQLite stamps in whole seconds: evidence in the second of a read counts (one harmless extra recompute)."""
    if engine.dialect.name == "sqlite":
        time.sleep(1.1)


def test_a_label_corrected_while_the_run_computes_is_picked_up_once(engine: Engine, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    days = [credit_frame(400, seed=d, start=(T0 + d * DAY).replace(tzinfo=None), step=timedelta(seconds=216),
                         id_prefix=f"d{d}-") for d in range(2)]
    with Receiver() as receiver:
        document = config_document(tmp_path, str(engine.url), [
            {"name": "perf", "model": "credit", "kind": "performance", "window": "1d", "metrics": ["accuracy"],
             "min_labels": 100}], n=1500)
        document["channels"] = [webhook_channel("hook", receiver.url())]
        document["alerts"] = {"rules": [{"name": "floor", "monitor": "perf", "when": "metric_below",
                                         "metric": "accuracy", "value": 0.5, "channels": ["hook"]}]}
        config = applied(engine, parse_config(document, base_dir=tmp_path, env=ENV))
        for frame in days:
            store_rows(engine, config, frame)

        def correct_day_0() -> None:  # every label of day 0 flipped: same count, other values
            with transaction(engine) as session:
                info = get_version(session, "credit", "1.0")
                write_labels(session, model_id=info.model_id, source="late", frame=pd.DataFrame({
                    "prediction_id": days[0]["prediction_id"], "label": (1 - days[0]["label"]).astype(str),
                    "ts": days[0]["ts"]}))

        injected = _write_before_storing(monkeypatch, T0 + DAY, correct_day_0)
        now = T0 + 2 * DAY + timedelta(hours=1)
        backfill = monitor_cycle(engine, config, backfill_from=T0, now=now)
        assert injected and len(backfill.runs) == 2 and backfill.alerts == []
        before = _runs(engine)[("perf", T0 + DAY)]
        accuracy = _metric(engine, before, "accuracy")
        assert accuracy > 0.5  # computed from the labels before the correction

        _second_passes(engine)
        recomputed = monitor_cycle(engine, config, now=now)
        assert sorted(r.window_end for r in recomputed.runs) == [T0 + DAY, T0 + 2 * DAY]
        after = _runs(engine)[("perf", T0 + DAY)]
        assert after.n_labels == before.n_labels == 400
        assert _metric(engine, after, "accuracy") == pytest.approx(1 - accuracy)
        assert [a.action for a in recomputed.alerts] == ["opened"] and len(receiver.wait_for(1)) == 1

        _second_passes(engine)
        again = monitor_cycle(engine, config, now=now)
        assert [r.window_end for r in again.runs] == [T0 + 2 * DAY]
        assert again.alerts == [] and again.deliveries == []
        assert _runs(engine)[("perf", T0 + DAY)].id == after.id and len(receiver.delivered()) == 1


def test_an_outcome_received_while_the_run_computes_is_picked_up_once(engine: Engine, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    document = serving_document(tmp_path, engine.url.render_as_string(hide_password=False), [])
    document["models"][0]["schema"] = SERVING_SCHEMA
    document["monitors"] = [{"name": "ops", "model": MODEL, "kind": "operational", "window": "1h",
                             "versions": ["1.0"]}]
    config = applied(engine, parse_config(document, base_dir=tmp_path, env=ENV))
    rows = [log_rows(60, start=60 * hour, seed=hour, prefix="r").assign(latency_ms=100.0, status="ok")
            for hour in range(2)]
    for frame in rows:
        log_predictions(MODEL, "1.0", frame, engine=engine)
    log_outcomes(MODEL, pd.DataFrame({"request_id": rows[1]["request_id"], "clicked": True}), engine=engine)

    def clicks_of_hour_0() -> None:
        log_outcomes(MODEL, pd.DataFrame({"request_id": rows[0]["request_id"],
                                          "clicked": np.arange(60) % 4 == 0}), engine=engine)

    first_end = T0 + timedelta(hours=1)
    injected = _write_before_storing(monkeypatch, first_end, clicks_of_hour_0)
    now = T0 + timedelta(hours=2, minutes=5)
    backfill = run_monitors(engine, config, backfill_from=T0, now=now)
    assert injected and len(backfill) == 2
    before = _runs(engine)[("ops", first_end)]
    with read_transaction(engine) as session:
        clicked = metric_values(session, run_id=before.id).set_index("metric")["value"].get("outcome:clicked")
    assert clicked is None or np.isnan(clicked)  # computed before the clicks were received

    _second_passes(engine)
    recomputed = run_monitors(engine, config, now=now)
    assert sorted(r.window_end for r in recomputed) == [first_end, first_end + timedelta(hours=1)]
    after = _runs(engine)[("ops", first_end)]
    assert after.id != before.id and _metric(engine, after, "outcome:clicked") == pytest.approx(15 / 60)

    _second_passes(engine)
    again = run_monitors(engine, config, now=now)
    assert [r.window_end for r in again] == [first_end + timedelta(hours=1)]
    assert _runs(engine)[("ops", first_end)].id == after.id


def test_migration_0017_fills_read_at_of_old_runs_and_its_downgrade_keeps_their_results(scratch_url: str) -> None:
    """Runs stored before 0017 are judged by ``started_at`` as before; downgrading keeps the runs' results."""
    migrations.upgrade(scratch_url)
    engine = make_engine(scratch_url)
    try:
        with transaction(engine) as session:
            model_id, _ = ensure_model(session, name="credit", task="binary_classification", retrain_webhook=None)
            version_id, _ = ensure_version(session, model_id=model_id, version="1.0", column_schema=SCHEMA,
                                           status="active")
            monitor_id, _ = ensure_monitor(session, name="perf", model_id=model_id, kind="performance",
                                           schedule=None, window_seconds=86_400, settings={})
            run_id = start_run(session, monitor_id=monitor_id, model_version_id=version_id, window_start=T0,
                               window_end=T0 + DAY, read_at=T0)
            add_metric_values(session, run_id=run_id, rows=[{"metric": "accuracy", "status": "ok", "value": 0.8}])
            finish_run(session, run_id=run_id, status="succeeded")
        migrations.downgrade(scratch_url, "0016")
        assert "read_at" not in {c["name"] for c in inspect(engine).get_columns("monitor_runs")}
        migrations.upgrade(scratch_url)
        with read_transaction(engine) as session:
            run = session.get(MonitorRun, run_id)
            assert run is not None and run.read_at == run.started_at
            assert metric_values(session, run_id=run_id)["value"].tolist() == [0.8]
        assert migrations.schema_differences(engine) == []
    finally:
        engine.dispose()
