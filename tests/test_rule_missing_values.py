"""The ``missing_values`` rule: a feature's missing share rising above its reference share."""

from datetime import timedelta

import pandas as pd
import pytest
from factories import T0
from hypothesis import given
from hypothesis import strategies as st

from driftscope.alerting.rules import CHECKS, RunResults
from driftscope.config import RuleConfig
from driftscope.storage.results import RunInfo


def _run(status: str = "succeeded") -> RunInfo:
    return RunInfo(id=1, monitor_id=1, monitor="m", kind="data_drift", model_version_id=1, window_start=T0,
                   window_end=T0 + timedelta(days=1), status=status, n_rows=100, n_reference=100, n_labels=0)


def _results(shares: dict[str, tuple[float, float]]) -> RunResults:
    drift = pd.DataFrame([
        {"feature": f, "role": "feature", "missing_share_reference": ref, "missing_share_current": cur}
        for f, (ref, cur) in shares.items()
    ])
    return RunResults(drift, pd.DataFrame(), pd.DataFrame(columns=["detector", "detected_at", "details"]))


def _rule(**options) -> RuleConfig:
    return RuleConfig(name="r", when="missing_values", monitor="m", **options)


def test_fires_on_the_feature_whose_share_rose_most() -> None:
    results = _results({"sqft": (0.0, 0.3), "rooms": (0.02, 0.14), "city": (0.0, 0.05)})
    finding = CHECKS["missing_values"](_rule(), _run(), results)
    assert finding.fired
    assert [f["feature"] for f in finding.evidence["features"]] == ["sqft", "rooms"]
    assert finding.title == "missing values: sqft missing in 30% of rows (reference 0%) and 1 more features"


@pytest.mark.parametrize(("value", "feature", "fired"), [(0.5, None, False), (0.1, "city", False),
                                                         (0.1, "sqft", True), (None, None, True)])
def test_margin_and_feature_filter(value, feature, fired) -> None:
    results = _results({"sqft": (0.0, 0.3), "city": (0.0, 0.05)})
    assert CHECKS["missing_values"](_rule(value=value, feature=feature), _run(), results).fired is fired


def test_failed_run_gives_no_verdict() -> None:
    assert CHECKS["missing_values"](_rule(), _run("failed"), _results({"sqft": (0.0, 0.9)})) is None


@given(ref=st.floats(0, 1), cur=st.floats(0, 1), margin=st.floats(0.01, 1))
def test_fires_exactly_when_the_rise_reaches_the_margin(ref, cur, margin) -> None:
    finding = CHECKS["missing_values"](_rule(value=margin), _run(), _results({"x": (ref, cur)}))
    assert finding.fired is (cur - ref >= margin)
