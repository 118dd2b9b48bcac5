"""Kullback-Leibler divergence of the reference distribution from the current one."""

from __future__ import annotations

from scipy.stats import entropy

from driftscope.monitors.stattests.base import Score, StatTest
from driftscope.monitors.stattests.binning import Bins, binned_proportions
from driftscope.monitors.stattests.columns import ColumnPair


def kl_div(pair: ColumnPair, *, bins: Bins = "sturges") -> Score:
    """Kullback-Leibler divergence ``KL(reference || current)``, natural log.

    Conventions, as Evidently's ``legacy/calculations/stattests/kl_div.py``: binning and zero
    filling as :func:`driftscope.monitors.stattests.psi.psi` (Sturges edges over pooled data for numeric
    features with more than 20 distinct reference values, per-value counts otherwise; zeros
    filled with 1e-4 or ``min_nonzero / 1e6``), then ``scipy.stats.entropy(reference, current)``,
    which renormalises both vectors to sum 1. Not symmetric. Default threshold 0.1; drift when
    ``statistic >= threshold``.

    Examples
    --------
    >>> from monitors.stattests import drift_test
    >>> result = drift_test("kl_div", ["a"] * 50 + ["b"] * 50, ["a"] * 30 + ["b"] * 70,
    ...                     feature_type="categorical")
    >>> round(result.statistic, 6), result.drifted
    (0.087177, False)
    """
    reference, current = binned_proportions(pair, bins=bins, fill=True)
    return Score(float(entropy(reference, current)))


STAT_TEST = StatTest(
    name="kl_div",
    feature_types=frozenset({"numeric", "categorical", "binary"}),
    default_threshold=0.1,
    kind="distance",
    rule=">=",
    func=kl_div,
)
