"""Window widths as configured: which ones a config may set, and how they are written.

What config validation needs of windows, without numpy or pandas; the windows themselves are
:mod:`driftscope.monitors.windows`.
"""

from datetime import timedelta

from driftscope.durations import Months
from driftscope.errors import ConfigError

DAY = timedelta(days=1)
Width = timedelta | Months


def check_width(width: Width) -> None:
    """Refuse widths whose windows would not restart at UTC midnight.

    Examples
    --------
    >>> check_width(timedelta(hours=7))
    Traceback (most recent call last):
    ...
    driftscope.errors.ConfigError: a window of 7h does not divide a day: use a width that divides 24 hours ...
    """
    if isinstance(width, Months):
        if width.count < 1:
            raise ConfigError(f"a window of {width} months must be at least 1 month")
        return
    if width <= timedelta(0):
        raise ConfigError(f"a window width must be positive, got {width}")
    if width < DAY and DAY % width:
        raise ConfigError(f"a window of {describe(width)} does not divide a day: use a width that divides 24 hours "
                          "(1h, 2h, 3h, 4h, 6h, 8h, 12h, 15m...) or whole days")
    if width > DAY and width % DAY:
        raise ConfigError(f"a window of {describe(width)} is not a whole number of days: use e.g. 1d, 2d, 1w or 1mo")


def describe(width: Width) -> str:
    """A width as configured: ``1mo``, ``1w``, ``30d``, ``6h``, ``15m``.

    Examples
    --------
    >>> describe(timedelta(days=30)), describe(timedelta(weeks=2)), describe(timedelta(minutes=90)), describe(Months(1))
    ('30d', '2w', '90m', '1mo')
    """
    if isinstance(width, Months):
        return str(width)
    seconds = int(width.total_seconds())
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
