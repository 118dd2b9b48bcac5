"""What a (model version, column) is profiled against: histogram edges or reference categories.

Fixed once from the reference when the version is applied, so every bucket of the version counts
values in the same bins and buckets can be merged by adding counts.

* numeric columns: ``N_BINS`` quantile bins of the finite reference values (``np.quantile``,
  linear interpolation; repeated edges dropped). Counts have ``len(edges) + 1`` cells:
  ``[-inf, e0)`` (underflow), ``[e_i, e_{i+1})`` for each inner bin with the last one closed at
  the reference maximum ``e_last``, and ``(e_last, inf)`` (overflow).
* categorical and binary columns: the reference's distinct values as strings,
  in sorted order (:func:`category_name`); values never seen in the reference are counted as new categories.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

N_BINS = 20
SpecKind = Literal["numeric", "categorical"]


@dataclass(frozen=True)
class ColumnSpec:
    """The bins (numeric) or categories (categorical) of one column of one version."""

    column: str
    kind: SpecKind
    edges: tuple[float, ...] = ()
    categories: tuple[str, ...] = ()

    @property
    def n_cells(self) -> int:
        """Cells of the column's count vector: bins plus under/overflow, or reference categories."""
        return len(self.edges) + 1 if self.kind == "numeric" else len(self.categories)

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe document (``profile_specs`` row content)."""
        return {"kind": self.kind, "edges": list(self.edges), "categories": list(self.categories)}

    @classmethod
    def from_json(cls, column: str, document: Mapping[str, Any]) -> "ColumnSpec":
        """The inverse of :meth:`to_json`."""
        return cls(column, document["kind"], tuple(float(e) for e in document.get("edges", ())),
                   tuple(str(c) for c in document.get("categories", ())))


def profile_kind(feature_type: str) -> SpecKind:
    """Profiles treat binary features as categorical."""
    return "numeric" if feature_type == "numeric" else "categorical"


def build_specs(reference: pd.DataFrame, column_types: Mapping[str, str], *, n_bins: int = N_BINS
                ) -> dict[str, ColumnSpec]:
    """The spec of every column of ``column_types`` present in ``reference``.

    Examples
    --------
    >>> ref = pd.DataFrame({"x": np.arange(100.0), "c": ["a", "b"] * 50})
    >>> specs = build_specs(ref, {"x": "numeric", "c": "categorical"}, n_bins=4)
    >>> specs["x"].edges, specs["c"].categories, specs["x"].n_cells
    ((0.0, 24.75, 49.5, 74.25, 99.0), ('a', 'b'), 6)
    """
    specs = {}
    for column, feature_type in column_types.items():
        if column not in reference.columns:
            continue
        kind = profile_kind(feature_type)
        if kind == "numeric":
            specs[column] = ColumnSpec(column, kind, edges=numeric_edges(reference[column], n_bins))
        else:
            values = reference[column].dropna()
            specs[column] = ColumnSpec(column, kind, categories=tuple(sorted({category_name(v)
                                                                              for v in values.unique()})))
    return specs


def category_name(value: Any) -> str:
    """The name a category value is counted under: booleans and integral numbers as integers.

    So 1, 1.0 and True (a binary feature as a source logs it, and as the collectors store it)
    are one category.

    Examples
    --------
    >>> category_name(True), category_name(1.0), category_name(2), category_name(0.5), category_name("a")
    ('1', '1', '2', '0.5', 'a')
    """
    if isinstance(value, bool | np.bool_):
        return str(int(value))
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def numeric_edges(values: pd.Series, n_bins: int) -> tuple[float, ...]:
    """Distinct quantile edges of the finite values (empty when there are none)."""
    array = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    array = array[np.isfinite(array)]
    if array.size == 0:
        return ()
    return tuple(float(e) for e in np.unique(np.quantile(array, np.linspace(0.0, 1.0, n_bins + 1))))
