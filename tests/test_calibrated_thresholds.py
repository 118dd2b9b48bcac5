"""Calibrated thresholds, Benjamini-Hochberg and effect sizes (issue #11)."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binom, false_discovery_control, wasserstein_distance

from driftscope.monitors.calibrated_drift import Calibration, MemoryNullCache
from driftscope.monitors.calibration.bands import band_size, size_band
from driftscope.monitors.calibration.cells import cells_for, numeric_counts
from driftscope.monitors.calibration.null import NullDistribution, draw_null, multinomial_rows
from driftscope.monitors.calibration.statistics import CALIBRATED
from driftscope.monitors.data_drift import DataDriftMonitor
from driftscope.monitors.effect_size import effect_cells, numeric_effect
from driftscope.monitors.multiple_testing import benjamini_hochberg, bh_adjust
from driftscope.monitors.stattests.columns import fit_column

TYPES = {"x": "numeric", "y": "numeric", "c": "categorical"}


def _frame(rng: np.random.Generator, n: int, shift: float = 0.0) -> pd.DataFrame:
    return pd.DataFrame({
        "x": rng.normal(shift, 1.0, n), "y": rng.exponential(1.0, n),
        "c": rng.choice(["a", "b", "c", "d"], n, p=[0.4, 0.3, 0.2, 0.1]),
    })


@pytest.mark.slow
def test_aa_false_alarm_rate_holds_within_a_binomial_bound() -> None:
    """Seeded A/A: a fresh reference and window from one population per trial, 3 features each.

    Each trial's verdicts are compared with a calibrated threshold at rate 0.05; the count of false
    alarms over 3 x 150 tests must lie below the binomial 99.9 % upper bound for rate 0.05 (features
    of one trial are independent draws, so the count is binomial at most).
    """
    rng = np.random.default_rng(11)
    rate, trials, alarms = 0.05, 150, 0
    for trial in range(trials):
        monitor = DataDriftMonitor(TYPES, threshold_mode="calibrated", false_alarm_rate=rate,
                                   n_null_draws=199, seed=trial).fit(_frame(rng, 1500))
        alarms += monitor.evaluate(_frame(rng, 300)).n_drifted
    tests = 3 * trials
    assert alarms <= binom.ppf(0.999, tests, rate)
    assert alarms >= binom.ppf(0.0001, tests, rate * 0.3)  # not trivially conservative


def test_calibrated_monitor_finds_a_shift_and_reports_effect_size() -> None:
    rng = np.random.default_rng(3)
    monitor = DataDriftMonitor(TYPES, threshold_mode="calibrated", fdr=0.05, drift_share=0.0).fit(_frame(rng, 20_000))
    result = monitor.evaluate(_frame(rng, 5_000, shift=0.3))
    x = result.column("x")
    assert x.test.drifted and result.dataset_drift
    assert x.effect is not None and x.effect.kind == "wasserstein_sd" and x.effect.value == pytest.approx(0.3, abs=0.05)
    row = x.row()
    assert row["threshold_mode"] == "calibrated" and row["q_value"] <= 0.05
    assert row["effect_size_kind"] == "wasserstein_sd"
    assert result.column("c").effect.kind == "tvd"


def test_null_is_drawn_once_per_band_and_reused() -> None:
    rng = np.random.default_rng(4)
    cache = MemoryNullCache()
    monitor = DataDriftMonitor(TYPES, threshold_mode="calibrated", null_cache=cache).fit(_frame(rng, 5_000))
    monitor.evaluate(_frame(rng, 1_000))
    drawn = dict(cache.nulls)
    monitor.evaluate(_frame(rng, 1_010))  # same band
    assert cache.nulls == drawn and len(drawn) == 3
    monitor.evaluate(_frame(rng, 2_000))
    assert len(cache.nulls) == 6


def test_fdr_needs_calibrated_thresholds() -> None:
    with pytest.raises(ValueError, match="thresholds: calibrated"):
        DataDriftMonitor(TYPES, fdr=0.05).fit(_frame(np.random.default_rng(0), 100))


def test_calibration_refuses_too_few_draws_for_the_rate() -> None:
    with pytest.raises(ValueError, match="at least 1000 draws"):
        Calibration(false_alarm_rate=0.001, n_draws=500)


@given(st.lists(st.floats(0, 1), min_size=1, max_size=40))
def test_bh_matches_scipy(p_values: list[float]) -> None:
    p = np.array(p_values)
    np.testing.assert_allclose(bh_adjust(p), false_discovery_control(p, method="bh"), rtol=1e-12, atol=1e-15)


@given(st.lists(st.floats(0, 1), min_size=1, max_size=40), st.floats(0.001, 0.5))
def test_bh_rejects_a_prefix_of_the_sorted_p_values(p_values: list[float], q: float) -> None:
    p = np.array(p_values)
    rejected = benjamini_hochberg(p, q)
    if rejected.any():
        assert p[rejected].max() <= p[~rejected].min(initial=np.inf)
        k = int(rejected.sum())
        assert np.sort(p)[k - 1] <= k * q / p.size + 1e-12


def test_bh_published_example() -> None:
    """Benjamini & Hochberg (1995), section 4: 15 p-values, q = 0.05 rejects the 4 smallest."""
    p = np.array([0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.3240,
                  0.4262, 0.5719, 0.6528, 0.7590, 1.0])
    assert benjamini_hochberg(p, 0.05).sum() == 4


@given(st.integers(1, 10**9))
def test_band_bounds(n: int) -> None:
    band = size_band(n)
    assert band_size(band, "ks") <= n < band_size(band, "chisquare")


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(sorted(CALIBRATED)), st.integers(0, 2**31 - 1))
def test_identical_counts_give_the_smallest_statistic(method: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = rng.normal(size=400) if method in {"ks", "wasserstein", "energy"} else rng.integers(0, 5, 400) * 1.0
    cells = cells_for(fit_column(values, "numeric"), method, 400)
    same = CALIBRATED[method](cells.reference[None, :], cells.reference[None, :], cells)
    other = CALIBRATED[method](cells.reference[None, :], multinomial_rows(rng, 400, cells.reference / 400, 20), cells)
    assert same[0] == pytest.approx(0.0, abs=1e-6) and np.all(other >= -1e-12)  # hellinger: sqrt of rounding


def test_null_p_values_and_threshold_agree() -> None:
    null = draw_null(cells_for(fit_column(np.arange(500.0), "numeric"), "ks", 100), "ks", 100, size_band(100),
                     n_draws=999)
    threshold = null.threshold(0.01)
    assert null.p_value(np.nextafter(threshold, np.inf)) <= 0.01 < null.p_value(threshold)
    assert NullDistribution("ks", 0, 1, 1, np.zeros(10)).threshold(0.05) == np.inf


def test_multinomial_rows_has_multinomial_moments() -> None:
    p = np.array([0.1, 0.2, 0.3, 0.4])
    rows = multinomial_rows(np.random.default_rng(1), 100, p, 20_000)
    np.testing.assert_allclose(rows.mean(axis=0), 100 * p, rtol=0.02)
    np.testing.assert_allclose(rows.var(axis=0), 100 * p * (1 - p), rtol=0.05)


def test_numeric_effect_matches_scipy_wasserstein() -> None:
    rng = np.random.default_rng(2)
    reference, window = rng.normal(size=50_000), rng.normal(0.4, 1.2, 5_000)
    column = fit_column(reference, "numeric")
    effect = numeric_effect(effect_cells(column), column, np.sort(window))
    assert effect.value == pytest.approx(wasserstein_distance(reference, window) / reference.std(), rel=0.03)


def test_calibrated_ks_statistic_is_close_to_scipy() -> None:
    rng = np.random.default_rng(5)
    reference, window = rng.normal(size=20_000), np.sort(rng.normal(0.1, 1, 2_000))
    from scipy.stats import ks_2samp

    cells = cells_for(fit_column(reference, "numeric"), "ks", 2_000)
    binned = CALIBRATED["ks"](cells.reference[None, :], numeric_counts(cells, window)[None, :], cells)[0]
    assert binned == pytest.approx(ks_2samp(reference, window).statistic, abs=0.01)
