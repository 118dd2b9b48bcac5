"""Validation properties: malformed rows never pass, valid rows always do, and no row is lost.

Each generated cell is drawn with a verdict known by construction (``"0.5"`` is a fine score,
``1.5`` is not), so the expected fate of every row is the conjunction of its cells' verdicts: an
oracle independent of the vectorised code under test.
"""

import uuid
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from helpers_collect import MODEL, SCHEMA, log_rows, quarantined, setup
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from driftscope.collectors import log_ground_truth, log_predictions
from driftscope.collectors.target import Target, VersionPlan
from driftscope.collectors.validate import validate_batch
from driftscope.errors import SchemaError
from driftscope.storage.db import make_engine, transaction
from driftscope.storage.registry import list_versions

NOW = datetime(2026, 3, 1, tzinfo=UTC)
CELLS: dict[str, list[tuple[object, bool]]] = {
    "request_id": [("a", True), ("b-2", True), (17, True), ("", False), (None, False), (pd.NA, False),
                   ("x" * 201, False)],
    "ts": [("2026-01-02T03:04:05Z", True), ("2026-01-02 03:04:05+01:00", True), (1767225600, True),
           ("garbage", False), ("", False), (None, False)],
    "predicted_label": [(0, True), (1, True), ("1", True), (1.0, True), (0.5, False), ("yes", False),
                        (None, False)],
    "score": [(0.25, True), ("0.5", True), (1, True), (1.5, False), (-0.1, False), ("abc", False),
              (None, False), (float("nan"), False), (float("inf"), False)],
    "income": [(1.5, True), ("12.5", True), (None, True), (float("nan"), True), (pd.NA, True), ("", True),
               ("abc", False), (float("-inf"), False)],
    "age": [(30, True), (41.0, True), (None, True), ("old", False)],
    "region": [("north", True), ("atlantis", True), (None, True), (7, True)],
    "has_card": [(0, True), (1, True), ("true", True), ("no", True), (None, True), ("maybe", False), (2, False)],
}
PLAN = VersionPlan(1, "1.0", SCHEMA, prediction_kind="int", label_kind="int",
                   categories={"region": pd.Index(["north", "south", "east"])})
TARGET = Target(source="t", records="predictions", model=MODEL, model_id=1, versions={"1.0": PLAN},
                default_version="1.0", version_column=None, mapping={})


def as_csv_text(value: object) -> str | None:
    """What a CSV reader hands over: text, or null for an empty field (pandas writes NaN as empty)."""
    return None if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)) else str(value)


@st.composite
def batches(draw: st.DrawFn, max_rows: int = 40) -> tuple[pd.DataFrame, np.ndarray]:
    """A raw batch (columns of one type, of mixed types, Arrow-backed CSV text, or a categorical feature as a
    categorical) and which rows must pass."""
    n = draw(st.integers(0, max_rows))
    columns, verdicts = {}, np.ones(n, dtype=bool)
    for name, cells in CELLS.items():
        mode = draw(st.sampled_from(["uniform", "mixed", "csv"] + (["dictionary"] if name == "region" else [])))
        pool = [c for c in cells if mode != "uniform" or type(c[0]) is type(cells[0][0])]
        picks = draw(st.lists(st.sampled_from(pool), min_size=n, max_size=n))
        values = [value for value, _ in picks]
        if mode == "dictionary":  # a Parquet text column read from its dictionary pages (Target.dictionary_columns)
            columns[name] = pd.Series([as_csv_text(v) for v in values], dtype="category")
        elif mode == "csv":
            columns[name] = pd.Series([as_csv_text(v) for v in values], dtype=pd.StringDtype("pyarrow"))
        else:
            columns[name] = pd.Series(values, dtype=None if mode == "uniform" else object)
        verdicts &= np.array([ok for _, ok in picks], dtype=bool)
    return pd.DataFrame(columns, index=pd.RangeIndex(n)), verdicts


@settings(max_examples=100, deadline=None)
@given(batches())
def test_exactly_the_valid_rows_pass_and_none_is_lost(batch) -> None:
    frame, expected = batch
    validated = validate_batch(frame, TARGET, origin="test", now=NOW)

    conflicts = validated.conflict_positions
    assert validated.n_valid + len(validated.bad_positions) + len(conflicts) == len(frame)
    passed = np.ones(len(frame), dtype=bool)
    passed[validated.bad_positions] = False
    assert passed.tolist() == expected.tolist()
    ids = frame["request_id"].astype(str).to_numpy()
    assert all(expected[c] and (ids[:c][expected[:c]] == ids[c]).any() for c in conflicts)
    assert all(isinstance(r, str) and r for r in validated.bad_reasons)
    if validated.n_valid:
        [rows] = validated.predictions
        out = rows.frame
        assert out["prediction_id"].map(type).eq(str).all()
        assert out["probability"].between(0, 1).all() and out["prediction"].dtype == np.int64
        assert str(out["ts"].dtype) == "datetime64[ns, UTC]" and out["ts"].notna().all()
        assert out["has_card"].dropna().isin([0.0, 1.0]).all()
        unseen = ~out["region"].isin(["north", "south", "east"]) & out["region"].notna()
        assert rows.new_categories.tolist() == unseen.tolist()


def test_each_problem_is_named_in_the_reason() -> None:
    frame = pd.DataFrame({
        "request_id": ["", "ok"], "ts": ["garbage", "2026-01-01"], "predicted_label": [1, "yes"],
        "score": [0.5, 2.0], "income": ["abc", 1.0], "age": [1, 2], "region": ["a", "b"], "has_card": [1, 9],
    })
    validated = validate_batch(frame, TARGET, origin="test", now=NOW)
    assert validated.bad_reasons.tolist() == [
        "request_id: missing id; ts: not a timestamp (ISO 8601 such as 2026-01-01T12:00:00Z, or Unix seconds); "
        "income: not a finite number",
        "predicted_label: not an integer class label; score: not a number in [0, 1]; "
        "has_card: not binary (0/1, true/false, yes/no)",
    ]


def test_a_missing_column_fails_the_batch_naming_it_and_the_source() -> None:
    frame = pd.DataFrame({name: [cells[0][0]] for name, cells in CELLS.items()}).drop(columns=["age"])
    target = Target(**{**TARGET.__dict__, "mapping": {"income": "salary"}})
    with pytest.raises(SchemaError, match=r"source 't', file x.csv: missing required columns income \(source "
                                          r"column 'salary'\), age"):
        validate_batch(frame, target, origin="file x.csv", now=NOW)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=batches(max_rows=25), labels=st.lists(st.sampled_from([0, 1, "1", None, "x", 0.5]), max_size=15))
def test_the_python_api_keeps_the_row_count_identity_in_the_store(sqlite_url, tmp_path_factory, batch, labels) -> None:
    frame, expected = batch
    engine = make_engine(sqlite_url)
    try:
        if MODEL not in _models(engine):
            setup(tmp_path_factory.mktemp("cfg"), engine, [])
        prefix = uuid.uuid4().hex[:6]
        frame = frame.assign(request_id=frame["request_id"].map(lambda v: f"{prefix}{v}" if isinstance(v, str) and v
                                                                else v))
        before = len(quarantined(engine))
        summary = log_predictions(MODEL, "1.0", frame, engine=engine)
        truth = log_ground_truth(MODEL, pd.DataFrame({"request_id": [f"{prefix}{i}" for i in range(len(labels))],
                                                      "defaulted": pd.Series(labels, dtype=object)}), engine=engine)
        after = len(quarantined(engine))
    finally:
        engine.dispose()
    for outcome in (summary, truth):  # a conflicting duplicate (an id again with other content) is kept aside
        assert outcome.rows_read == (outcome.rows_stored + outcome.rows_duplicate + outcome.rows_conflict
                                     + outcome.rows_quarantined)
    assert summary.rows_read == len(frame)
    assert summary.rows_stored + summary.rows_duplicate + summary.rows_conflict == int(expected.sum())
    assert after - before == summary.rows_quarantined + summary.rows_conflict + truth.rows_quarantined
    assert truth.rows_quarantined == sum(v in (None, "x", 0.5) for v in labels)


def _models(engine) -> set[str]:
    with transaction(engine) as session:
        return {v.model for v in list_versions(session)}


def test_an_id_twice_with_other_content_in_one_call_is_a_conflict_kept_aside(sqlite_engine, tmp_path) -> None:
    setup(tmp_path, sqlite_engine, [])
    rows = log_rows(2).assign(request_id="a", has_card=[0, 1])
    summary = log_predictions(MODEL, "1.0", rows, engine=sqlite_engine)
    assert (summary.rows_read, summary.rows_stored, summary.rows_conflict, summary.rows_quarantined) == (2, 1, 1, 0)
    [reason] = quarantined(sqlite_engine)["reason"].tolist()
    assert "conflicting duplicate" in reason


@pytest.mark.parametrize(("change", "expected"), [
    ({}, {"region"}),
    ({"version_column": "region"}, set()),
    ({"mapping": {"region": "predicted_label"}}, set()),
    ({"records": "ground_truth"}, set()),
    ({"versions": {"1.0": PLAN, "2.0": VersionPlan(2, "2.0", {**SCHEMA, "features": {"region": "numeric"}},
                                                     prediction_kind="int", label_kind="int", categories={})}}, set()),
])
def test_only_columns_that_are_categorical_features_alone_are_read_as_dictionaries(change, expected) -> None:
    from dataclasses import replace

    assert replace(TARGET, **change).dictionary_columns == expected
