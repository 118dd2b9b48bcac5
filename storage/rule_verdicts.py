"""The verdict log: what each rule last concluded about each window of a model version.

One row per (rule, model version, window), rewritten when the window is recomputed. The alert
rules walk these rows in window order to derive their incidents, and compare a window's new
verdict with its logged one to know whether a recomputation changed anything.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from driftscope.storage.models import RuleVerdict

VERDICTS = ("breach", "clean", "none")


@dataclass(frozen=True)
class LoggedVerdict:
    """A row of the verdict log."""

    window_start: datetime
    window_end: datetime
    verdict: str
    clearance: float | None
    effect: float | None
    title: str
    run_id: int | None
    alert_id: int | None


def record_verdict(
    session: Session,
    *,
    rule: str,
    model_version_id: int,
    window_start: datetime,
    window_end: datetime,
    verdict: str,
    run_id: int | None,
    clearance: float | None = None,
    effect: float | None = None,
    title: str = "",
    now: datetime,
) -> LoggedVerdict | None:
    """Write the rule's verdict on a window; return the verdict it replaced (None when new). Flushes."""
    if verdict not in VERDICTS:
        raise ValueError(f"verdict must be one of {VERDICTS}, got {verdict!r}")
    row = session.execute(
        select(RuleVerdict).where(
            RuleVerdict.rule == rule, RuleVerdict.model_version_id == model_version_id,
            RuleVerdict.window_start == window_start, RuleVerdict.window_end == window_end,
        ).with_for_update()
    ).scalar_one_or_none()
    before = None if row is None else _logged(row)
    if row is None:
        row = RuleVerdict(rule=rule, model_version_id=model_version_id, window_start=window_start,
                          window_end=window_end)
        session.add(row)
    row.verdict, row.run_id, row.clearance, row.effect = verdict, run_id, clearance, effect
    row.title, row.evaluated_at = title[:1000], now
    session.flush()
    return before


def verdict_log(session: Session, *, rule: str, model_version_id: int) -> list[LoggedVerdict]:
    """The rule's verdicts on a version, oldest window first."""
    rows = session.execute(
        select(RuleVerdict)
        .where(RuleVerdict.rule == rule, RuleVerdict.model_version_id == model_version_id)
        .order_by(RuleVerdict.window_start, RuleVerdict.window_end)
    ).scalars()
    return [_logged(r) for r in rows]


def link_alert(
    session: Session, *, rule: str, model_version_id: int, windows: list[tuple[datetime, datetime]], alert_id: int
) -> None:
    """Mark ``windows`` (start, end) of the rule's log as belonging to ``alert_id``. Flushes."""
    for start, end in windows:
        session.execute(
            update(RuleVerdict)
            .where(RuleVerdict.rule == rule, RuleVerdict.model_version_id == model_version_id,
                   RuleVerdict.window_start == start, RuleVerdict.window_end == end)
            .values(alert_id=alert_id)
        )
    session.flush()


def _logged(row: RuleVerdict) -> LoggedVerdict:
    return LoggedVerdict(row.window_start, row.window_end, row.verdict, row.clearance, row.effect, row.title,
                         row.run_id, row.alert_id)
