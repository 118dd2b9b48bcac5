"""Serving KPIs of one model version and window: requests, failures, latency and business outcomes.

Conventions:

* **Status**: every logged request has a status ``ok``, ``error`` or ``timeout`` (missing means
  ``ok``). The error rate is ``errors / requests`` and the timeout rate ``timeouts / requests``,
  over every request of the window, including failed requests that carry no prediction.
* **Latency percentiles** are exact over the window's requests that have a latency (milliseconds),
  by numpy's default linear interpolation between order statistics (Hyndman and Fan's definition 7,
  the one of ``numpy.percentile``, pandas and Excel's ``PERCENTILE.INC``); no sketch, no sampling.
* **Rates with intervals**: a binary outcome's rate (click-through, conversion) and the failure
  rates come with the Wilson score interval (Wilson 1927; Newcombe 1998, method 3), which unlike
  the normal ("Wald") interval stays inside [0, 1] and keeps its coverage for rare events.
* **Means with intervals**: a numeric outcome's mean (revenue per request) comes with a percentile
  bootstrap interval (:mod:`driftscope.monitors.bootstrap` conventions: seeded, 1,000 resamples).
* **Model age** is ``window end - trained_at`` in days.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from driftscope.monitors.bootstrap import DEFAULT_CONFIDENCE, DEFAULT_RESAMPLES, DEFAULT_SEED, weight_blocks

STATUSES = ("ok", "error", "timeout")


@dataclass(frozen=True)
class Estimate:
    """A rate or mean with its two-sided interval and the number of observations behind it."""

    value: float
    low: float
    high: float
    n: int


def wilson_interval(successes: np.ndarray | int, n: np.ndarray | int,
                    confidence: float = DEFAULT_CONFIDENCE) -> tuple[np.ndarray, np.ndarray]:
    """The Wilson score interval of a binomial proportion; vectorised; NaN where ``n`` is 0.

    ``p_hat = k / n``, ``z`` the ``(1 + confidence) / 2`` normal quantile; centre
    ``(p_hat + z^2 / 2n) / (1 + z^2 / n)`` and half-width
    ``z / (1 + z^2 / n) * sqrt(p_hat (1 - p_hat) / n + z^2 / 4n^2)``.

    Examples
    --------
    >>> low, high = wilson_interval(81, 263)   # Newcombe (1998), Table I: 0.2553 to 0.3662
    >>> round(float(low), 4), round(float(high), 4)
    (0.2553, 0.3662)
    """
    k = np.asarray(successes, dtype=float)
    m = np.asarray(n, dtype=float)
    z = stats.norm.ppf((1 + confidence) / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / m
        denom = 1 + z**2 / m
        centre = (p + z**2 / (2 * m)) / denom
        half = z / denom * np.sqrt(p * (1 - p) / m + z**2 / (4 * m**2))
    return centre - half, centre + half


def rate(successes: int, n: int, confidence: float = DEFAULT_CONFIDENCE) -> Estimate:
    """``successes / n`` with its Wilson interval (NaN for an empty window)."""
    low, high = wilson_interval(successes, n, confidence)
    value = successes / n if n else float("nan")
    return Estimate(float(value), float(low), float(high), int(n))


def latency_percentiles(latency_ms: np.ndarray, percentiles: Sequence[float]) -> dict[float, float]:
    """Exact percentiles (linear interpolation, definition 7) of the finite latencies; NaN when none.

    Examples
    --------
    >>> latency_percentiles(np.array([10.0, 20.0, 30.0, 40.0, np.nan]), [50, 95])
    {50: 25.0, 95: 38.5}
    """
    values = np.asarray(latency_ms, dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return {p: float("nan") for p in percentiles}
    found = np.percentile(values, list(percentiles), method="linear")
    return {p: float(v) for p, v in zip(percentiles, found, strict=True)}


def mean_interval(values: np.ndarray, confidence: float = DEFAULT_CONFIDENCE,
                  n_resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED) -> Estimate:
    """The mean of the finite values with a percentile bootstrap interval.

    Resample means are drawn through multinomial count weights in blocks, as in
    :mod:`driftscope.monitors.bootstrap`, so a window of any size costs a few matrix products.
    """
    data = np.asarray(values, dtype=float)
    data = data[np.isfinite(data)]
    if data.size == 0:
        return Estimate(float("nan"), float("nan"), float("nan"), 0)
    means = np.concatenate([block @ data / data.size for block in weight_blocks(data.size, n_resamples, seed)])
    tail = (1 - confidence) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return Estimate(float(data.mean()), float(low), float(high), int(data.size))


def status_counts(status: np.ndarray) -> dict[str, int]:
    """Requests per status; a missing status counts as ``ok``."""
    values = np.asarray(status, dtype=object)
    values = np.where(values == None, "ok", values)  # noqa: E711 - elementwise comparison on an object array
    return {s: int(np.count_nonzero(values == s)) for s in STATUSES}
