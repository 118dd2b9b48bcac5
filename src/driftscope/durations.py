"""Durations (``90s``, ``15m``, ``6h``, ``7d``, ``2w``), calendar months (``1mo``) and schedules."""

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")


def parse_duration(value: Any) -> timedelta:
    """Parse ``"<number><unit>"`` with unit s, m, h, d or w into a timedelta.

    A timedelta passes through; a bare number is seconds.

    Examples
    --------
    >>> parse_duration("7d")
    datetime.timedelta(days=7)
    >>> parse_duration("90s").total_seconds()
    90.0
    """
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=float(value))
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"expected a duration like 30s, 15m, 6h, 1d or 2w, got {value!r}")
    return timedelta(**{_UNITS[match.group(2)]: float(match.group(1))})


_MONTHS = re.compile(r"^\s*(\d+)\s*mo\s*$")
MONTH_SECONDS = 30.436875 * 86400  # mean Gregorian month


@dataclass(frozen=True, order=True)
class Months:
    """A whole number of calendar months (a window width of ``1mo`` is a calendar month)."""

    count: int

    def __str__(self) -> str:
        return f"{self.count}mo"

    def total_seconds(self) -> float:
        """Nominal length (mean Gregorian month), for ordering and display only."""
        return self.count * MONTH_SECONDS


def parse_period(value: Any) -> "timedelta | Months":
    """A duration (:func:`parse_duration`) or a number of calendar months (``"1mo"``, ``"3mo"``).

    Examples
    --------
    >>> parse_period("1mo"), parse_period("1d")
    (Months(count=1), datetime.timedelta(days=1))
    """
    if isinstance(value, Months):
        return value
    match = _MONTHS.match(str(value)) if isinstance(value, str) else None
    if match:
        if int(match.group(1)) < 1:
            raise ValueError(f"a number of months must be at least 1, got {value!r}")
        return Months(int(match.group(1)))
    return parse_duration(value)


def is_interval(schedule: str) -> bool:
    """True when ``schedule`` is an interval (``"30s"``), False when it is a cron expression."""
    return _DURATION.match(schedule) is not None


def validate_schedule(value: Any) -> str:
    """Accept a 5-field cron expression or an interval duration; return it unchanged.

    Examples
    --------
    >>> validate_schedule("*/5 * * * *")
    '*/5 * * * *'
    >>> validate_schedule("every minute")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: expected a cron expression (5 fields, e.g. '*/5 * * * *') or an interval (...), got 'every minute'
    """
    text = str(value).strip()
    if is_interval(text):
        if parse_duration(text) <= timedelta(0):
            raise ValueError(f"an interval must be positive, got {text!r}")
        return text
    from apscheduler.triggers.cron import CronTrigger

    try:
        if len(text.split()) != 5:
            raise ValueError("not 5 fields")
        CronTrigger.from_crontab(text, timezone="UTC")
    except ValueError as exc:
        raise ValueError(
            "expected a cron expression (5 fields, e.g. '*/5 * * * *') or an interval (e.g. '30s'), "
            f"got {text!r}"
        ) from exc
    return text
