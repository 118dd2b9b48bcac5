"""Time windows that tile the time axis, and the labelled frame of one window.

A monitor with window width ``w`` computes half-open windows ``[end - w, end)`` whose ``end`` is a
multiple of ``w`` since the Unix epoch (1970-01-01T00:00:00Z). Tiles never overlap, so the same
window computed twice is the same window: daily tiles end at midnight UTC, hourly tiles on the
hour, and weekly tiles on Thursdays at midnight UTC (the epoch was a Thursday).

Labels are stored as text (``str(value)``; floats via ``repr``); :func:`attach_labels` joins them
to a window's predictions and converts them to the dtype of the reference target.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from driftscope.errors import SchemaError

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
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


def _check(moment: datetime, width: timedelta) -> None:
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: pass a timezone-aware (UTC) timestamp")
    if width <= timedelta(0):
        raise ValueError(f"a window width must be positive, got {width}")


def align(moment: datetime, width: timedelta) -> datetime:
    """The latest tile boundary at or before ``moment``: a multiple of ``width`` since the epoch.

    Examples
    --------
    >>> align(datetime(2026, 1, 5, 13, 7, tzinfo=UTC), timedelta(hours=6)).isoformat()
    '2026-01-05T12:00:00+00:00'
    """
    _check(moment, width)
    return EPOCH + ((moment.astimezone(UTC) - EPOCH) // width) * width


def tile_ending(end: datetime, width: timedelta) -> Window:
    """The tile that ends at ``end``; an ``end`` between boundaries is floored to the boundary before it."""
    aligned = align(end, width)
    return Window(aligned - width, aligned)


def latest_tile(now: datetime, width: timedelta) -> Window:
    """The latest complete tile at ``now`` (its end is at or before ``now``)."""
    return tile_ending(now, width)


def tiles_between(start: datetime, end: datetime, width: timedelta) -> list[Window]:
    """Every complete tile from the one containing ``start`` to the latest one ending by ``end``.

    Examples
    --------
    >>> day = timedelta(days=1)
    >>> tiles = tiles_between(datetime(2026, 1, 1, 12, tzinfo=UTC), datetime(2026, 1, 4, 1, tzinfo=UTC), day)
    >>> [t.end.day for t in tiles]
    [2, 3, 4]
    """
    first_end = align(start, width) + width
    last_end = align(end, width)
    return list(_tiles(first_end, last_end, width))


def _tiles(first_end: datetime, last_end: datetime, width: timedelta) -> Iterator[Window]:
    count = max(0, (last_end - first_end) // width + 1)
    for i in range(count):
        tile_end = first_end + i * width
        yield Window(tile_end - width, tile_end)


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
