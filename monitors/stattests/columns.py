"""What a drift test sees: a fitted reference column paired with a cleaned current column.

The reference is prepared once (sorted values, category codes and counts, std) so that a monitor
can compare many windows against it; the per-column ``drift_test`` and the batch path both go
through :func:`fit_column` and :func:`pair`, so their results are identical by construction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

from driftscope.monitors.stattests.coerce import ArrayLike, categorical_values, numeric_values, sorted_value_counts

# Evidently's ``get_binned_data`` histograms numeric data only when the reference has more
# than 20 distinct values; below that it counts values like categories.
MAX_UNIQUE_AS_CATEGORIES = 20


class Counts(NamedTuple):
    """Counts of each distinct value (or category) on both sides, aligned on ``keys``."""

    keys: np.ndarray
    reference: np.ndarray
    current: np.ndarray


@dataclass(frozen=True, eq=False)
class NumericReference:
    """A numeric reference column: sorted finite values and their summary.

    ``uniques``/``counts`` hold the distinct values only when there are at most
    ``MAX_UNIQUE_AS_CATEGORIES`` of them (empty otherwise).
    """

    values: np.ndarray
    integer: bool
    n_rows: int
    std: float
    n_unique: int
    uniques: np.ndarray
    counts: np.ndarray


@dataclass(frozen=True, eq=False)
class CategoricalReference:
    """A categorical reference column: categories, their counts and the per-row codes."""

    categories: pd.Index
    counts: np.ndarray
    codes: np.ndarray
    n_rows: int


ColumnReference = NumericReference | CategoricalReference


@dataclass(frozen=True, eq=False)
class NumericPair:
    """Reference and current numeric values, both sorted and free of missing values."""

    reference: NumericReference
    current: np.ndarray
    current_integer: bool
    current_rows: int
    new_categories: tuple[str, ...] = ()

    def value_counts(self) -> Counts:
        """Counts of every distinct value of either side, keys sorted ascending."""
        ref_keys, ref_counts = self.reference.uniques, self.reference.counts
        if self.reference.n_unique > MAX_UNIQUE_AS_CATEGORIES:
            ref_keys, ref_counts = sorted_value_counts(self.reference.values)
        cur_keys, cur_counts = sorted_value_counts(self.current)
        keys = np.union1d(ref_keys, cur_keys)
        reference = np.zeros(keys.size, dtype=np.int64)
        current = np.zeros(keys.size, dtype=np.int64)
        reference[np.searchsorted(keys, ref_keys)] = ref_counts
        current[np.searchsorted(keys, cur_keys)] = cur_counts
        return Counts(keys, reference, current)

    @property
    def sizes(self) -> tuple[int, int]:
        """Non-missing values on the reference and current side."""
        return self.reference.values.size, self.current.size

    @property
    def rows(self) -> tuple[int, int]:
        """Rows (missing included) on the reference and current side."""
        return self.reference.n_rows, self.current_rows


@dataclass(frozen=True, eq=False)
class CategoricalPair:
    """Reference and current labels coded on the union of categories (reference ones first)."""

    categories: np.ndarray
    reference_counts: np.ndarray
    current_counts: np.ndarray
    reference_codes: np.ndarray
    current_codes: np.ndarray
    rows: tuple[int, int]
    new_categories: tuple[str, ...]

    def value_counts(self) -> Counts:
        """Counts of every category of either side, in coding order."""
        return Counts(self.categories, self.reference_counts, self.current_counts)

    @property
    def sizes(self) -> tuple[int, int]:
        """Non-missing values on the reference and current side."""
        return self.reference_codes.size, self.current_codes.size


ColumnPair = NumericPair | CategoricalPair


def fit_column(values: ArrayLike, feature_type: str) -> ColumnReference:
    """Prepare one reference column.

    Examples
    --------
    >>> ref = fit_column([3.0, 1.0, None, 2.0], "numeric")
    >>> ref.values.tolist(), ref.n_rows, ref.std
    ([1.0, 2.0, 3.0], 4, 0.816496580927726)
    >>> fit_column(["x", "y", "x"], "categorical").counts.tolist()
    [2, 1]
    """
    if feature_type == "numeric":
        clean = numeric_values(values)
        sorted_values = clean.values
        n_unique = int(np.count_nonzero(sorted_values[1:] != sorted_values[:-1]) + min(sorted_values.size, 1))
        few = n_unique <= MAX_UNIQUE_AS_CATEGORIES
        uniques, counts = sorted_value_counts(sorted_values if few else sorted_values[:0])
        return NumericReference(
            values=sorted_values,
            integer=clean.integer,
            n_rows=clean.n_rows,
            std=float(np.std(sorted_values)) if sorted_values.size else 0.0,
            n_unique=n_unique,
            uniques=uniques,
            counts=counts,
        )
    codes, uniques, n_rows = categorical_values(values)
    counts = np.bincount(codes, minlength=uniques.size)
    return CategoricalReference(pd.Index(uniques, dtype=object), counts, codes, n_rows)


def pair(reference: ColumnReference, values: ArrayLike) -> ColumnPair:
    """Clean the current column and align it with a fitted reference column."""
    if isinstance(reference, NumericReference):
        clean = numeric_values(values)
        return NumericPair(reference, clean.values, clean.integer, clean.n_rows)
    codes, uniques, n_rows = categorical_values(values)
    position = reference.categories.get_indexer(pd.Index(uniques))
    new = position < 0
    n_known = len(reference.categories)
    position[new] = n_known + np.arange(np.count_nonzero(new))
    categories = np.concatenate([reference.categories.to_numpy(dtype=object), uniques[new]])
    current_codes = position[codes]
    reference_counts = np.zeros(categories.size, dtype=np.int64)
    reference_counts[:n_known] = reference.counts
    return CategoricalPair(
        categories=categories,
        reference_counts=reference_counts,
        current_counts=np.bincount(current_codes, minlength=categories.size),
        reference_codes=reference.codes,
        current_codes=current_codes,
        rows=(reference.n_rows, n_rows),
        new_categories=tuple(str(value) for value in uniques[new]),
    )
