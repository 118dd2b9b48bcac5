"""Binning and CDF helpers shared by the tests, reproducing Evidently's ``get_binned_data``.

Convention (``evidently/legacy/calculations/stattests/utils.py``):

* numeric columns whose *reference* has more than 20 distinct values are histogrammed with
  ``np.histogram_bin_edges(reference + current, bins="sturges")`` (pooled data, so the edges depend
  on the window); Evidently's ``n_bins=30`` argument is accepted by its functions but never used;
* other columns are counted per distinct value / category over reference ∪ current;
* proportions are ``count / n`` of each side (not renormalised after the fill below);
* with ``fill_zeroes``, zero proportions become ``min_nonzero / 1e6`` when the smallest non-zero
  proportion is ``<= 1e-4``, and ``1e-4`` otherwise, independently on each side.
"""

from __future__ import annotations

import numpy as np

from driftscope.monitors.stattests.columns import MAX_UNIQUE_AS_CATEGORIES, ColumnPair, NumericPair

EPSILON = 1e-4
Bins = int | str


def _vecdot(a: np.ndarray, b: np.ndarray) -> float:
    """Dot product with the summation scipy uses (``np.vecdot`` on numpy 2, else ``sum(a * b)``)."""
    vecdot = getattr(np, "vecdot", None)
    return float(vecdot(a, b)) if vecdot is not None else float(np.sum(a * b))


def histogram_edges(low: float, high: float, size: int, bins: Bins, integer: bool) -> np.ndarray:
    """Bin edges numpy would return for data of that range, size and dtype.

    Equals ``np.histogram_bin_edges(data, bins)`` for ``bins="sturges"`` or an integer, computed
    from ``min``, ``max`` and the size alone, so the pooled data never has to be materialised.

    Examples
    --------
    >>> data = np.array([0.0, 1.0, 2.5, 7.0, 3.0])
    >>> bool(np.array_equal(histogram_edges(0.0, 7.0, 5, "sturges", False),
    ...                     np.histogram_bin_edges(data, "sturges")))
    True
    """
    first, last = (low - 0.5, high + 0.5) if low == high else (low, high)
    if bins == "sturges":
        width = (high - low) / (np.log2(size) + 1.0)
        if integer and width < 1:
            width = 1
        n_bins = int(np.ceil((last - first) / width)) if width else 1
    elif isinstance(bins, int) and not isinstance(bins, bool) and bins >= 1:
        n_bins = bins
    else:
        raise ValueError(f"bins must be 'sturges' or a positive integer, got {bins!r}")
    return np.linspace(first, last, n_bins + 1, endpoint=True, dtype=np.float64)


def sorted_histogram(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts of sorted ``values`` per bin; equals ``np.histogram(values, edges)[0]``."""
    cumulative = np.concatenate(
        (values.searchsorted(edges[:-1], "left"), values.searchsorted(edges[-1:], "right"))
    )
    return np.diff(cumulative)


def pooled_edges(pair: NumericPair, bins: Bins) -> np.ndarray:
    """Histogram edges over the pooled reference and current values."""
    ref, cur = pair.reference.values, pair.current
    integer = pair.reference.integer and pair.current_integer
    low, high = min(ref[0], cur[0]), max(ref[-1], cur[-1])
    return histogram_edges(float(low), float(high), ref.size + cur.size, bins, integer)


def fill_zeroes(proportions: np.ndarray) -> np.ndarray:
    """Replace zero proportions the way Evidently does (see the module docstring).

    Examples
    --------
    >>> fill_zeroes(np.array([0.5, 0.5, 0.0])).tolist()
    [0.5, 0.5, 0.0001]
    >>> fill_zeroes(np.array([0.99995, 0.00005, 0.0])).tolist()
    [0.99995, 5e-05, 5e-11]
    """
    smallest = proportions[proportions != 0].min()
    fill = smallest / 10**6 if smallest <= EPSILON else EPSILON
    return np.where(proportions == 0, fill, proportions)


def binned_proportions(pair: ColumnPair, *, bins: Bins, fill: bool) -> tuple[np.ndarray, np.ndarray]:
    """Reference and current proportions per bin or category, as Evidently's ``get_binned_data``."""
    n_ref, n_cur = pair.sizes
    if isinstance(pair, NumericPair) and pair.reference.n_unique > MAX_UNIQUE_AS_CATEGORIES:
        edges = pooled_edges(pair, bins)
        ref = sorted_histogram(pair.reference.values, edges) / n_ref
        cur = sorted_histogram(pair.current, edges) / n_cur
    else:
        counts = pair.value_counts()
        ref, cur = counts.reference / n_ref, counts.current / n_cur
    if fill:
        return fill_zeroes(ref), fill_zeroes(cur)
    return ref, cur


def cdf_distance(power: int, u_sorted: np.ndarray, v_sorted: np.ndarray) -> float:
    """The L-p distance between two empirical CDFs, from already sorted samples.

    ``power`` 1 is the Wasserstein-1 distance, 2 is energy distance / sqrt(2). Same arithmetic
    as ``scipy.stats._stats_py._cdf_distance``, but the CDF values come from one stable argsort
    of the two sorted runs (a linear merge) instead of scipy's argsorts and two ``searchsorted``
    calls. Between tied values the CDFs may differ from scipy's, but there the gap to the next
    value is 0, so every product and the sum are bit-identical to scipy's.

    Examples
    --------
    >>> from scipy.stats import wasserstein_distance
    >>> u, v = np.array([0.0, 1.0, 1.0, 3.0]), np.array([1.0, 5.0, 6.0, 8.0])
    >>> bool(cdf_distance(1, u, v) == wasserstein_distance(u, v))
    True
    """
    pooled = np.concatenate((u_sorted, v_sorted))
    order = np.argsort(pooled, kind="stable")
    deltas = np.diff(pooled[order])
    u_counts = np.cumsum(order[:-1] < u_sorted.size)
    u_cdf = u_counts / u_sorted.size
    v_cdf = (np.arange(1, pooled.size) - u_counts) / v_sorted.size
    if power == 1:
        return _vecdot(np.abs(u_cdf - v_cdf), deltas)
    return float(np.sqrt(_vecdot(np.square(u_cdf - v_cdf), deltas)))
