"""Profiles of an Arrow table per time bucket, vectorised per column (no Python loop over rows).

Rows are grouped by ``floor(ts / bucket)`` (UTC, buckets aligned on the Unix epoch). A numeric
column's values are sorted once per bucket, and its histogram, minimum, maximum, moments and KLL
sketch all come from that sorted slice (a binary search per bin edge, one sum, one dot product,
one vectorised sketch ``update``); categorical counts of all buckets come from one ``np.bincount``.
"""

import itertools
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from driftscope.storage.profiles import sketch as kll
from driftscope.storage.profiles.profile import TOP_NEW, ColumnProfile
from driftscope.storage.profiles.spec import ColumnSpec, category_name

HOUR = 3600
DAY = 86_400
_US = 1_000_000


@dataclass(frozen=True)
class Buckets:
    """Rows grouped by bucket: bucket starts (µs since the epoch), each row's bucket, rows by bucket."""

    starts: np.ndarray
    inverse: np.ndarray
    order: np.ndarray
    bounds: np.ndarray
    in_order: bool = False

    @property
    def size(self) -> int:
        return int(self.starts.size)


def buckets_of(micros: np.ndarray, bucket_seconds: int) -> Buckets:
    """Group timestamps (int64 µs since the epoch, UTC) into buckets of ``bucket_seconds``."""
    step = bucket_seconds * _US
    keys, inverse = np.unique(micros // step, return_inverse=True)
    inverse = inverse.astype(np.int64)
    in_order = bool(np.all(inverse[1:] >= inverse[:-1]))  # batches usually arrive sorted by time
    order = np.arange(inverse.size) if in_order else np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse if in_order else inverse[order], np.arange(keys.size + 1))
    return Buckets(keys * step, inverse, order, bounds, in_order)


def profile_table(table: pa.Table, specs: Mapping[str, ColumnSpec], *, bucket_seconds: int = HOUR,
                  ) -> dict[tuple[int, str], ColumnProfile]:
    """Profiles of every spec'd column of ``table`` per bucket, keyed ``(bucket start µs, column)``.

    ``table`` has a ``ts`` column (timestamp, UTC); columns of ``specs`` missing from it are
    skipped.
    """
    if table.num_rows == 0:
        return {}
    micros = pc.cast(table.column("ts"), pa.timestamp("us", tz="UTC"), safe=False).cast(pa.int64()).to_numpy()
    buckets = buckets_of(micros, bucket_seconds)
    out: dict[tuple[int, str], ColumnProfile] = {}
    for column, spec in specs.items():
        if column not in table.column_names:
            continue
        if spec.kind == "numeric":
            profiles = numeric_profiles(float_values(table.column(column)), np.asarray(spec.edges), buckets)
        else:
            profiles = categorical_profiles(table.column(column), spec.categories, buckets)
        out.update({(int(start), column): p for start, p in zip(buckets.starts.tolist(), profiles, strict=True)})
    return out


def float_values(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """A column as float64 with nulls as NaN (booleans as 0/1)."""
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    return np.asarray(pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)


def numeric_profile(values: np.ndarray, edges: np.ndarray) -> ColumnProfile:
    """The profile of one group of float64 values (non-finite ones count as missing)."""
    return numeric_profiles(values, edges, buckets_of(np.zeros(values.size, dtype=np.int64), DAY))[0]


def numeric_profiles(values: np.ndarray, edges: np.ndarray, buckets: Buckets) -> list[ColumnProfile]:
    """One profile per bucket of float64 ``values`` aligned with the bucketed rows.

    Each bucket's values are sorted once (NaN last, infinities at the ends); its finite values are
    then one contiguous slice, from which the histogram (:func:`histogram_counts`), minimum and
    maximum, moments and the sketch are read without another pass over the rows.
    """
    ordered = values if buckets.in_order else values[buckets.order]
    bounds = buckets.bounds.tolist()
    return [_sorted_profile(np.sort(ordered[lo:hi]), edges) for lo, hi in itertools.pairwise(bounds)]


def _sorted_profile(ordered: np.ndarray, edges: np.ndarray) -> ColumnProfile:
    """The profile of one group of sorted float64 values (non-finite ones count as missing)."""
    x = ordered[int(ordered.searchsorted(-np.inf, side="right")):int(ordered.searchsorted(np.inf))]
    if x.size == 0:
        return ColumnProfile(ordered.size, ordered.size, histogram_counts(x, edges))
    mean = float(np.add.reduce(x)) / x.size
    deviations = x - mean
    return ColumnProfile(
        n_rows=ordered.size, n_missing=ordered.size - x.size, counts=histogram_counts(x, edges),
        minimum=float(x[0]), maximum=float(x[-1]), mean=mean, m2=float(np.dot(deviations, deviations)),
        sketch=kll.sketch_of(x),
    )


def histogram_counts(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts per cell (as :func:`histogram_cells` assigns them) of sorted finite values ``x``.

    Examples
    --------
    >>> histogram_counts(np.array([-1.0, 0.0, 0.5, 1.0, 2.0, 3.0]), np.array([0.0, 1.0, 2.0])).tolist()
    [1, 2, 2, 1]
    """
    positions = np.empty(edges.size + 2, dtype=np.int64)
    positions[0], positions[-1] = 0, x.size
    positions[1:-1] = x.searchsorted(edges, side="left")
    if edges.size:
        positions[-2] = x.searchsorted(edges[-1], side="right")
    return positions[1:] - positions[:-1]


def histogram_cells(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """The cell of each finite value: 0 below ``edges[0]``, ``len(edges)`` above ``edges[-1]``.

    Inner bins are ``[e_i, e_{i+1})``, except the last inner bin, which includes ``edges[-1]``.

    Examples
    --------
    >>> histogram_cells(np.array([-1.0, 0.0, 0.5, 1.0, 2.0, 3.0]), np.array([0.0, 1.0, 2.0])).tolist()
    [0, 1, 1, 2, 2, 3]
    """
    cells = np.searchsorted(edges, x, side="right")
    if edges.size:
        cells[x == edges[-1]] = edges.size - 1
    return cells.astype(np.int64)


def categorical_profiles(column: pa.ChunkedArray | pa.Array, categories: tuple[str, ...], buckets: Buckets
                         ) -> list[ColumnProfile]:
    """One profile per bucket of a categorical column: reference-category counts, new categories."""
    nb, inv, k = buckets.size, buckets.inverse, len(categories)
    names, indices = _dictionary(column)
    index = {c: i for i, c in enumerate(categories)}
    codes_of_names = np.array([index.get(n, -1) if n is not None else -2 for n in names] + [-2], dtype=np.int64)
    codes = codes_of_names[indices]
    n_rows = np.bincount(inv, minlength=nb)
    n_missing = np.bincount(inv[codes == -2], minlength=nb)
    known = codes >= 0
    counts = np.bincount(inv[known] * k + codes[known], minlength=nb * k).reshape(nb, k)
    new, other = _new_categories(inv[codes == -1], indices[codes == -1], names, nb)
    return [ColumnProfile(int(n_rows[b]), int(n_missing[b]), counts[b].astype(np.int64), new=new[b],
                          other=int(other[b])) for b in range(nb)]


def _dictionary(column: pa.ChunkedArray | pa.Array) -> tuple[list[str | None], np.ndarray]:
    """Distinct values as :func:`category_name` gives them (None for missing) and each row's index into them.

    Nulls and float NaN are missing; nulls get index ``len(names)``.
    """
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    encoded = array if pa.types.is_dictionary(array.type) else pc.dictionary_encode(array)
    values = encoded.dictionary.to_pylist()
    names = [None if v is None or (isinstance(v, float) and not np.isfinite(v)) else category_name(v)
             for v in values]
    indices = encoded.indices.fill_null(len(names)).to_numpy(zero_copy_only=False).astype(np.int64)
    return names, indices


def _new_categories(rows_bucket: np.ndarray, rows_name: np.ndarray, names: list[str | None], nb: int
                    ) -> tuple[list[dict[str, int]], np.ndarray]:
    """Per bucket, the ``TOP_NEW`` most frequent new categories (ties by name) and the rest's count."""
    new: list[dict[str, int]] = [{} for _ in range(nb)]
    other = np.zeros(nb, dtype=np.int64)
    if rows_bucket.size == 0:
        return new, other
    n_names = len(names) + 1
    pairs, counts = np.unique(rows_bucket * n_names + rows_name, return_counts=True)
    bucket, name = pairs // n_names, pairs % n_names
    name_rank = np.argsort(np.argsort(np.array([n or "" for n in names], dtype=object)))
    order = np.lexsort((name_rank[name], -counts, bucket))
    bucket, name, counts = bucket[order], name[order], counts[order]
    first = np.searchsorted(bucket, np.arange(nb))
    position = np.arange(bucket.size) - first[bucket]
    keep = position < TOP_NEW
    for b, n, c in zip(bucket[keep].tolist(), name[keep].tolist(), counts[keep].tolist(), strict=True):
        new[b][str(names[n])] = int(c)
    np.add.at(other, bucket[~keep], counts[~keep])
    return new, other
