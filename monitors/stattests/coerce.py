"""Turn user input (lists, numpy arrays, pandas Series) into clean numpy arrays.

Missing values are None, NaN, pd.NA and, as in Evidently (``get_one_column_drift`` replaces
``+/-inf`` by NaN before dropping NaN), infinities. They are removed here and only counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

ArrayLike = Sequence[Any] | np.ndarray | pd.Series | pd.Index | pd.Categorical
_NUMERIC_INFERRED = frozenset({"integer", "floating", "mixed-integer-float", "boolean", "decimal", "empty"})


class NumericValues(NamedTuple):
    """Sorted finite values of one side, with the facts Evidently's binning depends on."""

    values: np.ndarray
    integer: bool
    n_rows: int


class CategoricalValues(NamedTuple):
    """Codes (missing rows removed, original order kept) into ``uniques`` (first-appearance order)."""

    codes: np.ndarray
    uniques: np.ndarray
    n_rows: int


def _one_dimensional(values: ArrayLike) -> np.ndarray | pd.Series | pd.Index | pd.Categorical:
    if isinstance(values, pd.Series | pd.Index | pd.Categorical | np.ndarray):
        data = values
    else:
        data = np.asarray(values)
        if data.dtype.kind not in "fiub":
            data = np.asarray(values, dtype=object)
    if data.ndim != 1:
        raise ValueError(f"drift tests take one-dimensional data, got shape {data.shape}")
    return data


def _float_array(data: np.ndarray | pd.Series | pd.Index | pd.Categorical) -> tuple[np.ndarray, bool]:
    """Return float64 values (NaN for missing) and whether the input dtype was integer."""
    dtype = data.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "fiub":
        return np.asarray(data).astype(np.float64, copy=False), dtype.kind in "iu"
    if not isinstance(data, np.ndarray) and not isinstance(dtype, np.dtype) and pd.api.types.is_numeric_dtype(dtype):
        return np.asarray(data.to_numpy(dtype=np.float64, na_value=np.nan)), False
    array = np.asarray(data, dtype=object)
    inferred = pd.api.types.infer_dtype(array, skipna=True)
    if dtype.kind in "mMUS" or inferred not in _NUMERIC_INFERRED:
        raise ValueError(
            f"feature_type='numeric' needs numbers but the data holds {inferred!r} values "
            f"(dtype {dtype}); pass feature_type='categorical' for labels"
        )
    missing = pd.isna(array)
    out = np.full(array.shape, np.nan)
    out[~missing] = array[~missing].astype(np.float64)
    return out, False


def numeric_values(values: ArrayLike) -> NumericValues:
    """Drop missing values and sort; never modifies the caller's array.

    Examples
    --------
    >>> numeric_values([3, None, 1.5, float("inf")])
    NumericValues(values=array([1.5, 3. ]), integer=False, n_rows=4)
    """
    array, integer = _float_array(_one_dimensional(values))
    finite = np.isfinite(array)
    if finite.all():
        return NumericValues(np.sort(array), integer, array.size)
    clean = array[finite]
    clean.sort()
    return NumericValues(clean, integer, array.size)


def categorical_values(values: ArrayLike) -> CategoricalValues:
    """Factorize labels with pandas' hash table; missing rows are dropped.

    Examples
    --------
    >>> out = categorical_values(["b", None, "a", "b", float("nan")])
    >>> out.codes.tolist(), out.uniques.tolist(), out.n_rows
    ([0, 1, 0], ['b', 'a'], 5)
    """
    data = _one_dimensional(values)
    codes, uniques = pd.factorize(data, use_na_sentinel=True)
    uniques = np.asarray(uniques, dtype=object)
    infinite = pd.Index(uniques, dtype=object).isin([np.inf, -np.inf])
    if infinite.any():
        remap = np.cumsum(~infinite) - 1
        remap[infinite] = -1
        codes = np.where(codes >= 0, remap[np.maximum(codes, 0)], -1)
        uniques = uniques[~infinite]
    kept = codes[codes >= 0].astype(np.min_scalar_type(max(len(uniques) - 1, 0)))
    return CategoricalValues(kept, uniques, len(codes))


def sorted_value_counts(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values and their counts of an already sorted array, in O(n).

    Examples
    --------
    >>> sorted_value_counts(np.array([1.0, 1.0, 2.0, 5.0, 5.0, 5.0]))
    (array([1., 2., 5.]), array([2, 1, 3]))
    """
    if values.size == 0:
        return values[:0], np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.concatenate(([True], values[1:] != values[:-1])))
    return values[starts], np.diff(np.append(starts, values.size))
