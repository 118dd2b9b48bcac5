"""Alerts raised on an estimate, settled once the window's labels land: confirmed or retracted.

An alert whose evidence says ``metric.state == "estimated"`` was raised on an estimated figure
(``estimated_performance`` monitors). When the same window is realized, the rule's verdict on the
realized value settles it, in the caller's transaction:

* **confirmed** (the realized value breaks the rule too): the alert stays active, its evidence
  records the realized value, and every channel told about it gets one ``alert.confirmed`` event;
* **retracted** (it does not): the alert is resolved and those channels get one
  ``alert.retracted`` event (instead of ``alert.resolved``).

Either way the history gains a ``confirmed`` or ``retracted`` event, whose note is the new title.
The caller writes the same title and figure into the rule's verdict log, so the lifecycle's
reconcile, which rewrites an alert from that log, keeps them.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from driftscope.storage.alerts import ACTIVE_STATUSES, SYSTEM_ACTOR, alert_event
from driftscope.storage.models import Alert, AlertEvent
from driftscope.storage.notifications import enqueue, jsonable, notified_channels


@dataclass(frozen=True)
class EstimatedAlert:
    """An active alert raised on an estimate: its id, its title, its ``evidence.metric`` figure then, and
    its ``fire_count`` (breaching windows in its incident, this one included)."""

    id: int
    title: str
    metric: dict[str, Any]
    fire_count: int


def estimated_alert(
    session: Session, *, rule: str, model_version_id: int, window_start: datetime, window_end: datetime
) -> EstimatedAlert | None:
    """The active alert of (rule, version) raised on an estimate of exactly this window, else None."""
    alerts = session.execute(
        select(Alert).where(
            Alert.rule == rule, Alert.model_version_id == model_version_id, Alert.status.in_(ACTIVE_STATUSES),
            Alert.window_start == window_start, Alert.window_end == window_end,
        ).order_by(Alert.id.desc()).with_for_update()
    ).scalars().all()
    for alert in alerts:
        metric = (alert.evidence or {}).get("metric") or {}
        if metric.get("state") == "estimated":
            return EstimatedAlert(alert.id, alert.title, dict(metric), alert.fire_count)
    return None


def settle_estimated_alert(
    session: Session, *, alert_id: int, confirmed: bool, metric: dict[str, Any], title: str, now: datetime
) -> list[int]:
    """Confirm or retract an alert raised on an estimate; return the queued notification ids. Flushes.

    ``metric`` (the rule's figure on the realized value, with the estimate it settles) replaces the
    evidence's ``metric``; ``title`` replaces the title.
    """
    alert = session.get(Alert, alert_id, with_for_update=True)
    if alert is None:
        raise LookupError(f"no alert {alert_id}")
    verdict = "confirmed" if confirmed else "retracted"
    alert.evidence, alert.title = jsonable({**(alert.evidence or {}), "metric": metric}), title
    if not confirmed:
        alert.status, alert.resolved_at = "resolved", now
    session.add(AlertEvent(alert_id=alert_id, action=verdict, actor=SYSTEM_ACTOR, note=title, created_at=now))
    session.flush()
    channels = notified_channels(session, alert_id=alert_id)
    if not channels:
        return []
    payload = alert_event(session, alert_id=alert_id, event_type=f"alert.{verdict}", now=now)
    return [enqueue(session, channel=channel, payload=payload, alert_id=alert_id) for channel in channels]
