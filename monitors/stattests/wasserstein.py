"""Wasserstein-1 distance normalised by the reference standard deviation."""

from __future__ import annotations

from driftscope.monitors.stattests.base import Score, StatTest
from driftscope.monitors.stattests.binning import cdf_distance
from driftscope.monitors.stattests.columns import NumericPair

MIN_NORM = 0.001


def wasserstein(pair: NumericPair) -> Score:
    """Wasserstein-1 (earth mover's) distance divided by ``max(std(reference), 0.001)``.

    Conventions, as Evidently's ``legacy/calculations/stattests/wasserstein_distance_norm.py``
    ("Wasserstein distance (normed)"): numeric features only; ``scipy.stats.wasserstein_distance``
    arithmetic on the raw values; population std (``ddof=0``) of the cleaned reference, floored at
    0.001; default threshold 0.1; drift when ``statistic >= threshold``.

    Examples
    --------
    >>> from monitors.stattests import drift_test
    >>> result = drift_test("wasserstein", [0.0, 2.0], [1.0, 3.0])
    >>> result.statistic, result.drifted
    (1.0, True)
    """
    norm = max(pair.reference.std, MIN_NORM)
    return Score(cdf_distance(1, pair.reference.values, pair.current) / norm)


STAT_TEST = StatTest(
    name="wasserstein",
    feature_types=frozenset({"numeric"}),
    default_threshold=0.1,
    kind="distance",
    rule=">=",
    func=wasserstein,
)
