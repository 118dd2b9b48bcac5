"""Profiles: built vectorised per bucket, merged associatively, checked against numpy on the raw rows."""

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from driftscope.storage.profiles import ColumnSpec, build_specs, merge_all
from driftscope.storage.profiles import sketch as kll
from driftscope.storage.profiles.compute import HOUR, histogram_cells, histogram_counts, profile_table
from driftscope.storage.profiles.profile import TOP_NEW, ColumnProfile

T0 = int(datetime(2026, 3, 1, tzinfo=UTC).timestamp() * 1_000_000)
SPECS = {
    "x": ColumnSpec("x", "numeric", edges=(-1.0, 0.0, 0.5, 2.0)),
    "c": ColumnSpec("c", "categorical", categories=("a", "b")),
}


def _table(x: list[float | None], c: list[str | None], micros: list[int]) -> pa.Table:
    return pa.table({"ts": pa.array(micros, pa.int64()).cast(pa.timestamp("us", tz="UTC")),
                     "x": pa.array(x, pa.float64()), "c": pa.array(c, pa.string())})


def _whole(profiles: dict[tuple[int, str], ColumnProfile], column: str) -> ColumnProfile:
    return merge_all([p for (_, c), p in sorted(profiles.items()) if c == column], SPECS[column].n_cells)


def _same(a: ColumnProfile, b: ColumnProfile) -> None:
    assert (a.n_rows, a.n_missing, a.counts.tolist(), a.new, a.other) == (
        b.n_rows, b.n_missing, b.counts.tolist(), b.new, b.other)
    np.testing.assert_allclose([a.minimum, a.maximum, a.mean, a.m2], [b.minimum, b.maximum, b.mean, b.m2],
                               rtol=1e-9, atol=1e-9)
    sa, sb = kll.load(a.sketch), kll.load(b.sketch)
    assert sa.n == sb.n
    if sa.n and not sa.is_estimation_mode():  # below K values both hold every value: exact quantiles
        ranks = [0.0, 0.25, 0.5, 0.75, 1.0]
        assert sa.get_quantiles(ranks) == sb.get_quantiles(ranks)


values = st.one_of(st.none(), st.just(float("nan")), st.just(float("inf")),
                   st.floats(-3, 3, allow_nan=False, width=32))
rows = st.lists(st.tuples(values, st.sampled_from([None, "a", "b", "z", "y"]), st.integers(0, 5 * HOUR - 1)),
                min_size=1, max_size=150)


@given(rows=rows, split=st.integers(1, 6))
def test_any_bucketing_of_the_rows_merges_to_the_profile_of_all_rows(rows, split) -> None:
    """Bucketing rows by hour (or by any other grouping) and merging gives the one-bucket profile."""
    x, c, seconds = zip(*rows, strict=True)
    micros = [T0 + s * 1_000_000 for s in seconds]
    whole = profile_table(_table(list(x), list(c), micros), SPECS, bucket_seconds=1_000_000)
    hourly = profile_table(_table(list(x), list(c), micros), SPECS, bucket_seconds=HOUR)
    # an arbitrary split: assign rows round-robin to `split` tables, profile each, merge all pieces
    pieces: list[ColumnProfile] = []
    for part in range(split):
        rows_part = [i for i in range(len(rows)) if i % split == part]
        if rows_part:
            table = _table([x[i] for i in rows_part], [c[i] for i in rows_part], [micros[i] for i in rows_part])
            pieces.extend(p for (_, col), p in profile_table(table, SPECS).items() if col == "x")
    for column in SPECS:
        assert len(whole) == len(SPECS)
        _same(_whole(hourly, column), _whole(whole, column))
    _same(merge_all(pieces, SPECS["x"].n_cells), _whole(whole, "x"))


def test_a_profile_matches_numpy_on_the_raw_values() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=5000)
    x[::97] = np.nan
    micros = T0 + np.sort(rng.integers(0, 3 * HOUR, 5000)) * 1_000_000
    table = pa.table({"ts": pa.array(micros).cast(pa.timestamp("us", tz="UTC")), "x": x})
    edges = np.array(SPECS["x"].edges)
    profile = _whole(profile_table(table, {"x": SPECS["x"]}), "x")
    finite = x[np.isfinite(x)]
    assert profile.n_missing == int(np.isnan(x).sum())
    assert profile.mean == pytest.approx(finite.mean(), rel=1e-12)
    assert profile.variance == pytest.approx(finite.var(), rel=1e-12)
    assert (profile.minimum, profile.maximum) == (finite.min(), finite.max())
    inner = np.histogram(finite[(finite >= edges[0]) & (finite <= edges[-1])], edges)[0]
    assert profile.counts.tolist() == [int((finite < edges[0]).sum()), *inner, int((finite > edges[-1]).sum())]
    sketch = kll.load(profile.sketch)
    assert sketch.is_estimation_mode()
    exact = np.searchsorted(np.sort(finite), 0.3, side="right") / finite.size
    assert abs(sketch.get_rank(0.3) - exact) <= kll.cdf_error(sketch)


@given(x=st.lists(st.sampled_from([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0]) | st.floats(-4, 4), max_size=60),
       edges=st.lists(st.sampled_from([-1.0, 0.0, 0.5, 1.0]) | st.floats(-3, 3), max_size=5, unique=True))
def test_counts_from_sorted_values_equal_the_cells_of_each_value(x: list[float], edges: list[float]) -> None:
    """The sorted path's histogram (a binary search per edge) assigns values as ``histogram_cells`` does."""
    values, bins = np.array(x, dtype=np.float64), np.sort(np.array(edges, dtype=np.float64))
    want = np.bincount(histogram_cells(values, bins), minlength=bins.size + 1)
    assert histogram_counts(np.sort(values), bins).tolist() == want.tolist()


def test_new_categories_keep_the_most_frequent_and_fold_the_rest_into_other() -> None:
    names = [f"n{i:03d}" for i in range(TOP_NEW + 10) for _ in range(1 + i % 3)]
    table = _table([0.0] * len(names), names, [T0] * len(names))
    profile = profile_table(table, {"c": SPECS["c"]})[(T0, "c")]
    assert len(profile.new) == TOP_NEW
    assert sum(profile.new.values()) + profile.other == len(names)
    assert min(profile.new.values()) >= max(1 + i % 3 for i in range(TOP_NEW + 10) if f"n{i:03d}" not in profile.new)


def test_specs_come_from_the_reference_quantiles_and_categories() -> None:
    reference = pd.DataFrame({"x": np.r_[np.arange(10.0), np.nan], "flag": [True, False] * 5 + [None]})
    specs = build_specs(reference, {"x": "numeric", "flag": "binary", "absent": "numeric"}, n_bins=2)
    assert specs["x"].edges == (0.0, 4.5, 9.0)
    assert specs["flag"] == ColumnSpec("flag", "categorical", categories=("0", "1"))
    assert "absent" not in specs
    assert ColumnSpec.from_json("x", specs["x"].to_json()) == specs["x"]
