"""Total variation distance with a permutation p-value."""

from __future__ import annotations

import numpy as np

from driftscope.monitors.stattests.base import Score, StatTest
from driftscope.monitors.stattests.columns import CategoricalPair


def _scaled_distance(reference: np.ndarray, current: np.ndarray, n_ref: int, n_cur: int) -> np.integer:
    """``2 * n_ref * n_cur * TVD`` in exact integer arithmetic (comparisons without rounding)."""
    return np.abs(reference * n_cur - current * n_ref).sum()


def tvd(pair: CategoricalPair, *, n_permutations: int = 1000, seed: int = 0) -> Score:
    """Total variation distance ``0.5 * sum|p - q|`` with a permutation-test p-value.

    Conventions, as Evidently's ``legacy/calculations/stattests/tvd_stattest.py`` (named
    ``"TVD"`` there, and despite being a distance its drift score is a p-value): categorical
    features only; statistic is the TVD of the category proportions of reference ∪ current;
    p-value is the share of ``n_permutations`` (1000) random splits of the pooled rows (reference
    rows first, then current, in row order) into samples of the original sizes whose TVD is at
    least the observed one. Splits are drawn as Evidently draws them, with a legacy
    ``np.random.RandomState(seed)`` (seed 0) ``permutation``, without touching numpy's global
    state; distances are compared in exact integer arithmetic. Default threshold 0.1; drift when
    ``p_value < threshold``.

    Examples
    --------
    >>> from monitors.stattests import drift_test
    >>> result = drift_test("tvd", ["a"] * 50 + ["b"] * 50, ["a"] * 30 + ["b"] * 70,
    ...                     feature_type="categorical")
    >>> round(result.statistic, 6), result.p_value, result.drifted
    (0.2, 0.009, True)
    """
    n_ref, n_cur = pair.sizes
    reference, current = pair.reference_counts, pair.current_counts
    observed = _scaled_distance(reference, current, n_ref, n_cur)
    pooled = np.concatenate((pair.reference_codes, pair.current_codes))
    total = reference + current
    random_state = np.random.RandomState(seed)
    hits = 0
    for _ in range(n_permutations):
        drawn = np.bincount(pooled[random_state.permutation(pooled.size)[:n_ref]], minlength=total.size)
        hits += bool(observed <= _scaled_distance(drawn, total - drawn, n_ref, n_cur))
    statistic = 0.5 * np.sum(np.abs(reference / n_ref - current / n_cur))
    return Score(float(statistic), hits / n_permutations)


STAT_TEST = StatTest(
    name="tvd",
    feature_types=frozenset({"categorical", "binary"}),
    default_threshold=0.1,
    kind="p_value",
    rule="<",
    func=tvd,
)
