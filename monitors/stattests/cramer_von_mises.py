"""Two-sample Cramér-von Mises test."""

from __future__ import annotations

from scipy.stats import cramervonmises_2samp

from driftscope.monitors.stattests.base import Score, StatTest
from driftscope.monitors.stattests.columns import NumericPair


def cramer_von_mises(pair: NumericPair) -> Score:
    """Two-sample Cramér-von Mises test (``scipy.stats.cramervonmises_2samp``, ``method="auto"``).

    Conventions, as Evidently's ``legacy/calculations/stattests/cramer_von_mises_stattest.py``
    (a vendored copy of the same scipy algorithm: exact p-value when both samples have at most 20
    values, asymptotic otherwise): numeric features only; at least 2 values per side, fewer gives
    ``status="no_data"`` (Evidently raises); default threshold **0.1**; drift when
    ``p_value <= threshold``.

    Examples
    --------
    >>> from monitors.stattests import drift_test
    >>> result = drift_test("cramer_von_mises", [1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0])
    >>> round(result.p_value, 6), result.drifted
    (1.0, False)
    """
    result = cramervonmises_2samp(pair.reference.values, pair.current)
    return Score(float(result.statistic), float(result.pvalue))


STAT_TEST = StatTest(
    name="cramer_von_mises",
    feature_types=frozenset({"numeric"}),
    default_threshold=0.1,
    kind="p_value",
    rule="<=",
    func=cramer_von_mises,
    min_size=2,
)
