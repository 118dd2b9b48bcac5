"""Performance monitors on the profile path: a lake window without raw rows, ``auto`` above a size, and an archived
day whose labels landed after it was archived."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from helpers_monitor import applied, config_document, credit_frame, store_rows
from sqlalchemy import Engine

from driftscope.collectors import collect
from driftscope.config import parse_config
from driftscope.monitors.runner import run_monitors
from driftscope.pipeline import drain_outbox
from driftscope.storage.alerts import list_alerts
from driftscope.storage.archive import run_archive
from driftscope.storage.config import RetentionConfig
from driftscope.storage.db import read_transaction, transaction
from driftscope.storage.labels import write_labels
from driftscope.storage.registry import get_version
from driftscope.storage.results import metric_values

T0 = datetime(2026, 1, 5, tzinfo=UTC)
PERFORMANCE = {"kind": "performance", "model": "credit", "window": "1d", "metrics": ["accuracy", "roc_auc"],
               "min_labels": 200, "n_bootstrap": 300}


def _lake_day(root: Path, day: str, frame: pd.DataFrame) -> None:
    folder = root / f"scored_date={day}"
    folder.mkdir(parents=True)
    frame.drop(columns=["prediction_id"]).rename(columns={
        "prediction": "predicted_label", "probability": "score", "label": "defaulted"}).to_parquet(
        folder / "part-0.parquet", index=False)


def _metrics(engine: Engine, run_id: int) -> pd.DataFrame:
    with read_transaction(engine) as session:
        return metric_values(session, run_id=run_id).set_index("metric")


def test_a_lake_window_without_raw_rows_gets_a_performance_result_and_an_alert(sqlite_engine: Engine,
                                                                              tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    _lake_day(lake, "2026-01-05", credit_frame(3000, kind="performance", seed=3, start=T0.replace(tzinfo=None),
                                               step=timedelta(seconds=25)))
    document = config_document(tmp_path, str(sqlite_engine.url), [{"name": "perf", **PERFORMANCE}], n=3000)
    document["sources"] = [{"name": "lake", "kind": "lake", "model": "credit", "version": "1.0",
                            "records": "predictions", "url": str(lake), "partition": "scored_date"}]
    document["alerts"] = {"rules": [{"name": "auc-drop", "monitor": "perf", "when": "metric_drop",
                                     "metric": "roc_auc", "channels": []}]}
    config = applied(sqlite_engine, parse_config(document, base_dir=tmp_path))
    collect(sqlite_engine, config, sources=["lake"])
    [run] = run_monitors(sqlite_engine, config, window_end=T0 + timedelta(days=1))
    assert (run.status, run.n_rows, run.n_labels, run.summary["verdict"]) == ("succeeded", 3000, 3000, "degraded")
    metrics = _metrics(sqlite_engine, run.id)
    assert set(metrics["path"]) == {"profile"}
    assert metrics.loc["roc_auc", "flagged"] and 0 < metrics.loc["roc_auc", "error_bound"] < 0.01
    assert np.isnan(metrics.loc["accuracy", "error_bound"])
    drain_outbox(sqlite_engine, config, now=T0 + timedelta(days=1, hours=1))
    with read_transaction(sqlite_engine) as session:
        assert list_alerts(session)["rule"].tolist() == ["auc-drop"]


def test_auto_reads_profiles_above_the_configured_size_and_agrees_with_rows(engine: Engine, tmp_path: Path) -> None:
    monitors = [{"name": "perf-auto", **PERFORMANCE, "profile_above_rows": 1000},
                {"name": "perf-small", **PERFORMANCE, "profile_above_rows": 5000},
                {"name": "perf-rows", **PERFORMANCE, "path": "rows"}]
    config = applied(engine, parse_config(config_document(tmp_path, str(engine.url), monitors, n=3000),
                                          base_dir=tmp_path))
    store_rows(engine, config, credit_frame(2000, kind="performance", seed=5, start=T0.replace(tzinfo=None)))
    runs = {r.monitor: r for r in run_monitors(engine, config, window_end=T0 + timedelta(days=1))}
    auto, small, rows = (_metrics(engine, runs[name].id) for name in ("perf-auto", "perf-small", "perf-rows"))
    assert set(auto["path"]) == {"profile"} and set(small["path"]) == set(rows["path"]) == {"rows"}
    assert runs["perf-auto"].n_labels == runs["perf-rows"].n_labels == 2000
    assert auto.loc["accuracy", "value"] == rows.loc["accuracy", "value"]
    assert abs(auto.loc["roc_auc", "value"] - rows.loc["roc_auc", "value"]) <= auto.loc["roc_auc", "error_bound"]
    assert auto["flagged"].tolist() == rows["flagged"].tolist()


def test_labels_landing_after_their_day_was_archived_give_the_same_window_both_ways(engine: Engine,
                                                                                    tmp_path: Path) -> None:
    monitors = [{"name": "perf-profile", **PERFORMANCE, "path": "profile"},
                {"name": "perf-rows", **PERFORMANCE, "path": "rows"}]
    config = applied(engine, parse_config(config_document(tmp_path, str(engine.url), monitors, n=3000),
                                          base_dir=tmp_path))
    frame = credit_frame(2000, kind="performance", seed=6, start=T0.replace(tzinfo=None), step=timedelta(seconds=25))
    store_rows(engine, config, frame, labels=False)
    _label(engine, frame.iloc[:1000], frame["label"].iloc[:1000])  # before archiving
    done = run_archive(engine, RetentionConfig(raw="1d", archive=str(tmp_path / "archive")),
                       now=T0 + timedelta(days=2, hours=12))
    assert [d.predictions for d in done] == [2000]
    late = frame["label"].copy()
    _label(engine, frame.iloc[1000:], late.iloc[1000:])  # after: they join the archived predictions
    late.iloc[np.r_[5, 1000:1200]] = 1 - late.iloc[np.r_[5, 1000:1200]]  # a replaced archived label, corrections
    _label(engine, frame.iloc[np.r_[5, 1000:1200]], late.iloc[np.r_[5, 1000:1200]])
    runs = {r.monitor: r for r in run_monitors(engine, config, window_end=T0 + timedelta(days=1))}
    by_profile, by_rows = _metrics(engine, runs["perf-profile"].id), _metrics(engine, runs["perf-rows"].id)
    assert set(by_profile["path"]) == {"profile"} and set(by_rows["path"]) == {"rows"}
    assert runs["perf-profile"].n_labels == runs["perf-rows"].n_labels == 2000
    accuracy = (frame["prediction"] == late).mean()
    assert by_profile.loc["accuracy", "value"] == by_rows.loc["accuracy", "value"] == accuracy
    assert abs(by_profile.loc["roc_auc", "value"] - by_rows.loc["roc_auc", "value"]) <= by_profile.loc[
        "roc_auc", "error_bound"]


def _label(engine: Engine, frame: pd.DataFrame, labels: pd.Series) -> None:
    with transaction(engine) as session:
        model_id = get_version(session, "credit", "1.0").model_id
        write_labels(session, model_id=model_id, source="test", frame=pd.DataFrame(
            {"prediction_id": frame["prediction_id"], "label": labels.astype(str), "ts": frame["ts"]}))
