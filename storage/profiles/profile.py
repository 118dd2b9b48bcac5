"""The profile of one column in one time bucket, and its associative merge.

Moments are Chan, Golub and LeVeque's pairwise update ("Updating formulae and a pairwise algorithm
for computing sample variances", 1979): for parts ``a`` and ``b`` with counts ``n_a``, ``n_b``,
means and sums of squared deviations ``M2``::

    delta = mean_b - mean_a
    mean  = mean_a + delta * n_b / n
    M2    = M2_a + M2_b + delta**2 * n_a * n_b / n

so merging in any grouping gives the same moments up to floating-point rounding. Counts, missing
values, min/max and histograms merge exactly. New categories keep the ``TOP_NEW`` most frequent
(ties by name) and fold the rest into ``other``; while a version has at most ``TOP_NEW`` new
categories the merge is exact, beyond that which names are kept may depend on the grouping (their
total never does).
"""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from driftscope.storage.profiles import sketch as kll

TOP_NEW = 50


@dataclass(frozen=True, eq=False)
class ColumnProfile:
    """Summary of one column over some rows.

    Attributes
    ----------
    n_rows, n_missing : int
        Rows seen; rows whose value was missing (null, NaN or +/-inf).
    minimum, maximum, mean, m2 : float
        Of the finite values (numeric columns; NaN without values). ``m2`` is the sum of squared
        deviations from the mean, so the population variance is ``m2 / n_values``.
    counts : numpy.ndarray of int64
        Numeric: counts per histogram cell of the column's :class:`ColumnSpec` (underflow first,
        overflow last). Categorical: counts per reference category.
    new : dict of str to int
        Categorical: counts of categories not in the reference (at most ``TOP_NEW``).
    other : int
        Categorical: new-category values not kept in ``new``.
    sketch : bytes
        Numeric: serialized KLL sketch of the finite values (``b""`` for none).
    """

    n_rows: int
    n_missing: int
    counts: np.ndarray
    minimum: float = float("nan")
    maximum: float = float("nan")
    mean: float = float("nan")
    m2: float = float("nan")
    new: dict[str, int] = field(default_factory=dict)
    other: int = 0
    sketch: bytes = b""

    @property
    def n_values(self) -> int:
        """Non-missing values."""
        return self.n_rows - self.n_missing

    @property
    def variance(self) -> float:
        """Population variance (``ddof=0``) of the finite values; NaN without values."""
        return self.m2 / self.n_values if self.n_values else float("nan")


def empty_profile(n_cells: int) -> ColumnProfile:
    """The profile of no rows (the identity of :func:`merge`)."""
    return ColumnProfile(0, 0, np.zeros(n_cells, dtype=np.int64))


def merge(a: ColumnProfile, b: ColumnProfile) -> ColumnProfile:
    """The profile of the rows of ``a`` and ``b`` together.

    Examples
    --------
    >>> from driftscope.storage.profiles.compute import numeric_profile
    >>> edges = np.array([0.0, 5.0, 10.0])
    >>> x = np.arange(11.0)
    >>> whole = numeric_profile(x, edges)
    >>> parts = merge(numeric_profile(x[:4], edges), numeric_profile(x[4:], edges))
    >>> parts.counts.tolist() == whole.counts.tolist(), parts.mean, round(parts.variance, 12)
    (True, 5.0, 10.0)
    """
    if a.counts.shape != b.counts.shape:
        raise ValueError(f"profiles over different bins cannot merge: {a.counts.size} and {b.counts.size} cells")
    mean, m2 = _moments(a, b)
    new, other = _top_new(Counter(a.new) + Counter(b.new), a.other + b.other)
    return ColumnProfile(
        n_rows=a.n_rows + b.n_rows, n_missing=a.n_missing + b.n_missing, counts=a.counts + b.counts,
        minimum=float(np.fmin(a.minimum, b.minimum)), maximum=float(np.fmax(a.maximum, b.maximum)),
        mean=mean, m2=m2, new=new, other=other, sketch=kll.merge_blobs([a.sketch, b.sketch]),
    )


def merge_all(profiles: Iterable[ColumnProfile], n_cells: int) -> ColumnProfile:
    """The merge of ``profiles`` (the empty profile of ``n_cells`` cells when there are none).

    Sketches are merged once at the end rather than pairwise, which is the same merge done cheaper.
    """
    merged, blobs = empty_profile(n_cells), []
    for profile in profiles:
        blobs.append(profile.sketch)
        merged = merge(merged, _without_sketch(profile))
    return _with_sketch(merged, kll.merge_blobs(blobs))


def _without_sketch(p: ColumnProfile) -> ColumnProfile:
    return ColumnProfile(p.n_rows, p.n_missing, p.counts, p.minimum, p.maximum, p.mean, p.m2, p.new, p.other)


def _with_sketch(p: ColumnProfile, blob: bytes) -> ColumnProfile:
    return ColumnProfile(p.n_rows, p.n_missing, p.counts, p.minimum, p.maximum, p.mean, p.m2, p.new, p.other, blob)


def _moments(a: ColumnProfile, b: ColumnProfile) -> tuple[float, float]:
    n_a, n_b = a.n_values, b.n_values
    if n_a == 0 or n_b == 0:
        return (b.mean, b.m2) if n_a == 0 else (a.mean, a.m2)
    n = n_a + n_b
    delta = b.mean - a.mean
    return a.mean + delta * n_b / n, a.m2 + b.m2 + delta * delta * n_a * n_b / n


def _top_new(counts: Counter[str], other: int) -> tuple[dict[str, int], int]:
    """Keep the ``TOP_NEW`` most frequent new categories (ties by name); fold the rest into ``other``."""
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    kept = dict(ranked[:TOP_NEW])
    return kept, other + sum(n for _, n in ranked[TOP_NEW:])
