"""Calibrated performance drops: the reference's metric at the window's label count is the null."""

import numpy as np
import pandas as pd
import pytest
from helpers_monitor import credit_frame
from scipy import stats

from driftscope.monitors.calibrated_drift import MemoryNullCache
from driftscope.monitors.config import MonitorConfig
from driftscope.monitors.performance import NULL_COLUMN, PerformanceMonitor


def calibrated(**kwargs) -> PerformanceMonitor:
    settings_ = {"has_probability": True, "n_bootstrap": 400, "min_labels": 100, "thresholds": "calibrated",
                 "false_alarm_rate": 0.05} | kwargs
    return PerformanceMonitor("binary_classification", **settings_)


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return credit_frame(5000, seed=100)


def test_a_a_windows_hold_the_false_alarm_rate(reference: pd.DataFrame) -> None:
    """Seeded A/A: windows from the reference's own process are called degraded at most at the rate."""
    monitor = calibrated(metrics=["roc_auc", "accuracy", "brier"]).fit(reference)
    n_windows, rate = 150, 0.05
    alarms = sum(monitor.evaluate(credit_frame(300, seed=1000 + i)).verdict == "degraded" for i in range(n_windows))
    bound = stats.binom.ppf(0.999, n_windows, rate)
    assert alarms <= bound, f"{alarms} of {n_windows} A/A windows degraded (bound {bound:.0f} at rate {rate})"


def test_a_real_drop_is_found(reference: pd.DataFrame) -> None:
    result = calibrated().fit(reference).evaluate(credit_frame(400, kind="performance", seed=7))
    flagged = {m.metric for m in result.metrics if m.flagged}
    assert result.verdict == "degraded" and {"roc_auc", "brier"} <= flagged
    auc = next(m for m in result.metrics if m.metric == "roc_auc")
    assert auc.threshold == 0.05 and auc.p_value <= 0.05
    assert auc.details["thresholds"] == "calibrated" and auc.details["drop"] > auc.details["drop_threshold"] > 0
    assert auc.details["p_value_unadjusted"] <= auc.p_value


def test_null_is_drawn_once_per_band(reference: pd.DataFrame) -> None:
    cache = MemoryNullCache()
    monitor = calibrated(metrics=["roc_auc", "accuracy"], null_cache=cache).fit(reference)
    first = monitor.evaluate(credit_frame(300, seed=1))
    monitor.evaluate(credit_frame(290, seed=2))  # same size band as 300
    assert sorted(cache.nulls) == [(NULL_COLUMN, "accuracy", 32), (NULL_COLUMN, "roc_auc", 32)]
    null = cache.nulls[(NULL_COLUMN, "roc_auc", 32)]
    assert null.n_window <= 300 and null.n_reference == 5000 and null.draws.size > 350
    assert first.metrics[0].details["n_null"] == null.n_window
    monitor.evaluate(credit_frame(600, seed=3))
    assert len(cache.nulls) == 4


def regression(n: int, noise: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = rng.normal(100.0, 20.0, n)
    return pd.DataFrame({"prediction": y + rng.normal(0.0, noise, n), "label": y})


@pytest.mark.parametrize(("noise", "flagged"), [(20.0, True), (5.0, False)])
def test_direction_aware_for_mae(noise: float, flagged: bool) -> None:
    """MAE rising is a drop in performance; MAE falling is not, however large."""
    monitor = PerformanceMonitor("regression", metrics=["mae", "rmse", "r2"], n_bootstrap=400,
                                 thresholds="calibrated").fit(regression(4000, 10.0, 0))
    result = monitor.evaluate(regression(300, noise, 1))
    mae = next(m for m in result.metrics if m.metric == "mae")
    assert mae.flagged is flagged and (mae.value > mae.reference_value) is flagged
    assert mae.details["higher_is_better"] is False
    assert (mae.p_value <= 0.01) is flagged


def test_too_few_resamples_for_the_rate_are_refused(reference: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="n_bootstrap to at least 100"):
        calibrated(n_bootstrap=50, false_alarm_rate=0.01).fit(reference)


def test_config_accepts_calibrated_performance_and_refuses_fdr() -> None:
    base = {"name": "p", "model": "m", "kind": "performance"}
    assert MonitorConfig(**base, thresholds="calibrated").effective_false_alarm_rate == 0.01
    with pytest.raises(ValueError, match="'fdr' does not apply"):
        MonitorConfig(**base, thresholds="calibrated", fdr=0.05)
    with pytest.raises(ValueError, match="needs 'thresholds: calibrated'"):
        MonitorConfig(**base, false_alarm_rate=0.05)

