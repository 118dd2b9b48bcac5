"""One contract battery over every registered drift method, ids like ``"psi:handles_nan"``.

In the manner of river's ``yield_checks`` / scikit-learn's ``parametrize_with_checks``: each check
runs once per method and per feature type the method accepts.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from driftscope.monitors.stattests import drift_test, registry
from driftscope.monitors.stattests.base import FEATURE_TYPES, StatTest

Check = Callable[[StatTest, str], None]
CHECKS: dict[str, Check] = {}


def check(function: Check) -> Check:
    CHECKS[function.__name__.removeprefix("check_")] = function
    return function


def samples(test: StatTest, feature_type: str, shifted: bool, size: int = 300) -> np.ndarray:
    """Reference-like data, or clearly shifted data, suited to the method and feature type."""
    rng = np.random.default_rng(7 if shifted else 3)
    if feature_type == "numeric" and test.name != "ztest":
        return rng.normal(3.0 if shifted else 0.0, 1.0, size)
    if feature_type == "numeric":
        return rng.binomial(1, 0.8 if shifted else 0.2, size).astype(float)
    labels = ["no", "yes"] if feature_type == "binary" else ["a", "b", "c", "d"]
    weights = np.array([8, 2] if feature_type == "binary" else [4, 3, 2, 1], dtype=float)
    weights = weights[::-1] if shifted else weights
    return rng.choice(np.array(labels, dtype=object), size=size, p=weights / weights.sum())


def run(test: StatTest, feature_type: str, reference: object, current: object):
    return drift_test(test.name, reference, current, feature_type=feature_type)


@check
def check_identical_no_drift(test: StatTest, feature_type: str) -> None:
    data = samples(test, feature_type, shifted=False)
    result = run(test, feature_type, data, data.copy())
    assert result.status == "ok"
    assert not result.drifted
    if test.kind == "distance":
        assert result.statistic == pytest.approx(0.0, abs=1e-7)


@check
def check_shifted_drift(test: StatTest, feature_type: str) -> None:
    reference, current = samples(test, feature_type, False), samples(test, feature_type, True)
    assert run(test, feature_type, reference, current).drifted


@check
def check_handles_nan(test: StatTest, feature_type: str) -> None:
    reference, current = samples(test, feature_type, False), samples(test, feature_type, True)
    with_gaps = np.concatenate([reference, [np.nan, None]]).astype(object)
    current_gaps = pd.Series(np.concatenate([[pd.NA], current]), dtype=object)
    result = run(test, feature_type, with_gaps, current_gaps)
    clean = run(test, feature_type, reference, current)
    assert result.missing_share_reference == pytest.approx(2 / (reference.size + 2))
    assert result.missing_share_current == pytest.approx(1 / (current.size + 1))
    assert (result.n_reference, result.n_current) == (reference.size, current.size)
    assert (result.statistic, result.p_value) == (clean.statistic, clean.p_value)
    assert result.drifted == clean.drifted


@check
def check_no_data(test: StatTest, feature_type: str) -> None:
    data = samples(test, feature_type, False)
    for reference, current in ((data[:0], data), (data, [None, None])):
        result = run(test, feature_type, reference, current)
        assert (result.status, result.drifted) == ("no_data", False)
        assert (result.statistic, result.p_value) == (None, None)


@check
def check_default_threshold(test: StatTest, feature_type: str) -> None:
    data = samples(test, feature_type, False)
    assert run(test, feature_type, data, data).threshold == test.default_threshold


@check
def check_score_kind(test: StatTest, feature_type: str) -> None:
    result = run(test, feature_type, samples(test, feature_type, False), samples(test, feature_type, True))
    if test.kind == "p_value":
        assert result.p_value is not None and 0.0 <= result.p_value <= 1.0
    else:
        assert result.p_value is None and result.statistic >= 0.0


@check
def check_threshold_decides_verdict(test: StatTest, feature_type: str) -> None:
    reference, current = samples(test, feature_type, False), samples(test, feature_type, True)
    score = run(test, feature_type, reference, current)
    value = score.p_value if test.kind == "p_value" else score.statistic
    at_score = drift_test(test.name, reference, current, feature_type=feature_type, threshold=value)
    assert at_score.drifted is (test.rule in ("<=", ">="))


@check
def check_refuses_other_feature_types(test: StatTest, feature_type: str) -> None:
    data = samples(test, feature_type, False)
    for other in sorted(set(FEATURE_TYPES) - test.feature_types):
        with pytest.raises(ValueError, match=f"'{test.name}' does not support feature_type='{other}'"):
            run(test, other, data, data)


@check
def check_docstring_states_convention(test: StatTest, feature_type: str) -> None:
    doc = " ".join(test.doc.split())
    assert f"threshold {test.default_threshold}" in doc or f"threshold **{test.default_threshold}**" in doc
    verdict = "p_value" if test.kind == "p_value" else "statistic"
    assert f"``{verdict} {test.rule} threshold``" in doc
    assert "Evidently" in doc and "Examples" in doc


CASES = [
    pytest.param(name, feature_type, check_name, id=f"{name}:{check_name}:{feature_type}")
    for name in registry.names()
    for check_name in CHECKS
    for feature_type in sorted(registry.get(name).feature_types)
]


@pytest.mark.parametrize(("name", "feature_type", "check_name"), CASES)
def test_contract(name: str, feature_type: str, check_name: str) -> None:
    CHECKS[check_name](registry.get(name), feature_type)
