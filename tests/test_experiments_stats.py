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
