"""k-sample Anderson-Darling test."""

from __future__ import annotations

import inspect
import warnings

from scipy.stats import anderson_ksamp

from driftscope.monitors.stattests.base import Score, StatTest
from driftscope.monitors.stattests.columns import NumericPair

# scipy 1.17 replaced ``midrank=True`` (the default Evidently relies on) by ``variant="midrank"``.
_MIDRANK = {"variant": "midrank"} if "variant" in inspect.signature(anderson_ksamp).parameters else {}


def anderson(pair: NumericPair) -> Score:
    """Two-sample Anderson-Darling test (``scipy.stats.anderson_ksamp``, midrank variant).

    Conventions, as Evidently's ``legacy/calculations/stattests/anderson_darling_stattest.py``:
    numeric features only; statistic is scipy's normalised k-sample statistic; the p-value is
    interpolated from scipy's table and therefore **capped to [0.001, 0.25]** (scipy's
    "p-value capped/floored" warnings are silenced). scipy needs at least 4 values in all, so a side
    with fewer than 2 values gives ``status="no_data"``; when the pooled data hold a single
    distinct value scipy cannot compute the test either (Evidently raises in both cases); both
    samples are then the same point mass and the result is statistic 0.0, p-value 1.0. Default
    threshold **0.1**; drift when ``p_value < threshold``.

    Examples
    --------
    >>> from monitors.stattests import drift_test
    >>> result = drift_test("anderson", [1.0, 2.0, 3.0, 4.0, 5.0], [11.0, 12.0, 13.0, 14.0, 15.0])
    >>> round(result.p_value, 6), result.drifted
    (0.004356, True)
    """
    reference, current = pair.reference.values, pair.current
    if reference[0] == reference[-1] == current[0] == current[-1]:
        return Score(0.0, 1.0)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="p-value (capped|floored)", category=UserWarning)
        result = anderson_ksamp([reference, current], **_MIDRANK)
    return Score(float(result.statistic), float(result.pvalue))


STAT_TEST = StatTest(
    name="anderson",
    feature_types=frozenset({"numeric"}),
    default_threshold=0.1,
    kind="p_value",
    rule="<",
    func=anderson,
    min_size=2,
)
