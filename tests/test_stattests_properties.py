"""Hypothesis properties of the drift tests and of the batch path."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from driftscope.monitors.stattests import (
    DriftTestResult,
    drift_test,
    evaluate_columns,
    fit_reference,
    registry,
    select_method,
)
from driftscope.monitors.stattests.binning import histogram_edges

SETTINGS = settings(max_examples=40, deadline=None)
FAST = [name for name in registry.names() if name != "tvd"]  # tvd runs 1000 permutations

finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
grid = st.integers(-30, 30).map(float)  # ties and few distinct values
numbers = st.lists(st.one_of(finite, grid), min_size=2, max_size=60)
labels = st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), min_size=1, max_size=60)


def types_of(name: str) -> list[str]:
    return sorted(registry.get(name).feature_types & {"numeric", "categorical"})


def sample(draw: st.DrawFn, feature_type: str) -> list:
    return draw(numbers if feature_type == "numeric" else labels)


@st.composite
def cases(draw: st.DrawFn, names: list[str]) -> tuple[str, str, list, list]:
    name = draw(st.sampled_from(names))
    feature_type = draw(st.sampled_from(types_of(name)))
    return name, feature_type, sample(draw, feature_type), sample(draw, feature_type)


@SETTINGS
@given(cases(FAST))
def test_p_values_in_unit_interval_and_distances_non_negative(case: tuple) -> None:
    name, feature_type, reference, current = case
    result = drift_test(name, reference, current, feature_type=feature_type)
    if registry.get(name).kind == "p_value":
        assert 0.0 <= result.p_value <= 1.0
    else:
        assert result.p_value is None and result.statistic >= 0.0


SYMMETRIC = {
    "numeric": ["energy", "hellinger", "ks", "cramer_von_mises"],
    "categorical": ["hellinger", "jensenshannon", "psi", "ztest"],
}


@SETTINGS
@given(st.data())
def test_symmetric_measures(data: st.DataObject) -> None:
    feature_type = data.draw(st.sampled_from(sorted(SYMMETRIC)))
    name = data.draw(st.sampled_from(SYMMETRIC[feature_type]))
    a, b = sample(data.draw, feature_type), sample(data.draw, feature_type)
    forward = drift_test(name, a, b, feature_type=feature_type)
    backward = drift_test(name, b, a, feature_type=feature_type)
    assert abs(backward.statistic) == pytest.approx(abs(forward.statistic), rel=1e-9, abs=1e-12)
    if forward.p_value is not None:
        assert backward.p_value == pytest.approx(forward.p_value, rel=1e-9, abs=1e-12)


@settings(max_examples=15, deadline=None)
@given(labels, labels)
def test_tvd_statistic_is_symmetric(a: list, b: list) -> None:
    forward = drift_test("tvd", a, b, feature_type="categorical", n_permutations=20)
    backward = drift_test("tvd", b, a, feature_type="categorical", n_permutations=20)
    assert forward.statistic == pytest.approx(backward.statistic, abs=1e-12)


@SETTINGS
@given(cases(FAST), st.randoms(use_true_random=False))
def test_invariant_to_row_order(case: tuple, random) -> None:
    name, feature_type, reference, current = case
    result = drift_test(name, reference, current, feature_type=feature_type)
    reference_shuffled = random.sample(reference, len(reference))
    current_shuffled = random.sample(current, len(current))
    shuffled = drift_test(name, reference_shuffled, current_shuffled, feature_type=feature_type)
    assert shuffled.statistic == pytest.approx(result.statistic, rel=1e-9, abs=1e-12)
    assert shuffled.p_value == (None if result.p_value is None else pytest.approx(result.p_value, abs=1e-12))


@SETTINGS
@given(cases([name for name in registry.names() if registry.get(name).kind == "distance"]))
def test_distances_are_zero_for_identical_samples(case: tuple) -> None:
    name, feature_type, reference, _ = case
    result = drift_test(name, reference, list(reference), feature_type=feature_type)
    assert result.statistic == pytest.approx(0.0, abs=1e-7)  # hellinger: sqrt of a rounding error
    assert not result.drifted


@SETTINGS
@given(st.lists(st.one_of(finite, grid), min_size=1, max_size=80), st.booleans())
def test_histogram_edges_equal_numpy(values: list, integer: bool) -> None:
    data = np.array([round(v) for v in values], dtype=np.int64) if integer else np.array(values)
    expected = np.histogram_bin_edges(data, bins="sturges")
    edges = histogram_edges(float(data.min()), float(data.max()), data.size, "sturges", integer)
    np.testing.assert_array_equal(edges, expected)


columns = st.lists(st.one_of(finite, grid, st.just(float("nan"))), min_size=0, max_size=40)
label_columns = st.lists(st.one_of(st.sampled_from(["a", "b", "c", "z"]), st.none()), min_size=0, max_size=40)


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_batch_path_equals_per_column_path(data: st.DataObject) -> None:
    feature_types = {"x": "numeric", "y": "numeric", "c": "categorical", "b": "binary"}
    draw_column = {"numeric": columns, "categorical": label_columns, "binary": label_columns}
    reference = {name: data.draw(draw_column[ft]) for name, ft in feature_types.items()}
    windows = [{name: data.draw(draw_column[ft]) for name, ft in feature_types.items()} for _ in range(2)]
    methods = {"y": data.draw(st.sampled_from(FAST))}
    if "numeric" not in registry.get(methods["y"]).feature_types:
        methods = {}
    as_series = {name: pd.Series(values, dtype=object) for name, values in reference.items()}
    profile = fit_reference(as_series, feature_types)
    for window in windows:
        results = evaluate_columns(profile, window, methods)
        for result, (name, ft) in zip(results, feature_types.items(), strict=True):
            method = methods.get(name) or select_method(ft, reference[name], window[name])
            expected = drift_test(method, reference[name], window[name], feature_type=ft)
            assert result.column == name
            _assert_same(result, expected)


def _assert_same(result: DriftTestResult, expected: DriftTestResult) -> None:
    fields = ("method", "status", "drifted", "threshold", "new_categories", "n_reference", "n_current")
    assert [getattr(result, f) for f in fields] == [getattr(expected, f) for f in fields]
    for f in ("statistic", "p_value", "missing_share_reference", "missing_share_current"):
        a, b = getattr(result, f), getattr(expected, f)
        assert (a is None and b is None) or a == pytest.approx(b, rel=1e-9, abs=1e-9, nan_ok=True)
