"""Predictions, labels and the registry on SQLite and PostgreSQL."""

import itertools
import uuid
from datetime import timedelta

import pandas as pd
import pytest
from factories import CREDIT_SCHEMA, T0, canonical_predictions, register_version
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from driftscope.errors import SchemaError
from driftscope.storage.db import transaction
from driftscope.storage.labels import label_history, labels_for_window, write_labels
from driftscope.storage.predictions import count_predictions, hourly_volume, read_window, write_predictions
from driftscope.storage.registry import (
    ensure_model,
    ensure_monitor,
    ensure_reference,
    ensure_version,
    list_versions,
    load_reference,
)


def test_predictions_round_trip(engine) -> None:
    version = register_version(engine)
    frame = canonical_predictions(3000)
    with transaction(engine) as session:
        counts = write_predictions(session, model_version_id=version.id, frame=frame, source="t")
    assert (counts.stored, counts.duplicates) == (3000, 0)
    with transaction(engine) as session:
        window = read_window(session, model_version_id=version.id, start=T0, end=T0 + timedelta(days=10))
    assert len(window) == 3000
    pd.testing.assert_series_equal(window["income"], frame["income"], check_names=False)
    assert list(window["region"].astype(str)) == list(frame["region"])
    assert window["ts"].dt.tz is not None
    assert (window["prediction_id"].astype(str) == frame["prediction_id"]).all()


def test_rewrite_is_idempotent_and_counts_duplicates(engine) -> None:
    version = register_version(engine)
    frame = canonical_predictions(500)
    with transaction(engine) as session:
        write_predictions(session, model_version_id=version.id, frame=frame.iloc[:300], source="t")
    with transaction(engine) as session:
        counts = write_predictions(session, model_version_id=version.id, frame=frame, source="t")
    assert (counts.stored, counts.duplicates) == (200, 300)
    with transaction(engine) as session:
        assert count_predictions(session, model_version_id=version.id, start=T0, end=T0 + timedelta(days=1)) == 500
        window = read_window(session, model_version_id=version.id, start=T0, end=T0 + timedelta(days=1))
    assert window["prediction_id"].is_unique and len(window) == 500


def test_a_large_partly_stored_batch_stores_only_its_new_rows(engine) -> None:
    version = register_version(engine)
    frame = canonical_predictions(25_000, step=timedelta(seconds=1))
    with transaction(engine) as session:
        write_predictions(session, model_version_id=version.id, frame=frame.iloc[::2], source="t")
    with transaction(engine) as session:
        counts = write_predictions(session, model_version_id=version.id, frame=frame, source="t")
        window = read_window(session, model_version_id=version.id, start=T0, end=T0 + timedelta(days=1))
    assert (counts.stored, counts.duplicates) == (12_500, 12_500)
    window = window.assign(prediction_id=window["prediction_id"].astype(str)).set_index("prediction_id")
    assert window.index.is_unique and len(window) == 25_000
    pd.testing.assert_series_equal(window.loc[frame["prediction_id"], "income"].reset_index(drop=True),
                                   frame["income"], check_names=False)


def test_repeated_id_within_a_batch_keeps_the_first(engine) -> None:
    version = register_version(engine)
    frame = canonical_predictions(10)
    frame.loc[5, "prediction_id"] = "p0"
    with transaction(engine) as session:
        counts = write_predictions(session, model_version_id=version.id, frame=frame, source="t")
        window = read_window(session, model_version_id=version.id, start=T0, end=T0 + timedelta(days=1))
    assert (counts.stored, counts.duplicates) == (9, 1)
    assert window.loc[window["prediction_id"] == "p0", "income"].item() == frame.loc[0, "income"]


def test_window_bounds_are_half_open_and_span_days(engine) -> None:
    version = register_version(engine)
    frame = canonical_predictions(72, step=timedelta(hours=1))
    with transaction(engine) as session:
        write_predictions(session, model_version_id=version.id, frame=frame, source="t")
    with transaction(engine) as session:
        day2 = read_window(session, model_version_id=version.id, start=T0 + timedelta(days=1),
                           end=T0 + timedelta(days=2))
        volume = hourly_volume(session, model_version_id=version.id)
    assert len(day2) == 24
    assert day2["ts"].min() == pd.Timestamp(T0 + timedelta(days=1))
    assert len(volume) == 72 and volume["n_rows"].sum() == 72


def test_hourly_volume_accumulates_across_batches(engine) -> None:
    version = register_version(engine)
    frame = canonical_predictions(120)
    with transaction(engine) as session:
        write_predictions(session, model_version_id=version.id, frame=frame.iloc[:30], source="t")
        write_predictions(session, model_version_id=version.id, frame=frame.iloc[30:], source="t")
        volume = hourly_volume(session, model_version_id=version.id)
    assert volume["n_rows"].tolist() == [60, 60]


def _labels(ids: list[str], values: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"prediction_id": ids, "label": values,
                         "ts": pd.DatetimeIndex([T0 + timedelta(days=3)] * len(ids))})


def test_label_before_prediction_joins_later_and_corrections_are_recorded(engine) -> None:
    version = register_version(engine)
    with transaction(engine) as session:
        first = write_labels(session, model_id=version.model_id, frame=_labels(["p1", "p2"], ["0", "1"]), source="s")
    assert (first.inserted, first.corrected, first.unchanged) == (2, 0, 0)
    with transaction(engine) as session:
        write_predictions(session, model_version_id=version.id, frame=canonical_predictions(5), source="t")
        again = write_labels(session, model_id=version.model_id, frame=_labels(["p1", "p2", "p3"], ["0", "0", "1"]),
                             source="s")
    assert (again.inserted, again.corrected, again.unchanged) == (1, 1, 1)
    with transaction(engine) as session:
        joined = labels_for_window(session, model_id=version.model_id, model_version_id=version.id,
                                   start=T0, end=T0 + timedelta(days=1))
        history = label_history(session, model_id=version.model_id, prediction_id="p2")
    assert dict(zip(joined["prediction_id"], joined["label"], strict=True)) == {"p1": "0", "p2": "0", "p3": "1"}
    assert history[["old_label", "new_label"]].values.tolist() == [["1", "0"]]


def test_registry_is_idempotent_and_refuses_schema_change(engine) -> None:
    with transaction(engine) as session:
        model_id, change = ensure_model(session, name="m", task="regression", retrain_webhook=None)
        assert change == "created"
        assert ensure_model(session, name="m", task="regression", retrain_webhook=None) == (model_id, "unchanged")
        vid, change = ensure_version(session, model_id=model_id, version="1", column_schema=CREDIT_SCHEMA,
                                     status="active")
        assert change == "created"
        reordered = dict(reversed(list(CREDIT_SCHEMA.items())))
        assert ensure_version(session, model_id=model_id, version="1", column_schema=reordered,
                              status="active") == (vid, "unchanged")
        changed = {**CREDIT_SCHEMA, "features": {**CREDIT_SCHEMA["features"], "age": "categorical"}}
        with pytest.raises(SchemaError, match=r"age: numeric -> categorical.*new version"):
            ensure_version(session, model_id=model_id, version="1", column_schema=changed, status="active")
        reference = canonical_predictions(50)
        assert ensure_reference(session, model_version_id=vid, frame=reference, source="r.parquet") == "created"
        assert ensure_reference(session, model_version_id=vid, frame=reference, source="r.parquet") == "unchanged"
        with pytest.raises(SchemaError, match="replace-references"):
            ensure_reference(session, model_version_id=vid, frame=reference.iloc[:10], source="r2.parquet")
        assert len(load_reference(session, model_version_id=vid)) == 50
        args = {"name": "mon", "model_id": model_id, "kind": "data_drift", "schedule": "1h",
                "window_seconds": 86400, "settings": {"drift_share": 0.5}}
        assert ensure_monitor(session, **args)[1] == "created"
        assert ensure_monitor(session, **args)[1] == "unchanged"
        assert ensure_monitor(session, **{**args, "window_seconds": 3600})[1] == "updated"
        assert [v.version for v in list_versions(session, model="m")] == ["1"]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(split=st.lists(st.integers(0, 199), min_size=0, max_size=6))
def test_any_split_into_batches_stores_each_row_once(sqlite_url, split) -> None:
    from driftscope.storage.db import make_engine

    engine = make_engine(sqlite_url)
    version = register_version(engine, model=f"m-{uuid.uuid4().hex[:8]}")
    frame = canonical_predictions(200)
    cuts = sorted({0, 200, *split})
    total_stored = 0
    for _lo, hi in itertools.pairwise(cuts):
        with transaction(engine) as session:
            total_stored += write_predictions(session, model_version_id=version.id, frame=frame.iloc[:hi],
                                              source="t").stored
    with transaction(engine) as session:
        n = count_predictions(session, model_version_id=version.id, start=T0, end=T0 + timedelta(days=1))
    engine.dispose()
    assert n == 200 and total_stored == 200
