"""Timestamps of logged rows: parse any reader's representation, refuse what lies outside the accepted range.

The accepted range is from :data:`EARLIEST` (1900-01-01T00:00:00Z) up to ``now`` plus the source's
``max_future_skew`` (default one day; see ``docs/configuration.md``). A timestamp outside it is
*out of range*: a Parquet ``timestamp[us]`` holding 3000-01-01, a Python ``datetime`` of year 1,
Unix seconds in the year 5000, an ISO text the store cannot hold. Such rows go to quarantine with
the reason "timestamp out of range"; they never fail a batch. Values are compared as int64
microseconds since the Unix epoch, so no conversion to pandas' nanosecond range can overflow on
the way.
"""

from datetime import UTC, datetime

import numpy as np
import pandas as pd

from driftscope.collectors.coerce import Coerced, missing_mask

EARLIEST = pd.Timestamp("1900-01-01", tz="UTC")
OUT_OF_RANGE = "timestamp out of range"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_ABS_SECONDS = 9.2e12
_NAT = np.iinfo(np.int64).min


def as_timestamp(raw: pd.Series, *, latest: pd.Timestamp | None = None) -> Coerced:
    """UTC timestamps (``datetime64[ns, UTC]``, NaT where missing, invalid or out of range).

    Datetimes without a time zone are taken as UTC; text must be ISO 8601; numbers are Unix
    epoch seconds. Values before :data:`EARLIEST` or after ``latest`` (None: no upper bound
    beyond the store's) are ``invalid`` and named by a :data:`OUT_OF_RANGE` problem.

    Examples
    --------
    >>> out = as_timestamp(pd.Series(["2026-01-01T10:00:00+02:00", "soon", "3000-01-01"], dtype=object),
    ...                    latest=pd.Timestamp("2026-06-01", tz="UTC"))
    >>> str(out.values[0]), out.invalid.tolist(), out.problems[0][0].tolist()
    ('2026-01-01 08:00:00+00:00', [False, True, True], [False, False, True])
    """
    missing = missing_mask(raw)
    micros, parsed = _micros(raw, missing)
    upper = _as_micros(min(latest, pd.Timestamp.max.tz_localize("UTC")) if latest is not None else
                       pd.Timestamp.max.tz_localize("UTC"))
    outside = parsed & ((micros < _as_micros(EARLIEST)) | (micros > upper))
    ok = parsed & ~outside
    nanos = np.where(ok, micros, 0) * 1_000
    values = pd.Series(nanos.view("datetime64[ns]"), index=raw.index).dt.tz_localize("UTC").where(ok)
    return Coerced(values, missing, ~missing & ~ok, ((outside & ~missing, OUT_OF_RANGE),))


def _as_micros(value: pd.Timestamp) -> int:
    return int((value - pd.Timestamp(_EPOCH)) // pd.Timedelta(microseconds=1))


def _micros(raw: pd.Series, missing: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Int64 microseconds since the epoch of each value, and which values were parsed as timestamps."""
    if isinstance(raw.dtype, pd.CategoricalDtype | pd.StringDtype):
        raw = raw.astype(object)
    if isinstance(raw.dtype, pd.DatetimeTZDtype):
        return _datetime64_micros(raw.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy())
    if raw.dtype.kind == "M":
        return _datetime64_micros(raw.to_numpy())
    if raw.dtype.kind in "fiu":
        return _epoch_micros(raw.to_numpy(dtype=np.float64))
    if raw.dtype.kind == "b":
        return np.zeros(len(raw), dtype=np.int64), np.zeros(len(raw), dtype=bool)
    return _object_micros(raw, missing)


def _datetime64_micros(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Microseconds of a datetime64 array of any unit (floored), exact for every year numpy holds."""
    micros = values.astype("datetime64[us]").astype(np.int64)
    return micros, micros != _NAT


def _epoch_micros(seconds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Microseconds of Unix seconds, exact to the microsecond; NaN, infinities and absurd magnitudes are unparsed."""
    usable = np.isfinite(seconds) & (np.abs(seconds) < _MAX_ABS_SECONDS)
    safe = np.where(usable, seconds, 0.0)
    whole = np.floor(safe)
    return whole.astype(np.int64) * 1_000_000 + np.round((safe - whole) * 1e6).astype(np.int64), usable


def _object_micros(raw: pd.Series, missing: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Microseconds of ISO 8601 text, datetimes and numbers mixed in an object column.

    pandas parses in nanoseconds, so a value it cannot place (year 3000, year 1) is parsed again
    on its own: only those values, never the valid ones, go through Python one by one.
    """
    present = raw.where(~missing)
    numbers = pd.to_numeric(present, errors="coerce").to_numpy(dtype=np.float64)
    is_number = ~np.isnan(numbers)
    parsed = pd.to_datetime(present.where(~is_number), utc=True, errors="coerce", format="ISO8601")
    micros, ok = _datetime64_micros(parsed.dt.tz_localize(None).to_numpy())
    if is_number.any():
        epoch, epoch_ok = _epoch_micros(np.where(is_number, numbers, np.nan))
        micros, ok = np.where(is_number, epoch, micros), np.where(is_number, epoch_ok, ok)
    retry = np.flatnonzero(~ok & ~missing & ~is_number)
    for position, value in zip(retry.tolist(), present.to_numpy()[retry].tolist(), strict=True):
        parsed_one = _parse_one(value)
        if parsed_one is not None:
            micros[position], ok[position] = parsed_one, True
    return micros, ok


def _parse_one(value: object) -> int | None:
    """Microseconds of one datetime or ISO 8601 text outside pandas' range, or None if it is not a timestamp."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    delta = aware - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
