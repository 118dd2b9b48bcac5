"""Two-proportion z-test for binary features."""

from __future__ import annotations

import numpy as np
from scipy.stats import norm

from driftscope.monitors.stattests.base import Score, StatTest
from driftscope.monitors.stattests.columns import ColumnPair


def _first_key(keys: np.ndarray) -> int:
    """Position of the smallest key (string order when the keys are not mutually comparable)."""
    try:
        return min(range(keys.size), key=keys.__getitem__)
    except TypeError:
        return min(range(keys.size), key=lambda i: str(keys[i]))


def ztest(pair: ColumnPair) -> Score:
    """Two-proportion z-test of the share of rows that differ from the smallest category.

    Conventions, as Evidently's ``legacy/calculations/stattests/z_stattest.py`` (named ``"z"``
    there): the categories of reference ∪ current are sorted and the first one is coded 0, every
    other value 1 (so with more than two categories it tests "first vs rest"); pooled-variance
    statistic ``z = (p_ref - p_cur) / sqrt(P (1 - P) (1/n_ref + 1/n_cur))``; two-sided p-value
    ``2 * (1 - Phi(|z|))``. When both sides hold the same single value: z = 0, p-value 1.
    Default threshold 0.05; drift when ``p_value < threshold``.

    Examples
    --------
    >>> from monitors.stattests import drift_test
    >>> result = drift_test("ztest", [0] * 50 + [1] * 50, [0] * 30 + [1] * 70, feature_type="binary")
    >>> round(result.statistic, 4), round(result.p_value, 4), result.drifted
    (-2.8868, 0.0039, True)
    """
    counts = pair.value_counts()
    if counts.keys.size == 1:
        return Score(0.0, 1.0)
    first = _first_key(counts.keys)
    n1, n2 = pair.sizes
    p1 = float(n1 - counts.reference[first]) / n1
    p2 = float(n2 - counts.current[first]) / n2
    pooled = float(p1 * n1 + p2 * n2) / (n1 + n2)
    z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1.0 / n1 + 1.0 / n2))
    return Score(float(z), float(2 * (1 - norm.cdf(np.abs(z)))))


STAT_TEST = StatTest(
    name="ztest",
    feature_types=frozenset({"numeric", "categorical", "binary"}),
    default_threshold=0.05,
    kind="p_value",
    rule="<",
    func=ztest,
)
