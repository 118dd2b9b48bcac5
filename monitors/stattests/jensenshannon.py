"""Jensen-Shannon distance."""

from __future__ import annotations

from scipy.spatial.distance import jensenshannon as scipy_jensenshannon

from driftscope.monitors.stattests.base import Score, StatTest
from driftscope.monitors.stattests.binning import Bins, binned_proportions
from driftscope.monitors.stattests.columns import ColumnPair


def jensenshannon(pair: ColumnPair, *, bins: Bins = "sturges", base: float | None = None) -> Score:
    """Jensen-Shannon *distance* (square root of the divergence), natural log unless ``base``.

    Conventions, as Evidently's ``legacy/calculations/stattests/jensenshannon.py``: binning as
    :func:`driftscope.monitors.stattests.psi.psi` (Sturges edges over pooled data for numeric features with
    more than 20 distinct reference values, per-value counts otherwise) but **no** zero filling;
    ``scipy.spatial.distance.jensenshannon(reference, current, base)``, which renormalises both
    vectors. With the natural log the distance lies in [0, sqrt(ln 2)]. Default threshold 0.1;
    drift when ``statistic >= threshold``.

    Examples
    --------
    >>> from monitors.stattests import drift_test
    >>> result = drift_test("jensenshannon", ["a"] * 50 + ["b"] * 50, ["a"] * 30 + ["b"] * 70,
    ...                     feature_type="categorical")
    >>> round(result.statistic, 6), result.drifted
    (0.144934, True)
    """
    reference, current = binned_proportions(pair, bins=bins, fill=False)
    return Score(float(scipy_jensenshannon(reference, current, base)))


STAT_TEST = StatTest(
    name="jensenshannon",
    feature_types=frozenset({"numeric", "categorical", "binary"}),
    default_threshold=0.1,
    kind="distance",
    rule=">=",
    func=jensenshannon,
)
