"""Two-sample Kolmogorov-Smirnov test."""

from __future__ import annotations

import warnings

from scipy.stats import ks_2samp

from driftscope.monitors.stattests.base import Score, StatTest
from driftscope.monitors.stattests.columns import NumericPair


def ks(pair: NumericPair) -> Score:
    """Two-sample Kolmogorov-Smirnov test, two-sided (``scipy.stats.ks_2samp``, ``method="auto"``).

    Conventions, as Evidently's ``legacy/calculations/stattests/ks_stattest.py``: numeric features
    only; statistic is the KS distance D; default threshold 0.05; drift when
    ``p_value <= threshold`` (note ``<=``, unlike most other p-value tests). When scipy's exact
    p-value fails to converge it falls back to the asymptotic one; its warning is silenced.

    Examples
    --------
    >>> from monitors.stattests import drift_test
    >>> result = drift_test("ks", [1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0])
    >>> result.statistic, result.p_value, result.drifted
    (0.0, 1.0, False)
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="ks_2samp: Exact calculation unsuccessful")
        result = ks_2samp(pair.reference.values, pair.current)
    return Score(float(result.statistic), float(result.pvalue))


STAT_TEST = StatTest(
    name="ks",
    feature_types=frozenset({"numeric"}),
    default_threshold=0.05,
    kind="p_value",
    rule="<=",
    func=ks,
)
