"""Hellinger distance."""

from __future__ import annotations

import numpy as np

from driftscope.monitors.stattests.base import Score, StatTest
from driftscope.monitors.stattests.binning import histogram_edges, sorted_histogram
from driftscope.monitors.stattests.columns import ColumnPair, NumericPair


def _numeric_affinity(pair: NumericPair) -> float:
    keys = pair.value_counts().keys
    integer = pair.reference.integer and pair.current_integer
    edges = histogram_edges(float(keys[0]), float(keys[-1]), keys.size, "sturges", integer)
    widths = np.diff(edges)
    n_reference, n_current = pair.sizes
    reference = sorted_histogram(pair.reference.values, edges) / widths / n_reference
    current = sorted_histogram(pair.current, edges) / widths / n_current
    bin_width = (edges.max() - edges.min()) / (edges.size - 1)
    return float(np.sum(np.sqrt(reference * current) * bin_width))


def hellinger(pair: ColumnPair) -> Score:
    """Hellinger distance ``sqrt(1 - sum(sqrt(p * q)))``, in [0, 1].

    Conventions, as Evidently's ``legacy/calculations/stattests/hellinger_distance.py`` (which
    does *not* use ``get_binned_data``): categorical features use the proportion of each category
    of reference ∪ current; numeric features use density histograms on Sturges edges computed
    from the *distinct* values of reference ∪ current (``np.histogram_bin_edges(unique_values,
    "sturges")``) times the mean bin width. The affinity is clipped to [0, 1]. No zero filling.
    Default threshold 0.1; drift when ``statistic >= threshold``.

    Examples
    --------
    >>> from monitors.stattests import drift_test
    >>> result = drift_test("hellinger", ["a"] * 50 + ["b"] * 50, ["a"] * 30 + ["b"] * 70,
    ...                     feature_type="categorical")
    >>> round(result.statistic, 6), result.drifted
    (0.145237, True)
    """
    if isinstance(pair, NumericPair):
        affinity = _numeric_affinity(pair)
    else:
        n_reference, n_current = pair.sizes
        products = pair.reference_counts / n_reference * (pair.current_counts / n_current)
        affinity = float(np.sum(np.sqrt(products)))
    return Score(float(np.sqrt(1 - np.clip(affinity, 0, 1))))


STAT_TEST = StatTest(
    name="hellinger",
    feature_types=frozenset({"numeric", "categorical", "binary"}),
    default_threshold=0.1,
    kind="distance",
    rule=">=",
    func=hellinger,
)
