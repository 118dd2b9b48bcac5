"""Concept drift: calibration test, error-stream detectors, domain classifier and the monitor."""

import json

import numpy as np
import pandas as pd
import pytest
from helpers_monitor import FEATURES, credit_frame
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import chi2_contingency, norm
from sklearn.metrics import roc_auc_score

from driftscope.errors import NotFittedError, SchemaError
from driftscope.monitors import detectors
from driftscope.monitors.bootstrap import weight_blocks
from driftscope.monitors.concept_drift import DETECTORS, ConceptDriftMonitor, calibration_test
from driftscope.monitors.domain_classifier import DomainClassifier, delong_one_sided
from driftscope.monitors.metrics import weighted_roc_auc

TS = pd.Series(pd.date_range("2026-01-01", periods=3000, freq="min", tz="UTC"))


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return credit_frame(4000, seed=100)


@pytest.fixture(scope="module")
def fitted(reference: pd.DataFrame) -> ConceptDriftMonitor:
    return ConceptDriftMonitor("binary_classification", FEATURES, has_probability=True).fit(reference)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(5, 60), st.integers(0, 60), st.integers(5, 60), st.integers(0, 60)),
                min_size=1, max_size=6))
def test_calibration_statistic_is_the_sum_of_per_stratum_chi_square(strata: list[tuple[int, ...]]) -> None:
    reference = np.array([[a, b] for a, b, _, _ in strata])
    current = np.array([[c, d] for _, _, c, d in strata])
    statistic, df, shift = calibration_test(reference, current)
    expected_stat, expected_df = 0.0, 0
    for ref_row, cur_row in zip(reference, current, strict=True):
        table = np.array([ref_row, cur_row])
        table = table[:, table.sum(axis=0) > 0]
        if table.shape[1] > 1:
            stat, _, dof, _ = chi2_contingency(table, correction=False)
            expected_stat, expected_df = expected_stat + stat, expected_df + dof
    assert statistic == pytest.approx(expected_stat, abs=1e-9) and df == expected_df
    assert 0.0 <= shift <= 1.0


def test_calibration_skips_thin_strata() -> None:
    statistic, df, shift = calibration_test(np.array([[50, 50], [2, 1]]), np.array([[50, 50], [0, 4]]))
    assert (statistic, df, shift) == (0.0, 1, 0.0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_delong_auc_equals_sklearn_and_p_is_one_sided(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 600).astype(bool)
    a = rng.normal(size=600) + 0.3 * y
    b = a + 0.6 * y + rng.normal(scale=0.5, size=600)
    auc_a, auc_b, p = delong_one_sided(a, b, y)
    assert auc_a == pytest.approx(roc_auc_score(y, a)) and auc_b == pytest.approx(roc_auc_score(y, b))
    _, _, p_reverse = delong_one_sided(b, a, y)
    assert p < 0.001 and p + p_reverse == pytest.approx(1.0)


def test_delong_standard_error_matches_a_paired_bootstrap() -> None:
    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, 800).astype(bool)
    a, b = rng.normal(size=800) + 0.5 * y, rng.normal(size=800) + 0.6 * y
    auc_a, auc_b, p = delong_one_sided(a, b, y)
    standard_error = (auc_b - auc_a) / norm.isf(p)
    counts = np.vstack(list(weight_blocks(800, 2000, seed=6)))
    gaps = weighted_roc_auc(b, y.astype(float), counts) - weighted_roc_auc(a, y.astype(float), counts)
    assert standard_error == pytest.approx(np.std(gaps), rel=0.1)


def test_detectors_find_an_error_increase_at_the_right_time() -> None:
    rng = np.random.default_rng(7)
    reference = (rng.uniform(size=2000) < 0.15).astype(float)
    window = np.r_[rng.uniform(size=1500) < 0.15, rng.uniform(size=1500) < 0.45].astype(float)
    for name in ("adwin", "page_hinkley", "ddm"):
        found = detectors.detect(name, detectors.primed(name, reference), window, TS, reference[:1000].mean())
        assert found, name
        first = found[0]
        assert 1500 <= first.position < 1800 and first.increase, name
        assert first.detected_at == TS.iloc[first.position]
        assert first.event()["details"]["direction"] == "increase"


@pytest.mark.parametrize("name", ["adwin", "page_hinkley", "ddm"])
def test_detectors_stay_quiet_on_a_stable_stream(name: str) -> None:
    rng = np.random.default_rng(8)
    stream = (rng.uniform(size=5000) < 0.2).astype(float)
    primed = detectors.primed(name, stream[:1000])
    assert not [d for d in detectors.detect(name, primed, stream[1000:4000], TS, 0.2) if d.increase]


def test_priming_makes_a_level_shift_at_the_start_visible() -> None:
    rng = np.random.default_rng(9)
    reference = (rng.uniform(size=1000) < 0.1).astype(float)
    window = (rng.uniform(size=1000) < 0.5).astype(float)
    primed = detectors.detect("ddm", detectors.primed("ddm", reference), window, TS, 0.1)
    cold = detectors.detect("ddm", detectors.make("ddm"), window, TS, 0.1)
    assert primed and primed[0].position < 100 and not cold


@pytest.mark.parametrize(("kind", "flagged"), [("none", False), ("covariate", False), ("concept", True),
                                               ("performance", False)])
def test_domain_classifier_separates_concept_from_covariate_drift(reference: pd.DataFrame, kind: str,
                                                                  flagged: bool) -> None:
    result = DomainClassifier(FEATURES, regression=False).fit(reference).evaluate(credit_frame(2000, kind=kind,
                                                                                              seed=21))
    assert result.flagged is flagged
    assert (result.auc_features > 0.75) is (kind == "covariate")
    if flagged:
        assert result.gap > 0.05 and result.p_value < 1e-4


def test_domain_classifier_caps_rows_per_side(reference: pd.DataFrame) -> None:
    result = DomainClassifier(FEATURES, regression=False, max_rows=500).fit(reference).evaluate(credit_frame(900))
    assert (result.n_reference, result.n_current) == (500, 500)


@pytest.mark.parametrize(("kind", "concept", "fired"), [
    ("none", False, set()),
    ("covariate", False, set()),
    ("concept", True, {"domain_classifier"}),
    ("performance", False, {"calibration_drift"}),
])
def test_monitor_verdicts(fitted: ConceptDriftMonitor, kind: str, concept: bool, fired: set[str]) -> None:
    result = fitted.evaluate(credit_frame(2000, kind=kind, seed=31))
    assert result.concept_drift is concept
    symptoms = {"adwin", "page_hinkley", "ddm", "label_drift", "calibration_drift"}
    assert fired <= set(result.detectors_fired) <= fired | (symptoms if kind != "none" else set())
    assert result.summary() == {"concept_drift": concept, "detectors_fired": list(result.detectors_fired),
                                "label_coverage": 1.0}
    json.dumps([*result.metric_rows(), *[{**e, "detected_at": str(e["detected_at"])} for e in result.event_rows()]],
               allow_nan=False)


def test_label_drift_detects_a_prior_shift(fitted: ConceptDriftMonitor) -> None:
    window = credit_frame(2000, seed=41)
    window["label"] = (np.random.default_rng(1).uniform(size=2000) < 0.8).astype(int)
    result = fitted.evaluate(window)
    label = next(m for m in result.metrics if m.metric == "label_drift")
    assert label.flagged and label.details["method"] == "jensenshannon"


def test_rows_are_judged_in_time_order(fitted: ConceptDriftMonitor) -> None:
    early, late = credit_frame(1000, seed=51), credit_frame(1000, seed=52)
    late["ts"] = late["ts"] + pd.Timedelta(days=1)
    late["label"] = 1 - late["prediction"]  # every late prediction is wrong
    shuffled = pd.concat([early, late]).sample(frac=1.0, random_state=0)
    result = fitted.evaluate(shuffled)
    first = {e.detector: e for e in reversed(result.events)}
    assert set(first) == {"adwin", "page_hinkley", "ddm"}
    assert all(1000 <= e.position < 1300 and e.detected_at >= late["ts"].min() for e in first.values())


def test_below_min_labels_nothing_is_judged(fitted: ConceptDriftMonitor) -> None:
    window = credit_frame(500, kind="concept", seed=61)
    window.loc[window.index[50:], "label"] = np.nan
    result = fitted.evaluate(window)
    assert result.n_labels == 50 and result.label_coverage == pytest.approx(0.1)
    assert [m.status for m in result.metrics] == ["insufficient_labels"] * len(DETECTORS)
    assert not result.concept_drift and not result.events


def test_regression_task() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(6000, 2))
    y = 3 * x[:, 0] + rng.normal(0, 1, 6000)
    frame = pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "label": y, "prediction": 3 * x[:, 0],
                          "ts": pd.date_range("2026-01-01", periods=6000, freq="min", tz="UTC")})
    frame.loc[4000:, "label"] = 3 * x[4000:, 0] + 2.5 * x[4000:, 1] + rng.normal(0, 1, 2000)
    monitor = ConceptDriftMonitor("regression", {"a": "numeric", "b": "numeric"}).fit(frame.iloc[:3000])
    stable, drifted = monitor.evaluate(frame.iloc[3000:4000]), monitor.evaluate(frame.iloc[4000:])
    assert not stable.concept_drift and drifted.concept_drift
    assert {"adwin", "calibration_drift", "domain_classifier"} <= set(drifted.detectors_fired)


def test_errors(reference: pd.DataFrame) -> None:
    with pytest.raises(NotFittedError, match=r"call fit\(reference\) first"):
        ConceptDriftMonitor("binary_classification", FEATURES).evaluate(reference)
    with pytest.raises(SchemaError, match=r"lacks \['label'\]"):
        ConceptDriftMonitor("binary_classification", FEATURES).fit(reference.drop(columns="label"))
    with pytest.raises(SchemaError, match="unknown concept-drift detectors"):
        ConceptDriftMonitor("binary_classification", FEATURES, detectors=["adwinn"]).fit(reference)
