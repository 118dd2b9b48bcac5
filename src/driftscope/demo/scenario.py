"""The demo's timeline: 60 days of traffic for two models and the trouble scripted into it.

Days are counted from the first day of traffic (day 0). The events are chosen so that each one is
the job of exactly one monitor, and days 0-17 are a quiet stretch against which false alarms show.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

N_DAYS = 60
CANARY_DAYS = 14
CANARY_SHARE = 0.2
LABEL_DELAY = timedelta(days=3)
CREDIT_PER_HOUR = 80
HOUSE_PER_HOUR = 40
CREDIT_LABEL_SHARE = 0.6
HOUSE_LABEL_SHARE = 0.5
QUIET_DAYS = range(0, 18)
LATENCY_MEDIAN_MS = 80.0
LATENCY_SLOWDOWN = 1.6
ERROR_RATE = 0.004
TIMEOUT_RATE = 0.002
CONVERSION = 0.12
CONVERSION_AFTER = 0.09


@dataclass(frozen=True)
class Event:
    """A scripted incident: what happens, to which model, from which day, and who must catch it."""

    name: str
    model: str
    start_day: int
    end_day: int
    description: str
    detected_by: str


EVENTS: tuple[Event, ...] = (
    Event("covariate_shift", "credit-default", 18, N_DAYS,
          "income and debt_ratio drift upwards, a little more each day", "data_drift"),
    Event("category_mix", "house-price", 26, N_DAYS,
          "the city mix flips overnight: city C goes from 20 % to 55 % of requests", "data_drift"),
    Event("missing_values", "house-price", 40, 41,
          "sqft is missing in 30 % of the rows for one day", "data_quality"),
    Event("concept_drift", "credit-default", 42, N_DAYS,
          "who defaults changes (young borrowers default more, debt matters less) while inputs stay",
          "concept_drift"),
    Event("collector_outage", "credit-default", 50, 50,
          "the prediction logs stop for seven hours (08:00-15:00 UTC)", "no_data"),
    Event("canary_regression", "credit-default", 53, N_DAYS,
          "the 2.0 canary gets 60 % slower and converts less: its experiment decides 'worse' that day",
          "experiment"),
)
OUTAGE_HOURS = range(8, 15)


def event(name: str) -> Event:
    """The scripted event called ``name``."""
    for item in EVENTS:
        if item.name == name:
            return item
    raise KeyError(name)


def timeline_start(now: datetime | None = None) -> datetime:
    """Day 0 at 00:00 UTC: so that the last day of traffic is yesterday (complete days only)."""
    now = now or datetime.now(UTC)
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=N_DAYS)

