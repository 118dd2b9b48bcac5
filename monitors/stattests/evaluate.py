"""Run a registered test on prepared data and package the outcome; the per-column entry point."""

from __future__ import annotations

import math
from functools import partial
from typing import Any

from driftscope.monitors.stattests import registry
from driftscope.monitors.stattests.base import FEATURE_TYPES, DriftTestResult, StatTest
from driftscope.monitors.stattests.coerce import ArrayLike
from driftscope.monitors.stattests.columns import ColumnPair, fit_column, pair


def check_feature_type(feature_type: str, test: StatTest | None = None) -> None:
    """Raise ValueError if ``feature_type`` is unknown or not accepted by ``test``."""
    if feature_type not in FEATURE_TYPES:
        raise ValueError(f"feature_type must be one of {list(FEATURE_TYPES)}, got {feature_type!r}")
    if test is not None and feature_type not in test.feature_types:
        raise ValueError(
            f"drift method {test.name!r} does not support feature_type={feature_type!r}; "
            f"it accepts {sorted(test.feature_types)}"
        )


def resolve_threshold(test: StatTest, threshold: float | None) -> float:
    """The method default for None; otherwise a finite non-negative number (at most 1 for p-values)."""
    if threshold is None:
        return test.default_threshold
    value = float(threshold)
    upper = 1.0 if test.kind == "p_value" else math.inf
    if not (math.isfinite(value) and 0.0 <= value <= upper):
        bounds = "[0, 1] (a p-value)" if test.kind == "p_value" else "a finite number >= 0"
        raise ValueError(f"threshold for drift method {test.name!r} must be in {bounds}, got {threshold!r}")
    return value


def _share(missing: int, rows: int) -> float:
    return missing / rows if rows else 0.0


def evaluate_pair(
    test: StatTest,
    column_pair: ColumnPair,
    feature_type: str,
    threshold: float,
    params: dict[str, Any],
    column: str | None = None,
) -> DriftTestResult:
    """Run ``test`` on prepared data; sides below ``test.min_size`` give ``status="no_data"``."""
    n_reference, n_current = column_pair.sizes
    rows_reference, rows_current = column_pair.rows
    result = partial(
        DriftTestResult,
        method=test.name,
        threshold=threshold,
        feature_type=feature_type,
        missing_share_reference=_share(rows_reference - n_reference, rows_reference),
        missing_share_current=_share(rows_current - n_current, rows_current),
        new_categories=column_pair.new_categories,
        n_reference=n_reference,
        n_current=n_current,
        column=column,
    )
    if min(n_reference, n_current) < test.min_size:
        return result(statistic=None, p_value=None, drifted=False, status="no_data")
    score = test.func(column_pair, **params)
    drifted = test.drifted(score, threshold)
    return result(statistic=score.statistic, p_value=score.p_value, drifted=drifted, status="ok")


def drift_test(
    method: str,
    reference: ArrayLike,
    current: ArrayLike,
    *,
    feature_type: str = "numeric",
    threshold: float | None = None,
    **params: Any,
) -> DriftTestResult:
    """Compare one column of current data with its reference using a registered method.

    Parameters
    ----------
    method : str
        Registry name, one of :func:`driftscope.monitors.stattests.registry.names`.
    reference, current : list, numpy array or pandas Series
        Values to compare. Missing values (None, NaN, pd.NA, +/-inf) are dropped and reported.
    feature_type : {"numeric", "categorical", "binary"}
        How to treat the values; "binary" is handled exactly like "categorical".
    threshold : float, optional
        Verdict threshold; None uses the method's default.
    **params
        Method options (e.g. ``bins`` for psi, ``base`` for jensenshannon).

    Returns
    -------
    DriftTestResult
        ``status="no_data"`` (no statistic, not drifted) when a side has too few values.

    Raises
    ------
    UnknownMethodError
        For a method name that is not registered.
    ValueError
        For a feature type the method does not accept, bad parameters or a bad threshold.

    Examples
    --------
    >>> result = drift_test("psi", [1, 2, 2, 3], [1, 2, 3, None], threshold=0.2)
    >>> round(result.statistic, 4), result.drifted, result.missing_share_current
    (0.1155, False, 0.25)
    >>> drift_test("ks", [], [1.0]).status
    'no_data'
    """
    test = registry.get(method)
    check_feature_type(feature_type, test)
    test.check_params(params)
    resolved = resolve_threshold(test, threshold)
    column_pair = pair(fit_column(reference, feature_type), current)
    return evaluate_pair(test, column_pair, feature_type, resolved, params)
