"""Multiple-testing corrections across the tests of one window.

* Benjamini-Hochberg (1995) controls the false discovery rate at ``q`` for independent or
  positively dependent p-values: with sorted p-values ``p_(1) <= ... <= p_(m)``, reject the ``k``
  smallest where ``k`` is the largest ``i`` with ``p_(i) <= i q / m``. Adjusted p-values (q-values)
  are ``min_{j >= i} min(1, m p_(j) / j)``, as ``scipy.stats.false_discovery_control(ps,
  method="bh")``; a test is rejected exactly when its adjusted p-value is ``<= q``. Under the
  global null (no feature drifted) BH rejects anything with probability at most ``q``.
* Holm-Bonferroni (used across performance metrics) is in :mod:`driftscope.monitors.performance`.
"""

import numpy as np


def bh_adjust(p_values: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values, in the input order.

    Examples
    --------
    >>> bh_adjust(np.array([0.01, 0.04, 0.03, 0.5])).round(4).tolist()
    [0.04, 0.0533, 0.0533, 0.5]
    """
    p = np.asarray(p_values, dtype=np.float64)
    m = p.size
    if m == 0:
        return p.copy()
    order = np.argsort(p, kind="stable")
    scaled = p[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum.accumulate(scaled[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(adjusted, 1.0)
    return out


def benjamini_hochberg(p_values: np.ndarray, q: float) -> np.ndarray:
    """Boolean mask of the tests rejected by Benjamini-Hochberg at false discovery rate ``q``.

    Examples
    --------
    >>> benjamini_hochberg(np.array([0.01, 0.04, 0.03, 0.5]), 0.05).tolist()
    [True, False, False, False]
    """
    if not 0.0 < q < 1.0:
        raise ValueError(f"a false discovery rate must be in (0, 1), got {q!r}")
    return bh_adjust(p_values) <= q
