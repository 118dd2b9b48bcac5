"""DataDriftMonitor: per-feature tests, dataset and prediction drift, quality figures, histograms."""

import json

import numpy as np
import pandas as pd
import pytest
from helpers_monitor import FEATURES, credit_frame
from hypothesis import given, settings
from hypothesis import strategies as st

from driftscope.errors import NotFittedError, SchemaError
from driftscope.monitors.data_drift import HISTOGRAM_BINS, TOP_CATEGORIES, DataDriftMonitor, numeric_quality
from driftscope.monitors.stattests import drift_test

OUTPUTS = {"prediction": "binary", "probability": "numeric"}


@pytest.fixture(scope="module")
def fitted() -> DataDriftMonitor:
    return DataDriftMonitor(FEATURES, prediction_types=OUTPUTS).fit(credit_frame(3000, seed=100))


def test_each_column_equals_the_stattest_on_that_column(fitted: DataDriftMonitor) -> None:
    reference = credit_frame(3000, seed=100)
    window = credit_frame(800, kind="covariate", seed=2)
    result = fitted.evaluate(window)
    for column in result.columns:
        feature_type = {**FEATURES, **OUTPUTS}[column.column]
        expected = drift_test(column.test.method, reference[column.column], window[column.column],
                              feature_type=feature_type)
        assert (column.test.statistic, column.test.p_value, column.test.drifted) == pytest.approx(
            (expected.statistic, expected.p_value, expected.drifted))


@pytest.mark.parametrize(("kind", "dataset_drift", "drifted"), [
    ("none", False, set()),
    ("covariate", True, {"income", "age", "debt_ratio"}),
    ("concept", False, set()),
])
def test_dataset_drift_follows_the_injected_change(fitted: DataDriftMonitor, kind: str, dataset_drift: bool,
                                                   drifted: set[str]) -> None:
    result = fitted.evaluate(credit_frame(2000, kind=kind, seed=3))
    assert result.dataset_drift is dataset_drift
    assert {c.column for c in result.columns if c.role == "feature" and c.test.drifted} == drifted
    assert result.n_features == 5 and result.drifted_share == pytest.approx(len(drifted) / 5)
    assert result.prediction_drift is False
    assert [c.column for c in result.columns if c.role == "prediction"] == ["prediction", "probability"]


@pytest.mark.parametrize(("share", "expected"), [(0.6, True), (0.61, False)])
def test_dataset_drift_is_share_at_or_above_drift_share(share: float, expected: bool) -> None:
    monitor = DataDriftMonitor(FEATURES, drift_share=share).fit(credit_frame(3000, seed=100))
    result = monitor.evaluate(credit_frame(2000, kind="covariate", seed=3))
    assert result.drifted_share == pytest.approx(0.6) and result.dataset_drift is expected
    assert result.summary() == {"dataset_drift": expected, "drifted_share": pytest.approx(0.6), "n_drifted": 3,
                                "n_features": 5, "drift_share": share, "prediction_drift": None,
                                "thresholds": "fixed", "false_alarm_rate": None, "fdr": None}


def test_configured_methods_and_thresholds_are_used() -> None:
    monitor = DataDriftMonitor(FEATURES, methods={"income": "psi", "region": "jensenshannon"},
                               thresholds={"income": 5.0}).fit(credit_frame(3000, seed=100))
    result = monitor.evaluate(credit_frame(2000, kind="covariate", seed=3))
    income, region = result.column("income").test, result.column("region").test
    assert (income.method, income.threshold, income.drifted) == ("psi", 5.0, False)
    assert (region.method, region.threshold) == ("jensenshannon", 0.1)


def test_quality_figures_on_known_inputs() -> None:
    reference = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0, 4.0], "c": ["a", "b", "a", "b", "a"]})
    window = pd.DataFrame({"x": [-1.0, 2.0, np.nan, 9.0], "c": ["a", "z", "z", None]})
    result = DataDriftMonitor({"x": "numeric", "c": "categorical"}).fit(reference).evaluate(window)
    x, c = result.column("x"), result.column("c")
    assert x.out_of_range_share == pytest.approx(2 / 3) and x.test.missing_share_current == 0.25
    assert c.out_of_range_share == pytest.approx(2 / 3) and c.test.new_categories == ("z",)
    assert x.histogram["edges"][0] == -1.0 and x.histogram["edges"][-1] == 9.0
    assert sum(x.histogram["reference"]) == 5 and sum(x.histogram["current"]) == 3
    # ranked by reference share + current share: a 3/5 + 1/3, z 0 + 2/3, b 2/5 + 0
    assert c.histogram == {"type": "categorical", "categories": ["a", "z", "b"], "reference": [3, 0, 2],
                           "current": [1, 2, 0], "other_reference": 0, "other_current": 0}


def test_many_categories_keep_the_top_ones_and_sum_the_rest() -> None:
    rng = np.random.default_rng(0)
    reference = pd.DataFrame({"c": rng.choice([f"k{i}" for i in range(40)], 4000)})
    window = pd.DataFrame({"c": rng.choice([f"k{i}" for i in range(45)], 3000)})
    hist = DataDriftMonitor({"c": "categorical"}).fit(reference).evaluate(window).column("c").histogram
    assert len(hist["categories"]) == TOP_CATEGORIES
    assert sum(hist["reference"]) + hist["other_reference"] == 4000
    assert sum(hist["current"]) + hist["other_current"] == 3000


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=60), st.lists(st.floats(-1e6, 1e6), max_size=60))
def test_numeric_histogram_counts_every_value_once(reference: list[float], current: list[float]) -> None:
    ref, cur = np.sort(np.array(reference)), np.sort(np.array(current))
    share, hist = numeric_quality(ref, cur)
    assert len(hist["edges"]) <= HISTOGRAM_BINS + 1
    assert sum(hist["reference"]) == ref.size and sum(hist["current"]) == cur.size
    if cur.size:
        outside = np.count_nonzero((cur < ref.min()) | (cur > ref.max()))
        assert share == pytest.approx(outside / cur.size)
    else:
        assert share is None


def test_a_missing_column_counts_as_all_missing(fitted: DataDriftMonitor) -> None:
    window = credit_frame(300, seed=4).drop(columns=["region", "probability"])
    result = fitted.evaluate(window)
    region = result.column("region").test
    assert (region.status, region.missing_share_current, region.drifted) == ("no_data", 1.0, False)
    assert result.n_features == 4


def test_an_empty_window_has_no_verdict(fitted: DataDriftMonitor) -> None:
    result = fitted.evaluate(pd.DataFrame())
    assert (result.dataset_drift, result.n_features, result.prediction_drift, result.n_rows) == (False, 0, None, 0)
    json.dumps(result.drift_rows())


def test_rows_are_json_safe_and_complete(fitted: DataDriftMonitor) -> None:
    rows = fitted.evaluate(credit_frame(500, kind="covariate", seed=6)).drift_rows()
    assert {r["feature"]: r["role"] for r in rows}["probability"] == "prediction"
    assert set(rows[0]) == {"feature", "role", "feature_type", "method", "status", "statistic", "p_value", "threshold",
                            "drifted", "missing_share_reference", "missing_share_current", "out_of_range_share",
                            "new_categories", "histogram", "threshold_mode", "q_value", "effect_size",
                            "effect_size_kind", "path", "error_bound"}
    json.dumps(rows, allow_nan=False)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_the_reference_against_itself_shows_no_drift(seed: int) -> None:
    frame = credit_frame(400, seed=seed)
    result = DataDriftMonitor(FEATURES, prediction_types=OUTPUTS).fit(frame).evaluate(frame)
    assert not any(c.test.drifted for c in result.columns)
    assert all(c.out_of_range_share == 0.0 for c in result.columns)


def test_errors() -> None:
    with pytest.raises(NotFittedError, match=r"call fit\(reference\) first"):
        DataDriftMonitor(FEATURES).evaluate(credit_frame(5))
    with pytest.raises(SchemaError, match=r"lacks feature columns \['age'\]"):
        DataDriftMonitor(FEATURES).fit(credit_frame(5).drop(columns="age"))


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_dataset_drift_agrees_with_evidently() -> None:
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    reference, window = credit_frame(3000, seed=100), credit_frame(1500, kind="covariate", seed=12)
    columns = list(FEATURES)
    categorical = ["region", "has_card"]
    definition = DataDefinition(numerical_columns=["income", "age", "debt_ratio"], categorical_columns=categorical)
    snapshot = Report([DataDriftPreset(columns=columns)]).run(
        Dataset.from_pandas(window[columns], data_definition=definition),
        Dataset.from_pandas(reference[columns], data_definition=definition),
    )
    metrics = snapshot.dict()["metrics"]
    ours = DataDriftMonitor(FEATURES).fit(reference).evaluate(window)
    assert metrics[0]["value"]["share"] == pytest.approx(ours.drifted_share)
    by_column = {m["config"]["column"]: m["value"] for m in metrics[1:]}
    for column in ours.columns:
        assert by_column[column.column] == pytest.approx(column.test.p_value or column.test.statistic, rel=1e-6)


@pytest.mark.parametrize(("methods", "thresholds", "message"), [
    ({"region": "ks"}, {}, r"tests.region: method 'ks' does not apply to a categorical column"),
    ({"income": "kstest"}, {}, r"tests.income: unknown drift method 'kstest'; valid methods are: anderson"),
    ({"income": "ks"}, {"income": 2.0}, r"tests.income: threshold for drift method 'ks' must be in \[0, 1\]"),
    ({"salary": "psi"}, {}, r"tests.salary: not a monitored column"),
], ids=["wrong-type", "unknown", "bad-threshold", "unknown-column"])
def test_impossible_column_tests_are_refused_at_fit(methods: dict, thresholds: dict, message: str) -> None:
    with pytest.raises(SchemaError, match=message):
        DataDriftMonitor(FEATURES, methods=methods, thresholds=thresholds).fit(credit_frame(50))
