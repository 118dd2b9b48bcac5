"""Chi-square goodness-of-fit test of current category counts against the reference frequencies."""

from __future__ import annotations

import numpy as np
from scipy.stats import chisquare as scipy_chisquare

from driftscope.monitors.stattests.base import Score, StatTest
from driftscope.monitors.stattests.columns import ColumnPair


def chisquare(pair: ColumnPair) -> Score:
    """Chi-square test of the current counts against reference counts scaled to the current size.

    Conventions, as Evidently's ``legacy/calculations/stattests/chisquare_stattest.py``: categories
    are reference ∪ current (distinct values for numeric features); expected counts are
    ``reference_count * n_current / n_reference``; ``scipy.stats.chisquare(observed, expected)``
    with ``ddof=0``. A category absent from the reference has expected count 0, so the statistic
    is infinite and the p-value 0 (Evidently behaves the same). When both sides hold one and the
    same single category there are no degrees of freedom: statistic 0, p-value 1 (Evidently
    returns a NaN p-value, also "no drift"). Default threshold 0.05; drift when
    ``p_value < threshold``. Evidently allows it for categorical features and picks it
    automatically for numeric features with 3-5 distinct values, so numeric is accepted too.

    Examples
    --------
    >>> from monitors.stattests import drift_test
    >>> result = drift_test("chisquare", ["a"] * 50 + ["b"] * 50, ["a"] * 30 + ["b"] * 70,
    ...                     feature_type="categorical")
    >>> round(result.statistic, 6), round(result.p_value, 6), result.drifted
    (16.0, 6.3e-05, True)
    """
    counts = pair.value_counts()
    if counts.keys.size == 1:
        return Score(0.0, 1.0)
    n_reference, n_current = pair.sizes
    expected = counts.reference * (n_current / n_reference)
    with np.errstate(divide="ignore", invalid="ignore"):
        result = scipy_chisquare(counts.current, expected)
    return Score(float(result.statistic), float(result.pvalue))


STAT_TEST = StatTest(
    name="chisquare",
    feature_types=frozenset({"numeric", "categorical", "binary"}),
    default_threshold=0.05,
    kind="p_value",
    rule="<",
    func=chisquare,
)
