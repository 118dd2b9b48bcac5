"""Cross-check every method, the automatic choice and a DataDriftPreset run against Evidently.

Evidently's legacy stat tests are the reference implementation whose conventions we copy; these
tests run them on the same data and demand the same score and verdict.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from evidently import Report
from evidently.legacy.calculations.stattests import get_stattest
from evidently.legacy.calculations.stattests.registry import get_registered_stattest
from evidently.legacy.core import ColumnType
from evidently.metrics import ValueDrift
from evidently.presets import DataDriftPreset

from driftscope.monitors.stattests import drift_test, evaluate_columns, fit_reference, registry, select_method

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::RuntimeWarning")

EVIDENTLY_NAME = {"ztest": "z", "energy": "ed", "tvd": "TVD"}
OURS = {EVIDENTLY_NAME.get(name, name): name for name in registry.names()}
RNG = np.random.default_rng(11)
LABELS = np.array(["a", "b", "c", "d", "e"], dtype=object)

DATASETS: dict[str, tuple[str, pd.Series, pd.Series]] = {
    "continuous": ("numeric", pd.Series(RNG.normal(0, 1, 400)), pd.Series(RNG.normal(0.25, 1.1, 300))),
    "continuous_same": ("numeric", pd.Series(RNG.normal(0, 1, 500)), pd.Series(RNG.normal(0, 1, 500))),
    "small_exact": ("numeric", pd.Series(RNG.normal(0, 1, 12)), pd.Series(RNG.normal(1, 1, 15))),
    "integers_0_9": ("numeric", pd.Series(RNG.integers(0, 10, 500)), pd.Series(RNG.integers(2, 12, 400))),
    "integers_0_40": ("numeric", pd.Series(RNG.integers(0, 40, 800)), pd.Series(RNG.integers(0, 45, 600))),
    "labels_new_and_gone": (
        "categorical",
        pd.Series(RNG.choice(LABELS[:4], 400, p=[0.4, 0.3, 0.2, 0.1])),
        pd.Series(RNG.choice(LABELS[1:], 350, p=[0.25, 0.25, 0.25, 0.25])),
    ),
    "labels_close": ("categorical", pd.Series(RNG.choice(LABELS, 600)), pd.Series(RNG.choice(LABELS, 500))),
    "binary": ("categorical", pd.Series(RNG.choice(LABELS[:2], 300)), pd.Series(RNG.choice(LABELS[:2], 200))),
}
NUMERIC_ONLY = {"ks", "wasserstein", "anderson", "cramer_von_mises", "energy"}
CATEGORICAL_ONLY = {"tvd"}


def evidently_score(name: str, feature_type: str, reference: pd.Series, current: pd.Series) -> tuple:
    """Evidently's (drift score, verdict, threshold) for our method ``name``."""
    column_type = ColumnType.Numerical if feature_type == "numeric" else ColumnType.Categorical
    # Evidently registers chisquare, z and TVD for categorical columns only, but its automatic
    # choice applies chisquare and z to numeric columns: call them the same way.
    allowed = ColumnType.Categorical if name in {"chisquare", "ztest", "tvd"} else column_type
    test = get_registered_stattest(EVIDENTLY_NAME.get(name, name), allowed)
    result = test(reference.copy(), current.copy(), column_type, None)  # hellinger drops NaN in place
    return float(result.drift_score), bool(result.drifted), result.actual_threshold


def applicable(name: str, feature_type: str) -> bool:
    return not (
        (feature_type == "categorical" and name in NUMERIC_ONLY)
        or (feature_type == "numeric" and name in CATEGORICAL_ONLY)
    )


CASES = [
    pytest.param(name, dataset, id=f"{name}:{dataset}")
    for name in registry.names()
    for dataset, (feature_type, _, _) in DATASETS.items()
    if applicable(name, feature_type) and not (name == "tvd" and dataset == "labels_close")
]


@pytest.mark.parametrize(("name", "dataset"), CASES)
def test_same_score_and_verdict_as_evidently(name: str, dataset: str) -> None:
    feature_type, reference, current = DATASETS[dataset]
    expected, expected_drift, expected_threshold = evidently_score(name, feature_type, reference, current)
    result = drift_test(name, reference, current, feature_type=feature_type)
    score = result.p_value if registry.get(name).kind == "p_value" else result.statistic
    # Evidently's vendored exact Cramér-von Mises p-value (both samples <= 20) keeps its frequency
    # table in float32 (np.min_scalar_type of a float); scipy's is exact to double precision.
    tolerance = 1e-7 if (name, dataset) == ("cramer_von_mises", "small_exact") else 1e-9
    assert score == pytest.approx(expected, rel=tolerance, abs=1e-12)
    assert (result.drifted, result.threshold) == (expected_drift, expected_threshold)


def test_integer_histogram_width_floor_matches_evidently() -> None:
    # 21 distinct integers over 600k pooled rows: Sturges width < 1, which numpy floors to 1 for ints
    reference = pd.Series(RNG.integers(0, 21, 300_000))
    current = pd.Series(RNG.integers(1, 21, 300_000))
    expected, _, _ = evidently_score("psi", "numeric", reference, current)
    assert drift_test("psi", reference, current).statistic == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("name", ["psi", "wasserstein", "ks", "jensenshannon"])
def test_value_drift_metric_with_missing_and_infinite_values(name: str) -> None:
    reference = pd.DataFrame({"x": RNG.normal(0, 1, 400)})
    current = pd.DataFrame({"x": RNG.normal(0.3, 1, 300)})
    reference.loc[::17, "x"] = np.nan
    current.loc[::13, "x"] = np.inf
    snapshot = Report([ValueDrift(column="x", method=EVIDENTLY_NAME.get(name, name))]).run(current, reference)
    expected = float(snapshot.dict()["metrics"][0]["value"])
    result = drift_test(name, reference["x"], current["x"])
    score = result.p_value if registry.get(name).kind == "p_value" else result.statistic
    assert score == pytest.approx(expected, rel=1e-9)
    assert result.missing_share_current == pytest.approx(current["x"].isin([np.inf]).mean())


SELECTION_CASES = {
    "numeric_small_many_values": ("numeric", RNG.normal(0, 1, 500), RNG.normal(0, 1, 300)),
    "numeric_small_two_values": ("numeric", RNG.integers(0, 2, 500), RNG.integers(0, 2, 300)),
    "numeric_small_four_values": ("numeric", RNG.integers(0, 4, 500), RNG.integers(0, 4, 300)),
    "numeric_two_plus_new": ("numeric", RNG.integers(0, 2, 500), RNG.integers(0, 3, 300)),
    "numeric_large_many_values": ("numeric", RNG.normal(0, 1, 1500), RNG.normal(0, 1, 300)),
    "numeric_large_three_values": ("numeric", RNG.integers(0, 3, 1500), RNG.integers(0, 3, 300)),
    "numeric_boundary_1000": ("numeric", RNG.normal(0, 1, 1000), RNG.normal(0, 1, 300)),
    "categorical_small_binary": ("categorical", RNG.choice(LABELS[:2], 500), RNG.choice(LABELS[:2], 300)),
    "categorical_small_many": ("categorical", RNG.choice(LABELS, 500), RNG.choice(LABELS, 300)),
    "categorical_large_binary": ("categorical", RNG.choice(LABELS[:2], 1001), RNG.choice(LABELS[:2], 300)),
}


@pytest.mark.parametrize("case", SELECTION_CASES)
def test_automatic_selection_matches_evidently(case: str) -> None:
    feature_type, reference, current = SELECTION_CASES[case]
    column_type = ColumnType.Numerical if feature_type == "numeric" else ColumnType.Categorical
    expected = get_stattest(pd.Series(reference), pd.Series(current), column_type, None).name
    assert select_method(feature_type, reference, current) == OURS[expected]


def test_data_drift_preset_runs_and_agrees_with_the_batch_path() -> None:
    size = 1200
    reference = pd.DataFrame(
        {"x": RNG.normal(0, 1, size), "y": RNG.normal(0, 1, size), "c": RNG.choice(LABELS, size)}
    )
    current = pd.DataFrame(
        {"x": RNG.normal(0.5, 1, 800), "y": RNG.normal(0, 1, 800), "c": RNG.choice(LABELS[:3], 800)}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        snapshot = Report([DataDriftPreset()]).run(current, reference).dict()
    metrics = snapshot["metrics"]
    evidently_values = {m["config"]["column"]: m["value"] for m in metrics if "column" in m["config"]}
    drift_count = next(m["value"]["count"] for m in metrics if "drift_share" in m["config"])
    profile = fit_reference(reference, {"x": "numeric", "y": "numeric", "c": "categorical"})
    results = {r.column: r for r in evaluate_columns(profile, current)}
    assert {name: r.method for name, r in results.items()} == {
        "x": "wasserstein",
        "y": "wasserstein",
        "c": "jensenshannon",
    }
    for name, result in results.items():
        assert result.statistic == pytest.approx(evidently_values[name], rel=1e-9)
    assert sum(r.drifted for r in results.values()) == drift_count
