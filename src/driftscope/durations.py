"""Durations (``90s``, ``15m``, ``6h``, ``7d``, ``2w``) and schedules (cron or an interval)."""

import re
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
