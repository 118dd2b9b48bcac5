"""Energy distance."""

from __future__ import annotations

import numpy as np

from driftscope.monitors.stattests.base import Score, StatTest
from driftscope.monitors.stattests.binning import cdf_distance
from driftscope.monitors.stattests.columns import NumericPair


def energy(pair: NumericPair) -> Score:
    """Energy distance ``sqrt(2) * ||F_ref - F_cur||_2`` of the empirical CDFs, not normalised.

    Conventions, as Evidently's ``legacy/calculations/stattests/energy_distance.py`` (named
    ``"ed"`` there), which calls ``scipy.stats.energy_distance``: numeric features only; raw
    values, no scaling (so the threshold is in the data's units); default threshold 0.1; drift
    when ``statistic > threshold`` (strictly greater, unlike the other distances).

    Examples
    --------
    >>> from monitors.stattests import drift_test
    >>> result = drift_test("energy", [0.0, 1.0, 2.0], [0.0, 1.0, 2.0])
    >>> result.statistic, result.drifted
    (0.0, False)
    """
    return Score(float(np.sqrt(2) * cdf_distance(2, pair.reference.values, pair.current)))


STAT_TEST = StatTest(
    name="energy",
    feature_types=frozenset({"numeric"}),
    default_threshold=0.1,
    kind="distance",
    rule=">",
    func=energy,
)
