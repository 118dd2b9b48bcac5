"""Golden values and behaviour of the per-column drift tests (``driftscope.monitors.stattests.drift_test``)."""

from __future__ import annotations

import inspect
import math
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from driftscope.monitors.stattests import (
    DriftTestResult,
    UnknownMethodError,
    drift_test,
    evaluate_columns,
    fit_reference,
    registry,
)
from driftscope.monitors.stattests.binning import histogram_edges, sorted_histogram

RNG = np.random.default_rng(20240601)
REF = RNG.normal(0.0, 1.0, 400)
CUR = RNG.normal(0.3, 1.2, 300)
SMALL_REF = RNG.normal(0.0, 1.0, 15)
SMALL_CUR = RNG.normal(0.5, 1.0, 12)
CAT_REF = ["a"] * 50 + ["b"] * 30 + ["c"] * 20
CAT_CUR = ["a"] * 30 + ["b"] * 30 + ["c"] * 40


# --- golden values against scipy ---------------------------------------------------------------


@pytest.mark.parametrize(("ref", "cur"), [(REF, CUR), (SMALL_REF, SMALL_CUR)], ids=["large", "exact"])
def test_ks_matches_scipy(ref: np.ndarray, cur: np.ndarray) -> None:
    expected = stats.ks_2samp(ref, cur)
    result = drift_test("ks", ref, cur)
    assert result.statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-9)
    assert result.drifted == bool(expected.pvalue <= 0.05)


def test_chisquare_matches_scipy_on_scaled_reference_counts() -> None:
    expected = stats.chisquare([30, 30, 40], [50 * 1.0, 30 * 1.0, 20 * 1.0])
    result = drift_test("chisquare", CAT_REF, CAT_CUR, feature_type="categorical")
    assert result.statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-9)
    assert result.drifted


def test_chisquare_scales_expected_counts_to_current_size() -> None:
    reference, current = ["a"] * 60 + ["b"] * 40, ["a"] * 30 + ["b"] * 20
    result = drift_test("chisquare", reference, current, feature_type="categorical")
    assert result.statistic == pytest.approx(0.0, abs=1e-12)
    assert result.p_value == pytest.approx(1.0)


@pytest.mark.parametrize(("ref", "cur"), [(REF, CUR), (SMALL_REF, SMALL_CUR)], ids=["large", "small"])
def test_anderson_matches_scipy_midrank(ref: np.ndarray, cur: np.ndarray) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # p-value capped/floored
        # scipy 1.17 names the midrank statistic variant="midrank"; before, midrank=True (the default) was it
        midrank = {"variant": "midrank"} if "variant" in inspect.signature(stats.anderson_ksamp).parameters else {}
        expected = stats.anderson_ksamp([ref, cur], **midrank)
    result = drift_test("anderson", ref, cur)
    assert result.statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-12)


@pytest.mark.parametrize(("ref", "cur"), [(REF, CUR), (SMALL_REF, SMALL_CUR)], ids=["asymptotic", "exact"])
def test_cramer_von_mises_matches_scipy(ref: np.ndarray, cur: np.ndarray) -> None:
    expected = stats.cramervonmises_2samp(ref, cur)
    result = drift_test("cramer_von_mises", ref, cur)
    assert result.statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-9)


def test_energy_matches_scipy() -> None:
    result = drift_test("energy", REF, CUR)
    assert result.statistic == pytest.approx(stats.energy_distance(REF, CUR), rel=1e-12)
    assert result.p_value is None


def test_wasserstein_is_scipy_distance_over_reference_std() -> None:
    result = drift_test("wasserstein", REF, CUR)
    assert result.statistic == pytest.approx(stats.wasserstein_distance(REF, CUR) / np.std(REF), rel=1e-12)


def test_wasserstein_floors_the_norm_at_0_001() -> None:
    result = drift_test("wasserstein", [5.0] * 10, [5.0] * 9 + [6.0])
    assert result.statistic == pytest.approx(0.1 / 0.001)


def test_jensenshannon_matches_scipy_on_category_proportions() -> None:
    expected = jensenshannon([0.5, 0.3, 0.2], [0.3, 0.3, 0.4])
    result = drift_test("jensenshannon", CAT_REF, CAT_CUR, feature_type="categorical")
    assert result.statistic == pytest.approx(expected, rel=1e-12)
    base2 = drift_test("jensenshannon", CAT_REF, CAT_CUR, feature_type="categorical", base=2)
    assert base2.statistic == pytest.approx(jensenshannon([0.5, 0.3, 0.2], [0.3, 0.3, 0.4], base=2))


def test_jensenshannon_histograms_numeric_data_on_pooled_sturges_edges() -> None:
    edges = np.histogram_bin_edges(np.concatenate([REF, CUR]), bins="sturges")
    ref_p = np.histogram(REF, edges)[0] / REF.size
    cur_p = np.histogram(CUR, edges)[0] / CUR.size
    assert drift_test("jensenshannon", REF, CUR).statistic == pytest.approx(jensenshannon(ref_p, cur_p))


def test_kl_div_matches_scipy_entropy() -> None:
    expected = stats.entropy([0.5, 0.3, 0.2], [0.3, 0.3, 0.4])
    result = drift_test("kl_div", CAT_REF, CAT_CUR, feature_type="categorical")
    assert result.statistic == pytest.approx(expected, rel=1e-12)


# --- hand-computed values ------------------------------------------------------------------------


def test_psi_hand_computed() -> None:
    expected = (0.5 - 0.3) * math.log(0.5 / 0.3) + (0.2 - 0.4) * math.log(0.2 / 0.4)
    result = drift_test("psi", CAT_REF, CAT_CUR, feature_type="categorical")
    assert result.statistic == pytest.approx(expected, rel=1e-12)
    assert result.drifted is (expected >= 0.1)


def test_psi_fills_empty_bins_with_epsilon() -> None:
    # current lacks "b": its proportion becomes 1e-4 (no renormalisation)
    expected = (0.5 - 1.0) * math.log(0.5 / 1.0) + (0.5 - 1e-4) * math.log(0.5 / 1e-4)
    result = drift_test("psi", ["a", "b"] * 50, ["a"] * 100, feature_type="categorical")
    assert result.statistic == pytest.approx(expected, rel=1e-12)


def test_psi_with_ten_equal_width_bins() -> None:
    reference, current = np.arange(100.0), np.arange(100.0) + 50  # pooled range 0..149: width 14.9
    edges = np.linspace(0.0, 149.0, 11)
    ref_p = np.histogram(reference, edges)[0] / 100
    cur_p = np.histogram(current, edges)[0] / 100
    ref_p[ref_p == 0], cur_p[cur_p == 0] = 1e-4, 1e-4
    expected = float(np.sum((ref_p - cur_p) * np.log(ref_p / cur_p)))
    assert drift_test("psi", reference, current, bins=10).statistic == pytest.approx(expected, rel=1e-12)


def test_hellinger_hand_computed() -> None:
    affinity = math.sqrt(0.5 * 0.3) + math.sqrt(0.3 * 0.3) + math.sqrt(0.2 * 0.4)
    result = drift_test("hellinger", CAT_REF, CAT_CUR, feature_type="categorical")
    assert result.statistic == pytest.approx(math.sqrt(1 - affinity), rel=1e-12)


def test_ztest_hand_computed() -> None:
    # "a" sorts first; p = share of rows that are not "a"
    p1, p2 = 0.2, 0.5
    pooled = (20 + 50) / 200
    z = (p1 - p2) / math.sqrt(pooled * (1 - pooled) * (1 / 100 + 1 / 100))
    result = drift_test("ztest", ["a"] * 80 + ["b"] * 20, ["b"] * 50 + ["a"] * 50, feature_type="binary")
    assert result.statistic == pytest.approx(z, rel=1e-12)
    assert result.p_value == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-6)


def test_tvd_statistic_and_permutation_p_value() -> None:
    result = drift_test("tvd", CAT_REF, CAT_CUR, feature_type="categorical")
    assert result.statistic == pytest.approx(0.5 * (0.2 + 0.0 + 0.2))
    assert result.p_value is not None and result.p_value < 0.05
    same = drift_test("tvd", CAT_REF, CAT_REF, feature_type="categorical")
    assert (same.statistic, same.p_value, same.drifted) == (0.0, 1.0, False)


# --- behaviour -------------------------------------------------------------------------------------


def test_binning_helpers_equal_numpy() -> None:
    pooled = np.concatenate([REF, CUR])
    edges = histogram_edges(pooled.min(), pooled.max(), pooled.size, "sturges", integer=False)
    np.testing.assert_array_equal(edges, np.histogram_bin_edges(pooled, bins="sturges"))
    np.testing.assert_array_equal(sorted_histogram(np.sort(REF), edges), np.histogram(REF, edges)[0])


def test_missing_values_are_dropped_and_reported() -> None:
    reference = [1.0, None, 2.0, 3.0, float("nan")]
    current = pd.Series([1.0, 2.0, pd.NA, np.inf], dtype=object)
    result = drift_test("ks", reference, current)
    clean = drift_test("ks", [1.0, 2.0, 3.0], [1.0, 2.0])
    assert (result.missing_share_reference, result.missing_share_current) == (0.4, 0.5)
    assert (result.n_reference, result.n_current) == (3, 2)
    assert (result.statistic, result.p_value) == (clean.statistic, clean.p_value)


def test_missing_categories_are_dropped_and_reported() -> None:
    reference, current = ["a", None, "b", np.nan], ["a", pd.NA, "b", "b"]
    result = drift_test("chisquare", reference, current, feature_type="categorical")
    assert (result.missing_share_reference, result.missing_share_current) == (0.5, 0.25)
    assert (result.n_reference, result.n_current, result.new_categories) == (2, 3, ())


@pytest.mark.parametrize(
    ("reference", "current"),
    [([], [1.0, 2.0]), ([1.0, 2.0], []), ([None, np.nan], [1.0]), ([1.0], [np.inf, -np.inf])],
    ids=["empty_reference", "empty_current", "all_missing_reference", "only_infinities"],
)
def test_no_data_gives_status_not_exception(reference: list, current: list) -> None:
    result = drift_test("wasserstein", reference, current)
    assert (result.status, result.drifted, result.statistic, result.p_value) == ("no_data", False, None, None)


@pytest.mark.parametrize("method", ["anderson", "cramer_von_mises"])
def test_needs_two_values_per_side(method: str) -> None:
    assert drift_test(method, [1.0], [1.0, 2.0, 3.0]).status == "no_data"
    assert drift_test(method, [1.0, 4.0], [1.0, 2.0, 3.0]).status == "ok"


def test_unseen_categories_are_reported_as_strings() -> None:
    result = drift_test("psi", ["a", "b", 1], ["a", "z", 2, 2, "z"], feature_type="categorical")
    assert result.new_categories == ("z", "2")
    assert result.drifted


def test_numbers_as_categories() -> None:
    as_numbers = drift_test("chisquare", [1, 2, 2, 3], [1, 1, 2, 3], feature_type="categorical")
    as_strings = drift_test("chisquare", list("1223"), list("1123"), feature_type="categorical")
    assert as_numbers.p_value == pytest.approx(as_strings.p_value)


@pytest.mark.parametrize("wrap", [list, np.asarray, pd.Series, lambda v: pd.Series(v, dtype="category")])
def test_input_containers_give_the_same_result(wrap) -> None:
    expected = drift_test("jensenshannon", CAT_REF, CAT_CUR, feature_type="categorical")
    result = drift_test("jensenshannon", wrap(CAT_REF), wrap(CAT_CUR), feature_type="categorical")
    assert result == expected


@pytest.mark.parametrize("wrap", [list, np.asarray, pd.Series, lambda v: pd.Series(v, dtype="Float64")])
def test_numeric_containers_give_the_same_result(wrap) -> None:
    expected = drift_test("ks", REF, CUR)
    assert drift_test("ks", wrap(list(REF)), wrap(list(CUR))) == expected


def test_identical_samples_do_not_drift_and_shifted_samples_do() -> None:
    assert not drift_test("ks", REF, REF).drifted
    assert drift_test("ks", REF, REF + 1.0).drifted
    assert drift_test("wasserstein", REF, REF).statistic == 0.0


def test_result_is_frozen() -> None:
    result = drift_test("ks", REF, CUR)
    assert isinstance(result, DriftTestResult)
    with pytest.raises(AttributeError):
        result.drifted = False  # type: ignore[misc]


def test_explicit_threshold_is_used_and_reported() -> None:
    result = drift_test("psi", CAT_REF, CAT_CUR, feature_type="categorical", threshold=0.5)
    assert (result.threshold, result.drifted) == (0.5, False)


# --- errors ----------------------------------------------------------------------------------------


def test_unknown_method_lists_valid_names() -> None:
    with pytest.raises(UnknownMethodError, match="valid methods are: anderson, chisquare") as info:
        drift_test("kolmogorov", REF, CUR)
    assert isinstance(info.value, ValueError)
    assert all(name in str(info.value) for name in registry.names())


def test_unsupported_feature_type_names_method_type_and_allowed_types() -> None:
    with pytest.raises(ValueError, match=r"'ks' does not support feature_type='categorical'.*\['numeric'\]"):
        drift_test("ks", CAT_REF, CAT_CUR, feature_type="categorical")
    with pytest.raises(ValueError, match="feature_type must be one of"):
        drift_test("psi", REF, CUR, feature_type="text")


def test_strings_with_numeric_feature_type_are_refused() -> None:
    with pytest.raises(ValueError, match="feature_type='numeric' needs numbers"):
        drift_test("psi", CAT_REF, CAT_CUR)


@pytest.mark.parametrize("threshold", [-0.1, 1.5, float("nan")])
def test_bad_p_value_threshold_is_refused(threshold: float) -> None:
    with pytest.raises(ValueError, match="threshold for drift method 'ks'"):
        drift_test("ks", REF, CUR, threshold=threshold)


def test_unknown_parameter_is_refused_with_the_accepted_ones() -> None:
    accepted = r"unknown parameter\(s\) \['n_bins'\]; it accepts \['bins', 'base'\]"
    with pytest.raises(ValueError, match=accepted):
        drift_test("jensenshannon", REF, CUR, n_bins=30)
    with pytest.raises(ValueError, match="bins must be 'sturges' or a positive integer"):
        drift_test("psi", REF, CUR, bins="fd")


# --- documented deviations from Evidently --------------------------------------------------------


def test_anderson_on_a_single_point_mass_is_no_drift() -> None:
    result = drift_test("anderson", [2.0] * 5, [2.0] * 7)
    assert (result.status, result.statistic, result.p_value, result.drifted) == ("ok", 0.0, 1.0, False)


def test_chisquare_with_one_shared_category_is_no_drift() -> None:
    result = drift_test("chisquare", ["a"] * 5, ["a"] * 3, feature_type="categorical")
    assert (result.statistic, result.p_value, result.drifted) == (0.0, 1.0, False)


def test_ztest_orders_incomparable_categories_as_strings() -> None:
    # str order puts 1 before "a": the test compares the share of rows that are not 1
    mixed = drift_test("ztest", [1] * 80 + ["a"] * 20, [1] * 50 + ["a"] * 50, feature_type="categorical")
    strings = drift_test("ztest", ["1"] * 80 + ["a"] * 20, ["1"] * 50 + ["a"] * 50, feature_type="binary")
    assert (mixed.statistic, mixed.p_value) == (strings.statistic, strings.p_value)
    assert mixed.statistic < 0


def test_reference_profile_survives_pickling() -> None:
    profile = fit_reference({"x": REF, "c": CAT_REF}, {"x": "numeric", "c": "categorical"})
    current = {"x": CUR, "c": CAT_CUR}
    restored = pickle.loads(pickle.dumps(profile))
    assert evaluate_columns(restored, current) == evaluate_columns(profile, current)
