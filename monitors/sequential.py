"""Always-valid inference for a difference of two means: the normal-mixture confidence sequence.

An experiment is looked at after every window. A fixed-horizon test (a t-test at each look) then
declares a difference far more often than its ``alpha``: with 30 looks at ``alpha = 0.05`` about a
quarter of A/A experiments "win" (``bench/experiments.py`` measures it). A confidence sequence is a
sequence of intervals that covers the true effect at *every* look simultaneously with probability
``1 - alpha``, so the verdict may be read after any window, and the experiment stopped there.

Convention (the mixture sequential probability ratio test, mSPRT, of Johari, Pekelis and Walsh,
"Always valid inference: continuous monitoring of A/B tests", Operations Research 70(3), 2022; the
same boundary is Robbins' normal mixture in Howard et al., Annals of Statistics 49(2), 2021):

* ``effect = mean_treatment - mean_control``, estimated by the difference of the arms' sample means,
  whose variance is ``V = s_t^2 / n_t + s_c^2 / n_c`` (sample variances with ``ddof = 1``).
* With a normal mixing distribution ``N(theta_0, tau^2)`` over the effect, the mixture likelihood
  ratio against ``H0: effect = theta_0`` is
  ``Lambda = sqrt(V / (V + tau^2)) * exp(tau^2 (effect - theta_0)^2 / (2 V (V + tau^2)))``.
  ``H0`` is rejected, at any look, once ``Lambda >= 1 / alpha`` (Ville's inequality bounds the
  probability that this ever happens under ``H0`` by ``alpha``).
* Inverting the test gives the confidence sequence ``effect +- h`` with
  ``h = sqrt(V (V + tau^2) / tau^2 * (2 ln(1 / alpha) + ln((V + tau^2) / V)))``.
* ``tau`` is the mixture's scale, in the effect's units. The sequence is valid for any ``tau > 0``;
  it is tightest around the sample size at which an effect of size ``tau`` becomes detectable, so
  driftscope sets ``tau`` to the experiment's minimum effect worth detecting.
* Assumptions: units are independent, each arm's outcomes identically distributed while the
  experiment runs (a fixed traffic split), and ``V`` is replaced by its plug-in estimate, which
  makes the guarantee asymptotic (as for the t-test): use it from a few dozen units per arm on.
"""

from dataclasses import dataclass

import numpy as np

#: the mixture scale must be positive; a zero minimum effect falls back to this share of the baseline
MIN_TAU = 1e-12


@dataclass(frozen=True)
class ArmTotals:
    """Running totals of one arm's outcome over the looks so far (arrays: one entry per look).

    ``n`` units, ``total`` the sum of their outcomes and ``total_sq`` the sum of squares; a rate's
    outcome is 0/1, so ``total`` counts successes. Totals are cumulative: entry ``k`` covers looks
    ``0..k``.
    """

    n: np.ndarray
    total: np.ndarray
    total_sq: np.ndarray

    @classmethod
    def cumulative(cls, n: np.ndarray, total: np.ndarray, total_sq: np.ndarray) -> "ArmTotals":
        """Totals of each look's own data (per window, along the last axis) turned into running totals."""
        return cls(*(np.cumsum(np.asarray(a, dtype=float), axis=-1) for a in (n, total, total_sq)))

    @property
    def mean(self) -> np.ndarray:
        """Sample mean per look (NaN before the arm has any unit)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.n > 0, self.total / self.n, np.nan)

    @property
    def variance(self) -> np.ndarray:
        """Sample variance (``ddof = 1``) per look; NaN with fewer than two units."""
        with np.errstate(invalid="ignore", divide="ignore"):
            centred = self.total_sq - self.total**2 / self.n
            return np.where(self.n > 1, np.maximum(centred, 0.0) / (self.n - 1), np.nan)


@dataclass(frozen=True)
class EffectSequence:
    """The treatment-minus-control effect and its confidence sequence at each look."""

    effect: np.ndarray
    low: np.ndarray
    high: np.ndarray
    variance: np.ndarray


def half_width(variance: np.ndarray | float, tau: float, alpha: float) -> np.ndarray:
    """Half-width ``h`` of the normal-mixture confidence sequence for an estimate of variance ``V``.

    Examples
    --------
    >>> round(float(half_width(0.01, tau=0.1, alpha=0.05)), 4)
    0.3656
    """
    v = np.asarray(variance, dtype=float)
    t2 = max(tau, MIN_TAU) ** 2
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sqrt(v * (v + t2) / t2 * (2 * np.log(1 / alpha) + np.log((v + t2) / v)))


def mixture_likelihood_ratio(effect: np.ndarray | float, variance: np.ndarray | float, tau: float,
                             theta0: float = 0.0) -> np.ndarray:
    """The mSPRT statistic ``Lambda`` against ``H0: effect = theta0``; reject once ``>= 1 / alpha``."""
    v = np.asarray(variance, dtype=float)
    t2 = max(tau, MIN_TAU) ** 2
    d = np.asarray(effect, dtype=float) - theta0
    return np.sqrt(v / (v + t2)) * np.exp(t2 * d**2 / (2 * v * (v + t2)))


def effect_sequence(control: ArmTotals, treatment: ArmTotals, *, tau: float, alpha: float) -> EffectSequence:
    """The effect ``mean_t - mean_c`` with its always-valid ``1 - alpha`` sequence at each look.

    Looks where an arm has fewer than two units have NaN bounds (no interval yet).
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        variance = treatment.variance / treatment.n + control.variance / control.n
    effect = treatment.mean - control.mean
    h = half_width(variance, tau, alpha)
    return EffectSequence(effect=effect, low=effect - h, high=effect + h, variance=variance)


def units_until(width: float, *, variance_per_unit: float, tau: float, alpha: float,
                n_now: float, limit: float = 1e12) -> float:
    """Further units (both arms together) until the half-width falls to ``width``, at the current split.

    ``variance_per_unit`` is ``K`` in ``V(n) = K / n`` for ``n`` units in total (``K = s_t^2 / p +
    s_c^2 / (1 - p)`` with ``p`` the treatment share). Returns 0 when the sequence is already that
    narrow, ``inf`` when it would take more than ``limit`` units. Solved by bisection on ``log n``
    (the half-width decreases monotonically in ``n`` over the range that matters).

    Examples
    --------
    >>> units_until(0.01, variance_per_unit=1.0, tau=0.01, alpha=0.05, n_now=0)
    92178.0
    """
    if width <= 0 or not np.isfinite(variance_per_unit) or variance_per_unit <= 0:
        return float("inf")

    def h(n: float) -> float:
        return float(half_width(variance_per_unit / n, tau, alpha))

    if n_now > 0 and h(n_now) <= width:
        return 0.0
    if h(limit) > width:
        return float("inf")
    lo, hi = np.log(max(n_now, 1.0)), np.log(limit)
    for _ in range(80):
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if h(float(np.exp(mid))) <= width else (mid, hi)
    return float(np.ceil(np.exp(hi)) - n_now)
