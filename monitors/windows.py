"""Calendar windows, and the labelled frame of one window.

A monitor with window width ``w`` computes half-open windows ``[start, end)`` between consecutive
boundaries of ``w``. Boundaries (conventions, all UTC):

* ``1mo`` (``n`` months): the first of a month, at multiples of ``n`` months since January 1970
  (``3mo``: January, April, July, October);
* whole weeks (``1w``, ``7d``, ``2w``): Monday 00:00, at multiples of the width since Monday
  1970-01-05;
* other widths: multiples of the width since 1970-01-01 00:00, which puts every boundary of
  ``1h``, ``1d`` and any whole number of days at UTC midnight or on the hour. A width shorter than
  a day must divide 24 hours and a longer one must be whole days, so windows restart at midnight.

Windows never overlap, so the same window computed twice is the same window. A window end that is
not a boundary is refused (:func:`window_ending`), naming the nearest boundaries: a window is
never moved silently.

Labels are stored as text (``str(value)``; floats via ``repr``); :func:`attach_labels` joins them
to a window's predictions and converts them to the dtype of the reference target.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from driftscope.durations import Months
from driftscope.errors import ConfigError, SchemaError
from driftscope.monitors.widths import Width, check_width, describe

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MONDAY = datetime(1970, 1, 5, tzinfo=UTC)
WEEK = timedelta(weeks=1)
LABEL_COLUMN = "label"
_SHOWN_BAD_LABELS = 5


@dataclass(frozen=True, order=True)
class Window:
    """A half-open time window ``[start, end)`` in UTC.

    Examples
    --------
    >>> w = tile_ending(datetime(2026, 1, 5, 13, 0, tzinfo=UTC), timedelta(days=1))
    >>> w.start.isoformat(), w.end.isoformat()
    ('2026-01-04T00:00:00+00:00', '2026-01-05T00:00:00+00:00')
    """

    start: datetime
    end: datetime

    def __str__(self) -> str:
        return f"[{self.start.isoformat()}, {self.end.isoformat()})"


def _naive_check(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: pass a timezone-aware (UTC) timestamp")
    return moment.astimezone(UTC)


def _month_index(moment: datetime) -> int:
    return (moment.year - 1970) * 12 + moment.month - 1


def _month_start(index: int) -> datetime:
    return datetime(1970 + index // 12, index % 12 + 1, 1, tzinfo=UTC)


def align(moment: datetime, width: Width) -> datetime:
    """The latest window boundary at or before ``moment``.

    Examples
    --------
    >>> align(datetime(2026, 1, 5, 13, 7, tzinfo=UTC), timedelta(hours=6)).isoformat()
    '2026-01-05T12:00:00+00:00'
    >>> align(datetime(2026, 1, 8, tzinfo=UTC), timedelta(weeks=1)).strftime("%A %Y-%m-%d")
    'Monday 2026-01-05'
    >>> align(datetime(2024, 2, 29, 23, tzinfo=UTC), Months(1)).isoformat()
    '2024-02-01T00:00:00+00:00'
    """
    check_width(width)
    moment = _naive_check(moment)
    if isinstance(width, Months):
        return _month_start((_month_index(moment) // width.count) * width.count)
    anchor = MONDAY if width % WEEK == timedelta(0) else EPOCH
    return anchor + ((moment - anchor) // width) * width


def next_boundary(boundary: datetime, width: Width) -> datetime:
    """The boundary after ``boundary`` (itself a boundary)."""
    if isinstance(width, Months):
        return _month_start(_month_index(boundary) + width.count)
    return boundary + width


def previous_boundary(boundary: datetime, width: Width) -> datetime:
    """The boundary before ``boundary`` (itself a boundary)."""
    if isinstance(width, Months):
        return _month_start(_month_index(boundary) - width.count)
    return boundary - width


def tile_ending(end: datetime, width: Width) -> Window:
    """The window that ends at the latest boundary at or before ``end`` (for "the latest complete window")."""
    aligned = align(end, width)
    return Window(previous_boundary(aligned, width), aligned)


def window_ending(end: datetime, width: Width) -> Window:
    """The window ending exactly at ``end``; refused when ``end`` is not a boundary.

    Raises
    ------
    ConfigError
        Naming the boundaries before and after ``end``.

    Examples
    --------
    >>> window_ending(datetime(2026, 3, 1, tzinfo=UTC), Months(1)).start.isoformat()
    '2026-02-01T00:00:00+00:00'
    >>> window_ending(datetime(2026, 1, 3, tzinfo=UTC), timedelta(weeks=1))
    Traceback (most recent call last):
    ...
    driftscope.errors.ConfigError: 2026-01-03T00:00:00+00:00 is not a boundary of 1w windows; the nearest
    boundaries are 2025-12-29T00:00:00+00:00 and 2026-01-05T00:00:00+00:00: pass one of them
    """
    before = align(end, width)
    if before != _naive_check(end):
        after = next_boundary(before, width)
        raise ConfigError(
            f"{end.isoformat()} is not a boundary of {describe(width)} windows; the nearest boundaries are "
            f"{before.isoformat()} and {after.isoformat()}: pass one of them"
        )
    return Window(previous_boundary(before, width), before)


def latest_tile(now: datetime, width: Width) -> Window:
    """The latest complete window at ``now`` (its end is at or before ``now``)."""
    return tile_ending(now, width)


def tiles_between(start: datetime, end: datetime, width: Width) -> list[Window]:
    """Every complete window from the one containing ``start`` to the latest one ending by ``end``.

    Examples
    --------
    >>> day = timedelta(days=1)
    >>> tiles = tiles_between(datetime(2026, 1, 1, 12, tzinfo=UTC), datetime(2026, 1, 4, 1, tzinfo=UTC), day)
    >>> [t.end.day for t in tiles]
    [2, 3, 4]
    >>> [str(t.start.date()) for t in tiles_between(datetime(2024, 1, 31, tzinfo=UTC),
    ...                                              datetime(2024, 4, 1, tzinfo=UTC), Months(1))]
    ['2024-01-01', '2024-02-01', '2024-03-01']
    """
    return list(_tiles(align(start, width), align(end, width), width))


def _tiles(first_start: datetime, last_end: datetime, width: Width) -> Iterator[Window]:
    start = first_start
    while (end := next_boundary(start, width)) <= last_end:
        yield Window(start, end)
        start = end


def nominal_seconds(width: Width) -> float:
    """Length of a window in seconds (a month counts as a mean Gregorian month)."""
    return width.total_seconds()


def attach_labels(window: pd.DataFrame, labels: pd.DataFrame, like: pd.Series | None) -> pd.DataFrame:
    """Return ``window`` with a ``label`` column: the ground truth of each row, missing when not known yet.

    Parameters
    ----------
    window : DataFrame
        Canonical prediction frame (``prediction_id``, ``ts``, ``prediction``, ...).
    labels : DataFrame
        ``prediction_id`` and ``label`` (text as stored), e.g. from ``driftscope.storage.labels.labels_for_window``.
    like : Series or None
        The reference target; labels are converted to its dtype (see :func:`as_like`).

    Raises
    ------
    SchemaError
        When stored labels cannot be read as the reference target's type (names examples).

    Examples
    --------
    >>> window = pd.DataFrame({"prediction_id": ["a", "b", "c"], "prediction": [1, 0, 1]})
    >>> labels = pd.DataFrame({"prediction_id": ["c", "a"], "label": ["0", "1"]})
    >>> attach_labels(window, labels, pd.Series([0, 1]))["label"].tolist()
    [1.0, nan, 0.0]
    """
    out = window.copy()
    if labels.empty or window.empty:
        out[LABEL_COLUMN] = as_like(pd.Series([None] * len(window), dtype=object), like).to_numpy()
        return out
    text = labels.drop_duplicates("prediction_id", keep="last").set_index("prediction_id")["label"]
    keys = window["prediction_id"].astype(str).to_numpy()
    joined = pd.Series(text.reindex(keys).to_numpy(), dtype=object)
    converted = as_like(joined, like)
    bad = converted.isna().to_numpy() & joined.notna().to_numpy()
    if bad.any():
        examples = ", ".join(f"{v!r} (prediction {k})" for v, k in zip(
            joined[bad][:_SHOWN_BAD_LABELS], keys[bad][:_SHOWN_BAD_LABELS], strict=True))
        raise SchemaError(
            f"{int(bad.sum())} stored labels cannot be read as the reference target's type "
            f"({like.dtype if like is not None else 'unknown'}): {examples}; correct the ground-truth source"
        )
    out[LABEL_COLUMN] = converted.to_numpy()
    return out


def as_like(values: pd.Series, like: pd.Series | None) -> pd.Series:
    """Convert ``values`` (text or any dtype) to the kind of ``like``: numbers, booleans or text.

    Numeric and boolean targets give float64 (NaN for missing or unreadable values; booleans become
    0.0/1.0); text and categorical targets give text (``str`` of each value, None for missing).
    With ``like=None`` values that all read as numbers become float64, otherwise text.

    Examples
    --------
    >>> as_like(pd.Series(["1", "0.5", None]), pd.Series([1.0])).tolist()
    [1.0, 0.5, nan]
    >>> as_like(pd.Series(["True", "False"]), pd.Series([True])).tolist()
    [1.0, 0.0]
    >>> as_like(pd.Series([1, 0]), pd.Series(["yes"])).tolist()
    ['1', '0']
    """
    kind = _kind(like) if like is not None else _guess_kind(values)
    if kind == "bool":
        mapped = values.map(_BOOL_TEXT, na_action="ignore") if values.dtype == object else values
        return _to_float(pd.Series(mapped, dtype=object))
    if kind == "number":
        return _to_float(values)
    text = pd.Series(values, dtype=object)
    return text.where(text.isna(), text.astype(str)).where(text.notna(), None)


_BOOL_TEXT = {"True": 1.0, "False": 0.0, "true": 1.0, "false": 0.0, "1": 1.0, "0": 0.0, True: 1.0, False: 0.0}


def _to_float(values: pd.Series) -> pd.Series:
    """float64 values, NaN for missing or unreadable ones.

    Text goes through Python's ``float`` (numpy's object-to-float cast), which reads ``repr`` output
    back exactly; ``pandas.to_numeric`` uses a faster parser that can be off in the last digit.
    """
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        return pd.Series(values.to_numpy(dtype=np.float64, na_value=np.nan), index=values.index)
    data = pd.Series(values, dtype=object).to_numpy()
    present = ~pd.isna(data)
    out = np.full(data.shape, np.nan)
    try:
        out[present] = data[present].astype(np.float64)
    except (TypeError, ValueError):
        out[present] = [_float_or_nan(v) for v in data[present]]
    return pd.Series(out, index=values.index)


def _float_or_nan(value: object) -> float:
    """Only for the rare batch holding an unreadable value (reported by :func:`attach_labels`)."""
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return np.nan


def _kind(like: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(like.dtype):
        return "bool"
    if pd.api.types.is_numeric_dtype(like.dtype):
        return "number"
    return "text"


def _guess_kind(values: pd.Series) -> str:
    present = pd.Series(values, dtype=object).dropna()
    return "number" if _to_float(present).notna().all() else "text"
