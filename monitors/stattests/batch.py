"""Dataset-level drift: fit the reference once, evaluate many windows column by column.

A :class:`ReferenceProfile` keeps, per column, what every test needs from the reference: sorted
finite values, their std and distinct-value counts (numeric), or category index, counts and
per-row codes (categorical). Evaluating a window then costs one sort (numeric) or one hash
factorisation (categorical) of the current column plus the test itself. Histogram edges are not
precomputed: Evidently's convention puts them over the pooled reference + current data, so they
depend on the window; they are derived from the pooled min, max and size without building the
pooled array. Results equal :func:`driftscope.monitors.stattests.drift_test` on the same column.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from driftscope.monitors.stattests import registry
from driftscope.monitors.stattests.base import DriftTestResult, StatTest
from driftscope.monitors.stattests.coerce import ArrayLike
from driftscope.monitors.stattests.columns import ColumnReference, fit_column, pair
from driftscope.monitors.stattests.evaluate import check_feature_type, evaluate_pair, resolve_threshold
from driftscope.monitors.stattests.select import select_for_pair

Columns = pd.DataFrame | Mapping[str, ArrayLike]


@dataclass(frozen=True, eq=False)
class ReferenceProfile:
    """Fitted reference data: feature type and prepared reference per column, in fit order.

    Plain dicts (not read-only proxies) so that a fitted profile can be pickled.
    """

    feature_types: Mapping[str, str]
    columns: Mapping[str, ColumnReference]


def fit_reference(frame_or_arrays: Columns, feature_types: Mapping[str, str]) -> ReferenceProfile:
    """Prepare the reference columns named in ``feature_types``.

    Parameters
    ----------
    frame_or_arrays : pandas DataFrame or mapping of column name to array-like
        Reference data; columns not in ``feature_types`` are ignored.
    feature_types : mapping of column name to {"numeric", "categorical", "binary"}
        Columns to monitor and how to compare them.

    Examples
    --------
    >>> reference = {"x": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], "c": ["a", "b", "a", "b", "a", "b"]}
    >>> profile = fit_reference(reference, {"x": "numeric", "c": "categorical"})
    >>> current = {"x": [1.5, 2.5, 3.5, 4.5, 5.5, 6.5], "c": ["a", "z", None, "b", "a", "b"]}
    >>> results = evaluate_columns(profile, current)
    >>> [(r.column, r.method, r.drifted, r.new_categories) for r in results]
    [('x', 'ks', False, ()), ('c', 'chisquare', True, ('z',))]
    """
    for name, feature_type in feature_types.items():
        check_feature_type(feature_type)
        if name not in frame_or_arrays:
            raise ValueError(f"reference data has no column {name!r} (needed by feature_types)")
    columns = {name: fit_column(frame_or_arrays[name], ft) for name, ft in feature_types.items()}
    return ReferenceProfile(dict(feature_types), columns)


def _configured_tests(profile: ReferenceProfile, methods: Mapping[str, str]) -> dict[str, StatTest]:
    """Registry records of the explicitly configured methods, checked before any computation."""
    unknown = sorted(set(methods) - set(profile.columns))
    if unknown:
        raise ValueError(f"methods name columns {unknown} that are not in the reference profile")
    tests = {name: registry.get(method) for name, method in methods.items()}
    for name, test in tests.items():
        check_feature_type(profile.feature_types[name], test)
    return tests


def evaluate_columns(
    profile: ReferenceProfile,
    current_columns: Columns,
    methods: Mapping[str, str] | None = None,
    thresholds: Mapping[str, float] | None = None,
    *,
    params: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[DriftTestResult]:
    """Test every profiled column of a current window against the reference.

    Parameters
    ----------
    profile : ReferenceProfile
        Output of :func:`fit_reference`.
    current_columns : pandas DataFrame or mapping of column name to array-like
        The window; must contain every profiled column.
    methods : mapping of column name to method name, optional
        Columns not listed get Evidently's automatic choice (:func:`select_for_pair`).
    thresholds : mapping of column name to float, optional
        Columns not listed use their method's default threshold.
    params : mapping of column name to a mapping of method options, optional

    Returns
    -------
    list of DriftTestResult
        One per profiled column, in profile order, with ``column`` set.
    """
    methods, thresholds, params = methods or {}, thresholds or {}, params or {}
    tests = _configured_tests(profile, methods)
    absent = [name for name in profile.columns if name not in current_columns]
    if absent:
        raise ValueError(f"current data has no column(s) {absent}")
    results = []
    for name, reference in profile.columns.items():
        feature_type = profile.feature_types[name]
        column_pair = pair(reference, current_columns[name])
        test = tests.get(name) or registry.get(select_for_pair(feature_type, column_pair))
        column_params = dict(params.get(name, {}))
        test.check_params(column_params)
        threshold = resolve_threshold(test, thresholds.get(name))
        results.append(evaluate_pair(test, column_pair, feature_type, threshold, column_params, name))
    return results
