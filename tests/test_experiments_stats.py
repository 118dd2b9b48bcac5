"""The statistics behind serving KPIs and experiments: Wilson, exact percentiles, the confidence sequence."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from driftscope.monitors import experiments, sequential, serving


@given(st.integers(min_value=1, max_value=5000), st.floats(min_value=0, max_value=1),
       st.sampled_from([0.8, 0.95, 0.99]))
def test_wilson_matches_scipy(n: int, share: float, confidence: float) -> None:
    k = round(share * n)
    low, high = serving.wilson_interval(k, n, confidence)
    expected = stats.binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilson")
    assert (float(low), float(high)) == pytest.approx((expected.low, expected.high), abs=1e-12)


def test_wilson_is_nan_for_an_empty_window() -> None:
    assert serving.rate(0, 0).n == 0 and np.isnan(serving.rate(0, 0).low)


@given(st.lists(st.floats(min_value=0, max_value=1e5), min_size=1, max_size=200))
def test_latency_percentiles_equal_numpy(values: list[float]) -> None:
    found = serving.latency_percentiles(np.array([*values, np.nan]), [50, 95, 99])
    assert list(found.values()) == pytest.approx(list(np.percentile(values, [50, 95, 99])))


def test_mean_interval_covers_the_mean_and_is_seeded() -> None:
    values = np.random.default_rng(3).exponential(20.0, size=5000)
    first, again = serving.mean_interval(values), serving.mean_interval(values)
    assert first == again and first.low < values.mean() < first.high and first.n == 5000


def test_status_counts_treat_missing_as_ok() -> None:
    assert serving.status_counts(np.array(["ok", None, "error", "timeout", "error"], dtype=object)) == {
        "ok": 2, "error": 2, "timeout": 1,
    }


@given(st.floats(min_value=1e-6, max_value=10), st.floats(min_value=1e-3, max_value=10),
       st.sampled_from([0.01, 0.05, 0.1]))
def test_sequence_bound_is_where_the_mixture_ratio_reaches_one_over_alpha(variance: float, tau: float,
                                                                          alpha: float) -> None:
    h = float(sequential.half_width(variance, tau, alpha))
    assert float(sequential.mixture_likelihood_ratio(h, variance, tau)) == pytest.approx(1 / alpha, rel=1e-9)
    assert float(sequential.mixture_likelihood_ratio(0.999 * h, variance, tau)) < 1 / alpha


def test_arm_totals_give_the_sample_mean_and_variance() -> None:
    values = np.random.default_rng(1).normal(5, 2, size=(3, 40))
    arm = sequential.ArmTotals.cumulative(np.full(3, 40), values.sum(axis=1), (values**2).sum(axis=1))
    whole = values.ravel()
    assert arm.mean[-1] == pytest.approx(whole.mean()) and arm.variance[-1] == pytest.approx(whole.var(ddof=1))


def _binary_looks(rng: np.random.Generator, experiments_: int, looks: int, n: int, p_c: float,
                  p_t: float) -> tuple[sequential.ArmTotals, sequential.ArmTotals]:
    per_look = np.full((experiments_, looks), n)
    control = rng.binomial(n, p_c, size=(experiments_, looks))
    treatment = rng.binomial(n, p_t, size=(experiments_, looks))
    return (sequential.ArmTotals.cumulative(per_look, control, control),
            sequential.ArmTotals.cumulative(per_look, treatment, treatment))


def test_aa_experiments_looked_at_every_window_rarely_declare_a_difference() -> None:
    """Seeded A/A: 400 experiments x 30 looks; at most alpha ever reject (binomial slack at 1e-3)."""
    alpha, runs = 0.05, 400
    control, treatment = _binary_looks(np.random.default_rng(7), runs, 30, 2000, 0.1, 0.1)
    seq = sequential.effect_sequence(control, treatment, tau=0.002, alpha=alpha)
    ever = ((seq.low > 0) | (seq.high < 0)).any(axis=1).mean()
    naive_z = seq.effect / np.sqrt(seq.variance)
    naive = (np.abs(naive_z) > stats.norm.ppf(1 - alpha / 2)).any(axis=1).mean()
    assert ever * runs <= stats.binom.ppf(0.999, runs, alpha)
    assert naive > 2 * alpha  # peeking with a fixed-horizon test inflates false positives


def _windows(control: dict[str, np.ndarray], treatment: dict[str, np.ndarray], **extra: np.ndarray) -> pd.DataFrame:
    ends = pd.date_range("2026-01-01 01:00", periods=len(control["n"]), freq="h", tz="UTC")
    frame = pd.DataFrame({"window_start": ends - pd.Timedelta(hours=1), "window_end": ends})
    for arm, totals in (("control", control), ("treatment", treatment)):
        for key, values in totals.items():
            frame[f"{arm}_{key}"] = values
    return frame.assign(**extra)


def _binary_arm(rng: np.random.Generator, looks: int, n: int, p: float) -> dict[str, np.ndarray]:
    hits = rng.binomial(n, p, size=looks).astype(float)
    return {"n": np.full(looks, float(n)), "total": hits, "total_sq": hits}


def test_a_clear_lift_is_declared_better_and_the_decision_sticks() -> None:
    rng = np.random.default_rng(11)
    frame = _windows(_binary_arm(rng, 30, 5000, 0.10), _binary_arm(rng, 30, 5000, 0.13))
    looks = experiments.evaluate(frame, direction="increase", alpha=0.05, minimum_effect=0.05)
    decided = [look for look in looks if look.decided]
    assert decided and decided[0].verdict == "better" and decided[0].low > 0
    assert all(look.verdict == "better" and look.decided_at == decided[0].decided_at for look in decided)
    assert looks[0].samples_needed > looks[-1].samples_needed == 0


def test_a_drop_in_a_kpi_that_should_increase_is_worse() -> None:
    rng = np.random.default_rng(12)
    frame = _windows(_binary_arm(rng, 20, 5000, 0.10), _binary_arm(rng, 20, 5000, 0.07))
    assert experiments.evaluate(frame, direction="increase", alpha=0.05, minimum_effect=0.05)[-1].verdict == "worse"


def test_a_guardrail_breach_decides_worse_in_that_window() -> None:
    rng = np.random.default_rng(13)
    latency_c = np.full(10, 100.0)
    latency_t = latency_c.copy()
    latency_t[6] = 125.0  # +25 % in window 6 only, against a 10 % relative limit
    frame = _windows(_binary_arm(rng, 10, 1000, 0.1), _binary_arm(rng, 10, 1000, 0.1),
                     latency_p95_control=latency_c, latency_p95_treatment=latency_t)
    rail = experiments.Guardrail("latency_p95", "increase", 0.10, relative=True)
    looks = experiments.evaluate(frame, direction="increase", alpha=0.05, minimum_effect=0.05, guardrails=[rail])
    assert [look.decided for look in looks] == [False] * 6 + [True] * 4
    assert looks[6].verdict == "worse" and looks[6].breaches == ("latency_p95",)
    assert looks[6].decided_at == frame["window_end"].iloc[6] and "latency_p95" in looks[6].reason


def test_guardrails_are_not_judged_on_a_handful_of_units() -> None:
    rail = experiments.Guardrail("error_rate", "increase", 0.002)
    tiny = _windows({"n": np.array([5.0]), "total": np.array([1.0]), "total_sq": np.array([1.0])},
                    {"n": np.array([5.0]), "total": np.array([1.0]), "total_sq": np.array([1.0])},
                    error_rate_control=np.array([0.0]), error_rate_treatment=np.array([0.4]))
    look = experiments.evaluate(tiny, direction="increase", alpha=0.05, minimum_effect=0.01, guardrails=[rail])[0]
    assert not look.decided and look.breaches == ()


@given(st.floats(min_value=-10, max_value=10), st.floats(min_value=-10, max_value=10),
       st.floats(min_value=1e-3, max_value=5), st.floats(min_value=1e-3, max_value=5),
       st.floats(min_value=0, max_value=0.5), st.booleans(), st.sampled_from(["increase", "decrease"]),
       st.sampled_from([0.01, 0.05, 0.1]))
def test_a_guardrail_breaches_where_scipy_rejects_worse_by_at_most_the_limit(
        control: float, treatment: float, se_c: float, se_t: float, limit: float, relative: bool,
        direction: str, alpha: float) -> None:
    rail = experiments.Guardrail("g", direction, limit, relative)  # type: ignore[arg-type]
    sign = 1 if direction == "increase" else -1
    weight = 1 - sign * limit * np.sign(control) if relative else 1.0
    excess = sign * (treatment - control) - (limit * abs(control) if relative else limit)
    p_value = stats.norm.sf(excess / np.hypot(se_t, weight * se_c))
    if abs(p_value - alpha) > 1e-9:
        flag = rail.breached(np.array([control]), np.array([treatment]), np.array([se_c]), np.array([se_t]), alpha)
        assert bool(flag[0]) == (p_value < alpha)


@given(st.floats(min_value=0, max_value=1000), st.floats(min_value=1e-3, max_value=50),
       st.floats(min_value=0, max_value=0.5), st.booleans())
def test_identical_arms_never_breach_a_guardrail(value: float, se: float, limit: float, relative: bool) -> None:
    for direction in ("increase", "decrease"):
        rail = experiments.Guardrail("g", direction, limit, relative)
        assert not rail.breached(np.array([value]), np.array([value]), np.array([se]), np.array([se]))[0]


def test_guardrail_tests_cut_false_breaches_on_equal_error_rates() -> None:
    """Both arms fail 1 % of 200 requests per window: the point rule breaches a +0.2 pp limit in 39 % of
    2,000 windows, the test at alpha = 0.05 in 2.6 %; a real +5 pp regression is caught in 87 %."""
    rng = np.random.default_rng(7)
    windows, n = 2000, 200
    control = rng.binomial(n, 0.01, windows) / n
    same, worse = rng.binomial(n, 0.01, windows) / n, rng.binomial(n, 0.06, windows) / n
    rail = experiments.Guardrail("error_rate", "increase", 0.002)

    def se(p: np.ndarray) -> np.ndarray:
        return np.sqrt(p * (1 - p) / n)

    point = rail.breached(control, same)
    tested = rail.breached(control, same, se(control), se(same))
    caught = rail.breached(control, worse, se(control), se(worse))
    assert point.mean() > 0.3 and tested.mean() < 0.05 and caught.mean() > 0.8


def test_percentile_standard_error_matches_the_asymptotic_formula() -> None:
    from driftscope.monitors.experiment_figures import percentile_se

    values = np.random.default_rng(3).normal(size=20_000)
    expected = np.sqrt(0.95 * 0.05 / values.size) / stats.norm.pdf(stats.norm.ppf(0.95))
    assert percentile_se(values, 0.95) == pytest.approx(expected, rel=0.1)


def test_a_model_metric_guardrail_has_a_bootstrap_standard_error_near_the_binomial_one() -> None:
    from driftscope.monitors.experiment_figures import _model_metric

    rng = np.random.default_rng(5)
    label = rng.integers(0, 2, 2000)
    prediction = np.where(rng.uniform(size=2000) < 0.8, label, 1 - label)
    served = pd.DataFrame({"prediction_id": np.arange(2000).astype(str), "prediction": prediction, "label": label})
    value, n, se = _model_metric("accuracy", served, "binary_classification", 1, {})
    assert n == 2000 and se == pytest.approx(np.sqrt(value * (1 - value) / n), rel=0.15)
    assert _model_metric("accuracy", served, "binary_classification", 1, {}) == (value, n, se)  # seeded
