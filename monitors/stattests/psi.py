"""Population Stability Index."""

from __future__ import annotations

import numpy as np

from driftscope.monitors.stattests.base import Score, StatTest
from driftscope.monitors.stattests.binning import Bins, binned_proportions
from driftscope.monitors.stattests.columns import ColumnPair


def psi(pair: ColumnPair, *, bins: Bins = "sturges") -> Score:
    """Population Stability Index ``sum((r - c) * ln(r / c))`` over bins or categories.

    Conventions, as Evidently's ``legacy/calculations/stattests/psi.py`` with ``get_binned_data``
    (see :mod:`driftscope.monitors.stattests.binning`): numeric features with more than 20 distinct reference
    values are histogrammed on Sturges edges over the pooled data, others counted per value;
    proportions ``count / n`` per side; zeros filled with 1e-4 (or ``min_nonzero / 1e6`` when the
    smallest non-zero proportion is at most 1e-4), no renormalisation; natural log. ``bins``
    ("sturges" or a number of equal-width bins) overrides the histogram rule. Default threshold
    0.1; drift when ``statistic >= threshold``.

    Examples
    --------
    >>> from monitors.stattests import drift_test
    >>> result = drift_test("psi", ["a"] * 50 + ["b"] * 50, ["a"] * 30 + ["b"] * 70,
    ...                     feature_type="categorical")
    >>> round(result.statistic, 6), result.p_value, result.drifted
    (0.16946, None, True)
    """
    reference, current = binned_proportions(pair, bins=bins, fill=True)
    return Score(float(np.sum((reference - current) * np.log(reference / current))))


STAT_TEST = StatTest(
    name="psi",
    feature_types=frozenset({"numeric", "categorical", "binary"}),
    default_threshold=0.1,
    kind="distance",
    rule=">=",
    func=psi,
)
