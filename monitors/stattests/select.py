"""Automatic choice of a drift method, with Evidently's default rules.

Rules of ``_get_default_stattest`` in ``evidently/legacy/calculations/stattests/registry.py``
(``n`` = non-missing reference values, ``k`` = distinct non-missing values of reference ∪
current; "binary" follows the categorical rules, Evidently has no binary type):

============  ==============================  =======================================
n             numeric                         categorical / binary
============  ==============================  =======================================
<= 1000       k <= 2: ztest; k <= 5:          k <= 2: ztest; else chisquare
              chisquare; else ks
> 1000        k <= 5: jensenshannon;          jensenshannon
              else wasserstein
============  ==============================  =======================================
"""

from __future__ import annotations

from driftscope.monitors.stattests.coerce import ArrayLike
from driftscope.monitors.stattests.columns import ColumnPair, NumericPair, NumericReference, fit_column, pair
from driftscope.monitors.stattests.evaluate import check_feature_type

SMALL_REFERENCE = 1000


def choose(feature_type: str, n_reference: int, n_unique: int) -> str:
    """Evidently's default method for a column of that type, reference size and cardinality.

    Examples
    --------
    >>> choose("numeric", 500, 100), choose("numeric", 5000, 100), choose("categorical", 5000, 2)
    ('ks', 'wasserstein', 'jensenshannon')
    """
    if n_reference <= SMALL_REFERENCE:
        if feature_type == "numeric" and n_unique > 5:
            return "ks"
        return "chisquare" if n_unique > 2 else "ztest"
    if feature_type == "numeric" and n_unique > 5:
        return "wasserstein"
    return "jensenshannon"


def select_for_pair(feature_type: str, column_pair: ColumnPair) -> str:
    """:func:`choose` for prepared data, counting distinct values only when the rule needs them."""
    n_reference = column_pair.sizes[0]
    if isinstance(column_pair, NumericPair) and column_pair.reference.n_unique > 5:
        return choose(feature_type, n_reference, column_pair.reference.n_unique)
    return choose(feature_type, n_reference, column_pair.value_counts().keys.size)


def select_method(feature_type: str, reference: ArrayLike, current: ArrayLike | None = None) -> str:
    """Name of the method Evidently would pick for this column.

    Parameters
    ----------
    feature_type : {"numeric", "categorical", "binary"}
        How the column is compared.
    reference : array-like
        Reference values; missing values are ignored.
    current : array-like, optional
        Current values. Evidently counts distinct values over reference ∪ current; without
        ``current`` only the reference is counted, so the choice is fixed once a monitor is fitted.

    Examples
    --------
    >>> select_method("numeric", list(range(100)))
    'ks'
    >>> select_method("categorical", ["a", "b"] * 600)
    'jensenshannon'
    >>> select_method("binary", ["yes", "no", None])
    'ztest'
    """
    check_feature_type(feature_type)
    column = fit_column(reference, feature_type)
    if current is not None:
        return select_for_pair(feature_type, pair(column, current))
    if isinstance(column, NumericReference):
        return choose(feature_type, column.values.size, column.n_unique)
    return choose(feature_type, column.codes.size, len(column.categories))
