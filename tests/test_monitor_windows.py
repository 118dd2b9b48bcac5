"""Window tiling and the labelled window frame."""

from datetime import UTC, datetime, timedelta, timezone
from itertools import pairwise

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from driftscope.errors import SchemaError
from driftscope.monitors.windows import (
    Window,
    align,
    as_like,
    attach_labels,
    latest_tile,
    tile_ending,
    tiles_between,
)

WIDTHS = st.sampled_from([timedelta(minutes=15), timedelta(hours=1), timedelta(hours=6), timedelta(days=1),
                          timedelta(days=7), timedelta(seconds=90)])
MOMENTS = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))


@given(moment=MOMENTS, width=WIDTHS)
def test_tiles_are_aligned_and_contain_their_moment(moment: datetime, width: timedelta) -> None:
    """Calendar alignment: weeks end on Monday 00:00 UTC, shorter widths restart at every UTC midnight."""
    tile = latest_tile(moment, width)
    assert tile.end - tile.start == width
    midnight = tile.end.replace(hour=0, minute=0, second=0, microsecond=0)
    if width == timedelta(days=7):
        assert tile.end == midnight and tile.end.weekday() == 0
    else:
        assert (tile.end - midnight) % width == timedelta(0)
    assert tile.end <= moment < tile.end + width


@given(start=MOMENTS, span=st.integers(0, 50), width=WIDTHS)
def test_backfill_tiles_cover_the_span_without_gaps_or_overlaps(start: datetime, span: int, width: timedelta) -> None:
    end = start + span * width
    tiles = tiles_between(start, end, width)
    assert all(b.start == a.end for a, b in pairwise(tiles))
    if tiles:
        assert tiles[0].start <= start < tiles[0].end
        assert tiles[-1].end <= end < tiles[-1].end + width
    assert len(tiles) == (align(end, width) - align(start, width)) // width


@pytest.mark.parametrize(
    ("end", "width", "expected_start", "expected_end"),
    [
        (datetime(2026, 1, 5, tzinfo=UTC), timedelta(days=1), datetime(2026, 1, 4, tzinfo=UTC),
         datetime(2026, 1, 5, tzinfo=UTC)),
        (datetime(2026, 1, 5, 13, 30, tzinfo=UTC), timedelta(days=1), datetime(2026, 1, 4, tzinfo=UTC),
         datetime(2026, 1, 5, tzinfo=UTC)),
        # weekly windows are calendar weeks: Monday 00:00 UTC to the next Monday (2026-01-05 is a Monday)
        (datetime(2026, 1, 5, tzinfo=UTC), timedelta(days=7), datetime(2025, 12, 29, tzinfo=UTC),
         datetime(2026, 1, 5, tzinfo=UTC)),
        (datetime(2026, 1, 5, 3, 0, tzinfo=timezone(timedelta(hours=5))),
         timedelta(hours=6), datetime(2026, 1, 4, 12, tzinfo=UTC), datetime(2026, 1, 4, 18, tzinfo=UTC)),
    ],
    ids=["aligned", "floored", "weekly-monday", "other-offset"],
)
def test_tile_ending(end: datetime, width: timedelta, expected_start: datetime, expected_end: datetime) -> None:
    assert tile_ending(end, width) == Window(expected_start, expected_end)


def test_naive_times_and_non_positive_widths_are_refused() -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        align(datetime(2026, 1, 1), timedelta(days=1))
    with pytest.raises(ValueError, match="must be positive"):
        align(datetime(2026, 1, 1, tzinfo=UTC), timedelta(0))


@pytest.mark.parametrize(
    ("like", "text", "expected"),
    [
        (pd.Series([0, 1]), ["1", "0", None], [1.0, 0.0, np.nan]),
        (pd.Series([0.5]), [repr(0.1), repr(1e-300), "3"], [0.1, 1e-300, 3.0]),
        (pd.Series([True, False]), ["True", "False", None], [1.0, 0.0, np.nan]),
        (pd.Series(["yes", "no"]), ["no", None, "yes"], ["no", None, "yes"]),
        (pd.Series(["a"], dtype="category"), ["a", "b"], ["a", "b"]),
        (None, ["1", "2.5"], [1.0, 2.5]),
        (None, ["x", "2"], ["x", "2"]),
    ],
    ids=["int", "float-repr", "bool", "text", "categorical", "guess-number", "guess-text"],
)
def test_labels_are_converted_to_the_reference_target_type(like, text, expected) -> None:
    window = pd.DataFrame({"prediction_id": pd.Categorical([f"p{i}" for i in range(len(text))])})
    labels = pd.DataFrame({"prediction_id": [f"p{i}" for i in range(len(text))], "label": text})
    out = attach_labels(window, labels.dropna(), like)["label"].tolist()
    assert [None if isinstance(v, float) and np.isnan(v) else v for v in out] == [
        None if isinstance(v, float) and np.isnan(v) else v for v in expected
    ]


def test_unlabelled_rows_stay_missing_and_order_is_kept() -> None:
    window = pd.DataFrame({"prediction_id": ["a", "b", "c", "d"], "prediction": [1, 0, 1, 0]})
    labels = pd.DataFrame({"prediction_id": ["d", "b"], "label": ["1", "0"]})
    out = attach_labels(window, labels, pd.Series([0, 1]))
    assert out["prediction_id"].tolist() == ["a", "b", "c", "d"]
    assert out["label"].isna().tolist() == [True, False, True, False]
    assert out["label"].iloc[3] == 1.0


def test_unreadable_labels_are_a_schema_error_naming_them() -> None:
    window = pd.DataFrame({"prediction_id": ["a", "b"]})
    labels = pd.DataFrame({"prediction_id": ["a", "b"], "label": ["1", "banana"]})
    with pytest.raises(SchemaError, match=r"1 stored labels.*'banana' \(prediction b\)"):
        attach_labels(window, labels, pd.Series([0, 1]))


@given(st.lists(st.one_of(st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False)), max_size=30))
def test_numeric_labels_round_trip_through_text(values: list[float]) -> None:
    text = pd.Series([repr(float(v)) for v in values], dtype=object)
    converted = as_like(text, pd.Series([0.0]))
    assert converted.tolist() == [float(v) for v in values]
