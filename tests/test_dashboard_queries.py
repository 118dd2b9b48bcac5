"""The dashboard's aggregated store queries, on a real SQLite file and a real PostgreSQL database."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers_dashboard import CREDIT_FEATURES, DAY, DAYS, DRIFT_FROM_DAY, T0, Seeded, fresh_store_url, seed_store
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine

from driftscope.errors import StorageError
from driftscope.storage import (
    alerts,
    drift_history,
    label_coverage,
    result_series,
    results,
    run_history,
    version_summary,
)
from driftscope.storage.db import make_engine, transaction

END = T0 + DAYS * DAY


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, Seeded]]:
    """One seeded store per database for this module's read-only tests."""
    engine = make_engine(fresh_store_url(request, tmp_path_factory))
    yield engine, seed_store(engine)
    engine.dispose()


@pytest.fixture
def engine(store: tuple[Engine, Seeded]) -> Engine:
    return store[0]


@pytest.fixture
def seeded(store: tuple[Engine, Seeded]) -> Seeded:
    return store[1]


def test_overview_counts_match_the_seed(engine: Engine, seeded: Seeded) -> None:
    with transaction(engine) as session:
        frame = version_summary.overview(session, start=T0, end=END).set_index("version")
    assert list(frame.index) == ["1.0", "2.0", "3.1"]
    for key, version in (("credit-1.0", "1.0"), ("credit-2.0", "2.0"), ("house-3.1", "3.1")):
        assert frame.loc[version, "predictions"] == seeded.predictions[key]
        assert frame.loc[version, "labelled"] == seeded.labelled[key]
    assert frame.loc["1.0", "label_coverage"] == pytest.approx(720 / 2016)
    assert frame["health"].to_dict() == {"1.0": "critical", "2.0": "ok", "3.1": "warning"}
    assert frame["open_alerts"].to_dict() == {"1.0": 1, "2.0": 0, "3.1": 1}
    assert frame.loc["1.0", "metric"] == "roc_auc"
    assert frame.loc["1.0", "metric_value"] == pytest.approx(seeded.roc_auc[-1])
    assert frame.loc["1.0", "metric_delta"] == pytest.approx(seeded.roc_auc[-1] - 0.86)
    assert frame.loc["3.1", "last_run_status"] == "failed"
    assert frame.loc["1.0", "last_data_at"] == pd.Timestamp(END - timedelta(hours=1))


@pytest.mark.parametrize(("days", "expected"), [(1, 144), (7, 7 * 144)])
def test_overview_counts_only_the_range(engine: Engine, seeded: Seeded, days: int, expected: int) -> None:
    with transaction(engine) as session:
        frame = version_summary.overview(session, start=END - days * DAY, end=END).set_index("version")
    assert frame.loc["1.0", "predictions"] == expected
    labelled_days = max(0, 10 - (DAYS - days))
    assert frame.loc["1.0", "labelled"] == labelled_days * 72


def test_label_coverage_is_estimated_from_hour_slices_on_large_ranges(engine: Engine, seeded: Seeded) -> None:
    predictions = {seeded.version_ids["credit-1.0"]: 2016, seeded.version_ids["house-3.1"]: 672}
    with transaction(engine) as session:
        exact = label_coverage.label_coverage(session, predictions=predictions, start=T0, end=END)
        estimated = label_coverage.label_coverage(session, predictions=predictions, start=T0, end=END,
                                                    exact_limit=0, sample_hours=36)
    assert exact["labelled"].tolist() == [720, 0] and exact["label_coverage_exact"].all()
    assert not estimated["label_coverage_exact"].any()
    assert estimated["label_coverage"].tolist() == pytest.approx([720 / 2016, 0.0], abs=0.02)
    assert estimated["labelled"].iloc[0] == pytest.approx(720, abs=40)


def test_version_series(engine: Engine, seeded: Seeded) -> None:
    v1 = seeded.version_ids["credit-1.0"]
    with transaction(engine) as session:
        metrics = result_series.metric_series(session, model_version_id=v1, start=T0, end=END)
        matrix = result_series.drift_matrix(session, model_version_id=v1, start=T0, end=END)
        shares = result_series.drift_share_series(session, model_version_id=v1, start=T0, end=END)
        events = result_series.detector_events(session, model_version_id=v1, start=T0, end=END)
        volume = result_series.volume_series(session, model_version_ids=[v1], start=T0, end=END, freq="D")
    auc = metrics[metrics["metric"] == "roc_auc"]
    assert auc["value"].tolist() == pytest.approx(seeded.roc_auc)
    assert (auc["ci_high"] - auc["ci_low"]).to_numpy() == pytest.approx(np.full(DAYS, 0.06))
    assert auc["flagged"].sum() == sum(a < 0.75 for a in seeded.roc_auc)
    assert len(matrix) == DAYS * len(CREDIT_FEATURES)
    drifted = matrix[matrix["drifted"]]
    assert set(drifted["feature"]) == {"region"} and len(drifted) == DAYS - DRIFT_FROM_DAY
    assert (drifted["score"] > 1).all() and (matrix.loc[~matrix["drifted"], "score"] < 1).all()
    assert shares["drifted_share"].tolist() == [0.0] * DRIFT_FROM_DAY + [0.25] * (DAYS - DRIFT_FROM_DAY)
    assert events["detector"].tolist() == ["adwin"]
    assert volume["n_rows"].tolist() == [144] * DAYS
    assert volume["bucket"].iloc[0] == pd.Timestamp(T0)


def test_drift_matrix_keeps_the_newest_run_per_day_when_windows_crowd(engine: Engine, seeded: Seeded) -> None:
    with transaction(engine) as session:
        frame = result_series.drift_matrix(
            session, model_version_id=seeded.version_ids["credit-1.0"], start=T0, end=END, max_windows=5
        )
    assert frame["window_end"].nunique() == DAYS
    assert len(frame) == DAYS * len(CREDIT_FEATURES)


def test_feature_history_and_histogram(engine: Engine, seeded: Seeded) -> None:
    v1 = seeded.version_ids["credit-1.0"]
    with transaction(engine) as session:
        history = drift_history.feature_history(session, model_version_id=v1, feature="region", start=T0, end=END)
        names = drift_history.drift_features(session, model_version_id=v1)
        hist = drift_history.histogram(session, run_id=int(history["run_id"].iloc[-1]), feature="region")
    assert names == sorted(CREDIT_FEATURES)
    assert history["n_new_categories"].tolist() == [0] * DRIFT_FROM_DAY + [1] * (DAYS - DRIFT_FROM_DAY)
    assert history["new_categories"].iloc[-1] == ["west"]
    assert history["missing_share_current"].iloc[-1] == pytest.approx(0.08)
    dist = drift_history.distribution(hist).set_index(["side", "bin"])["share"]
    assert dist["current", "north"] == pytest.approx(70 / 105)
    assert dist["reference", "west"] == 0


def test_runs_page_queries(engine: Engine, seeded: Seeded) -> None:
    with transaction(engine) as session:
        runs = run_history.monitor_runs(session, start=T0, end=END + DAY)
        one = run_history.monitor_runs(session, start=T0, end=END, model_version_id=seeded.version_ids["house-3.1"])
        since = datetime.now(UTC) - timedelta(days=1)
        collectors = run_history.collector_runs(session, since=since)
        quarantine = run_history.quarantine_counts(session, since=since)
        sample = run_history.quarantine_sample(session, source="credit-predictions", limit=2, max_chars=8)
        too_late = run_history.collector_runs(session, since=datetime.now(UTC) + timedelta(hours=1))
    assert len(runs) == 2 * DAYS + 7 * 2 + DAYS + 1 + 1
    failed = runs[runs["status"] == "failed"]
    assert failed["error"].tolist() == [seeded.failed_run_error]
    assert runs["window_end"].is_monotonic_decreasing
    assert set(one["model"]) == {"house-price"} and len(one) == DAYS
    assert collectors["source"].tolist() == ["house-predictions", "credit-predictions"]
    assert collectors["status"].tolist() == ["failed", "succeeded"]
    assert collectors["error"].iloc[0] == seeded.collector_error
    assert collectors[["rows_read", "rows_stored", "rows_conflict", "rows_quarantined"]].iloc[1].tolist() == [
        2019, 2016, 0, 3]
    assert (collectors["duration_s"] >= 0).all()
    assert quarantine[["source", "records", "n_rows"]].values.tolist() == [["credit-predictions", "predictions", 3]]
    assert len(sample) == 2 and sample["payload"].str.len().max() == 8
    assert too_late.empty and list(too_late.columns) == run_history.COLLECTOR_RUN_COLUMNS


@pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)
def test_stamp_changes_when_an_alert_is_acknowledged(db_url: str) -> None:
    engine = make_engine(db_url)
    seeded = seed_store(engine)
    with transaction(engine) as session:
        before = version_summary.store_stamp(session)
    with transaction(engine) as session:
        assert version_summary.store_stamp(session) == before
        alerts.acknowledge_alert(session, alert_id=seeded.alert_ids["auc"], actor="ann", note="looking")
    with transaction(engine) as session:
        assert version_summary.store_stamp(session) != before
    engine.dispose()


@pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)
def test_headline_metric_is_the_newest_measured_value(db_url: str) -> None:
    engine = make_engine(db_url)
    seeded = seed_store(engine)
    with transaction(engine) as session:
        run_id = results.start_run(
            session, monitor_id=seeded.monitor_ids["credit-performance"],
            model_version_id=seeded.version_ids["credit-1.0"], window_start=END, window_end=END + DAY,
        )
        results.add_metric_values(session, run_id=run_id, rows=[
            {"metric": "roc_auc", "status": "insufficient_labels", "value": None, "reference_value": 0.86, "n": 3}])
        results.finish_run(session, run_id=run_id, status="succeeded", summary={"verdict": "insufficient_labels"})
    with transaction(engine) as session:
        frame = version_summary.overview(session, start=T0, end=END + DAY).set_index("version")
    engine.dispose()
    assert frame.loc["1.0", ["metric", "metric_value", "metric_reference"]].tolist() == [
        "roc_auc", pytest.approx(seeded.roc_auc[-1]), pytest.approx(0.86)]
    assert frame.loc["2.0", "metric_value"] == pytest.approx(0.837)
    assert pd.isna(frame.loc["3.1", "metric"])


@pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)
def test_empty_store_gives_empty_frames(db_url: str) -> None:
    engine = make_engine(db_url)
    with transaction(engine) as session:
        frame = version_summary.overview(session, start=T0, end=END)
        extent = version_summary.data_extent(session)
    engine.dispose()
    assert frame.empty and list(frame.columns) == version_summary.OVERVIEW_COLUMNS
    assert extent == (None, None)


def test_store_session_turns_a_missing_schema_into_a_readable_error(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'blank.db'}")
    with pytest.raises(StorageError, match=r"reading the overview failed: no such table.*driftscope db upgrade"), \
            version_summary.store_session(engine, doing="reading the overview") as session:
        version_summary.overview(session, start=T0, end=END)
    with pytest.raises(StorageError, match="revision none"):
        version_summary.check_store(engine)


def test_check_store_names_an_unreachable_server() -> None:
    engine = make_engine("postgresql+psycopg://nobody:secret@127.0.0.1:1/x", connect_args={"connect_timeout": 2})
    with pytest.raises(StorageError, match=r"opening the store failed: .*\*\*\*@127\.0\.0\.1:1/x") as info:
        version_summary.check_store(engine)
    assert "secret" not in str(info.value)


@given(
    p=st.floats(min_value=1e-300, max_value=1.0),
    threshold=st.floats(min_value=1e-6, max_value=0.5),
)
def test_p_value_score_is_one_at_the_threshold_and_falls_with_p(p: float, threshold: float) -> None:
    score = result_series.drift_score([None, None, None], [p, threshold, min(1.0, p * 2)], [threshold] * 3)
    assert score[1] == pytest.approx(1.0)
    assert score[0] >= 0 and score[0] >= score[2] - 1e-12
    assert (score[0] > 1) == (p < threshold) or p == pytest.approx(threshold)


@given(counts=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 10_000)), min_size=1, max_size=30))
def test_distribution_shares_sum_to_one_per_side(counts: list[tuple[int, int]]) -> None:
    hist = {"categories": [f"c{i}" for i in range(len(counts))], "reference": [c[0] for c in counts],
            "current": [c[1] for c in counts]}
    frame = drift_history.distribution(hist)
    totals = frame.groupby("side")["share"].sum()
    for side, index in (("reference", 0), ("current", 1)):
        expected = 1.0 if sum(c[index] for c in counts) else 0.0
        assert totals[side] == pytest.approx(expected)
