"""Calendar windows (issue #11): months, Monday weeks, midnight alignment, refusal off a boundary."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from driftscope.durations import Months, parse_period
from driftscope.errors import ConfigError
from driftscope.monitors.widths import check_width
from driftscope.monitors.windows import align, next_boundary, tiles_between, window_ending


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_months_across_month_ends_and_a_leap_february() -> None:
    tiles = tiles_between(utc(2023, 12, 31, 23), utc(2024, 4, 1), Months(1))
    assert [(t.start.date().isoformat(), t.end.date().isoformat()) for t in tiles] == [
        ("2023-12-01", "2024-01-01"), ("2024-01-01", "2024-02-01"), ("2024-02-01", "2024-03-01"),
        ("2024-03-01", "2024-04-01")]
    assert tiles[2].end - tiles[2].start == timedelta(days=29)  # leap February


def test_leap_day_lies_in_february_and_its_own_day() -> None:
    assert align(utc(2024, 2, 29, 12), Months(1)) == utc(2024, 2, 1)
    assert align(utc(2024, 2, 29, 12), timedelta(days=1)) == utc(2024, 2, 29)
    assert window_ending(utc(2024, 3, 1), timedelta(days=1)).start == utc(2024, 2, 29)
    assert window_ending(utc(2025, 3, 1), Months(1)).start == utc(2025, 2, 1)


def test_quarters_and_weeks() -> None:
    assert align(utc(2026, 5, 17), Months(3)) == utc(2026, 4, 1)
    week = window_ending(utc(2026, 1, 5), timedelta(weeks=1))
    assert (week.start.strftime("%A"), week.start, week.end) == ("Monday", utc(2025, 12, 29), utc(2026, 1, 5))


def test_window_end_off_a_boundary_is_refused_with_the_boundaries_named() -> None:
    with pytest.raises(ConfigError, match=r"2026-01-03T00:00:00\+00:00 is not a boundary .* nearest boundaries are "
                                          r"2025-12-08T00:00:00\+00:00 and 2026-01-07T00:00:00\+00:00"):
        window_ending(utc(2026, 1, 3), timedelta(days=30))
    with pytest.raises(ConfigError, match=r"2026-01-01T00:00:00.*2026-02-01T00:00:00"):
        window_ending(utc(2026, 1, 15), Months(1))


@pytest.mark.parametrize("width", [timedelta(hours=7), timedelta(hours=36)])
def test_widths_that_would_not_restart_at_midnight_are_refused(width: timedelta) -> None:
    with pytest.raises(ConfigError):
        check_width(width)


def test_parse_period() -> None:
    assert parse_period("1mo") == Months(1) and parse_period("3mo") == Months(3)
    assert parse_period("1w") == timedelta(weeks=1)
    with pytest.raises(ValueError):
        parse_period("0mo")


@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)),
       st.sampled_from([timedelta(hours=1), timedelta(days=1), timedelta(weeks=1), timedelta(days=30), Months(1),
                        Months(3), timedelta(minutes=15)]))
def test_every_moment_lies_in_exactly_one_window(moment: datetime, width: timedelta | Months) -> None:
    start = align(moment, width)
    assert (start <= moment and start.hour == 0) or (isinstance(width, timedelta) and width < timedelta(days=1))
    window = window_ending(next_boundary(start, width), width)
    assert window.start == start and window.start <= moment < window.end
