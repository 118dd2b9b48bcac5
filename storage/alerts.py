"""Alerts: one active alert per (rule, model version), updated by later firings, with its history.

Monitor rules keep one alert per *incident* (see :mod:`driftscope.alerting.rules.lifecycle`) with
its data time (``data_start``, ``data_end``, ``resolved_window_end``) next to the wall-clock
columns; :func:`open_incident`, :func:`update_incident` and :func:`reopen_incident` write what the
rules derived. ``no_data`` rules use :func:`fire_alert` and :func:`record_clean_run`.

Statuses: ``open`` -> ``acknowledged`` -> ``resolved`` (``open`` -> ``resolved`` too). ``open`` and
``acknowledged`` alerts are *active*: a rule firing again updates the active alert (``fire_count``,
``last_seen``, latest evidence and window) instead of opening another; once resolved, the next firing
opens a new alert. Every change is an :class:`~storage.models.AlertEvent` (action, actor, note).

Resolving an alert (by hand or after ``resolve_after`` clean runs) queues an ``alert.resolved`` event
to every channel that was told about it, in the same transaction.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from driftscope.errors import DriftscopeError, NotFoundError
from driftscope.storage.models import Alert, AlertEvent, Model, ModelVersion, Prediction, PredictionChunk
from driftscope.storage.notifications import enqueue, jsonable, new_event, notified_channels

ALERT_STATUSES = ("open", "acknowledged", "resolved")
ACTIVE_STATUSES = ("open", "acknowledged")
SEVERITIES = ("info", "warning", "critical")
SYSTEM_ACTOR = "driftscope"
ALERT_COLUMNS = [
    "id", "rule", "kind", "model", "version", "model_version_id", "severity", "status", "title", "fire_count",
    "clean_runs", "first_seen", "last_seen", "last_notified_at", "resolved_at", "window_start", "window_end",
    "evidence", "data_start", "data_end", "resolved_window_end",
]
TIME_COLUMNS = (
    "first_seen", "last_seen", "last_notified_at", "resolved_at", "window_start", "window_end", "data_start",
    "data_end", "resolved_window_end",
)


class AlertStateError(DriftscopeError, ValueError):
    """An alert cannot make the requested transition (e.g. acknowledging a resolved alert)."""


@dataclass(frozen=True)
class AlertState:
    """An alert right after a firing: ``opened`` is True when this firing opened it."""

    id: int
    status: str
    fire_count: int
    opened: bool
    last_notified_at: datetime | None


def fire_alert(
    session: Session,
    *,
    rule: str,
    kind: str,
    model_version_id: int,
    severity: str,
    title: str,
    evidence: dict[str, Any],
    window_start: datetime | None,
    window_end: datetime | None,
    now: datetime | None = None,
) -> AlertState:
    """Open an alert for (rule, version), or update the active one with this firing. Flushes."""
    if severity not in SEVERITIES:
        raise ValueError(f"rule {rule!r}: severity must be one of {SEVERITIES}, got {severity!r}")
    now = now or datetime.now(UTC)
    alert = _active(session, rule=rule, model_version_id=model_version_id)
    opened = alert is None
    if alert is None:
        alert = Alert(
            rule=rule, kind=kind, model_version_id=model_version_id, status="open", fire_count=1, clean_runs=0,
            first_seen=now,
        )
        session.add(alert)
    else:
        alert.fire_count += 1
        alert.clean_runs = 0
    alert.severity, alert.title, alert.evidence = severity, title, jsonable(evidence)
    alert.window_start, alert.window_end, alert.last_seen = window_start, window_end, now
    session.flush()
    _event(session, alert.id, "opened" if opened else "fired", SYSTEM_ACTOR, None if opened else title, now)
    return AlertState(alert.id, alert.status, alert.fire_count, opened, alert.last_notified_at)


@dataclass(frozen=True)
class IncidentRecord:
    """A stored alert as the rules reconcile it with the incidents they derive."""

    id: int
    status: str
    fire_count: int
    severity: str
    data_start: datetime | None
    data_end: datetime | None
    resolved_window_end: datetime | None
    last_notified_at: datetime | None
    by_hand: bool


@dataclass(frozen=True)
class IncidentFacts:
    """What the rules derived for an incident: data span, latest breaching window, counts, message."""

    severity: str
    title: str
    evidence: dict[str, Any] | None
    data_start: datetime
    data_end: datetime
    window_start: datetime
    window_end: datetime
    fire_count: int
    clean_runs: int


def incident_alerts(session: Session, *, rule: str, model_version_id: int) -> list[IncidentRecord]:
    """Every alert of (rule, version), oldest first; ``by_hand`` when a person resolved it."""
    by_hand = (
        select(AlertEvent.id)
        .where(AlertEvent.alert_id == Alert.id, AlertEvent.action == "resolved", AlertEvent.actor != SYSTEM_ACTOR)
        .exists()
    )
    rows = session.execute(
        select(Alert.id, Alert.status, Alert.fire_count, Alert.severity, Alert.data_start, Alert.data_end,
               Alert.resolved_window_end, Alert.last_notified_at, by_hand)
        .where(Alert.rule == rule, Alert.model_version_id == model_version_id)
        .order_by(Alert.id)
    ).all()
    return [IncidentRecord(*row) for row in rows]


def open_incident(
    session: Session, *, rule: str, kind: str, model_version_id: int, facts: IncidentFacts, now: datetime
) -> int:
    """Store a new incident's alert (``open``); return its id. Flushes."""
    if facts.severity not in SEVERITIES:
        raise ValueError(f"rule {rule!r}: severity must be one of {SEVERITIES}, got {facts.severity!r}")
    alert = Alert(rule=rule, kind=kind, model_version_id=model_version_id, status="open", first_seen=now)
    session.add(alert)
    _apply_facts(alert, facts, now)
    session.flush()
    _event(session, alert.id, "opened", SYSTEM_ACTOR, None, now)
    return alert.id


def update_incident(
    session: Session, *, alert_id: int, facts: IncidentFacts, now: datetime, action: str | None = None,
    note: str | None = None,
) -> None:
    """Write newly derived facts onto an alert; record ``action`` (``fired``, ``updated``) when given. Flushes."""
    alert = _get(session, alert_id)
    _apply_facts(alert, facts, now)
    session.flush()
    if action is not None:
        _event(session, alert_id, action, SYSTEM_ACTOR, note, now)


def resolve_incident(session: Session, *, alert_id: int, window_end: datetime, note: str, now: datetime) -> None:
    """Resolve an active alert after the clean window ending at ``window_end``; notify its channels."""
    alert = _get(session, alert_id)
    alert.resolved_window_end = window_end
    _resolve(session, alert, SYSTEM_ACTOR, note, now)


def reopen_incident(session: Session, *, alert_id: int, note: str, now: datetime) -> None:
    """Make an automatically resolved alert open again (a recomputed window undid its resolution)."""
    alert = _get(session, alert_id)
    alert.status, alert.resolved_at, alert.resolved_window_end = "open", None, None
    session.flush()
    _event(session, alert_id, "reopened", SYSTEM_ACTOR, note, now)


def _apply_facts(alert: Alert, facts: IncidentFacts, now: datetime) -> None:
    alert.severity, alert.title = facts.severity, facts.title
    if facts.evidence is not None:
        alert.evidence = jsonable(facts.evidence)
    alert.data_start, alert.data_end = facts.data_start, facts.data_end
    alert.window_start, alert.window_end = facts.window_start, facts.window_end
    alert.fire_count, alert.clean_runs, alert.last_seen = facts.fire_count, facts.clean_runs, now


def record_clean_run(
    session: Session, *, rule: str, model_version_id: int, resolve_after: int, now: datetime | None = None
) -> int | None:
    """Count a clean evaluation against the active alert; resolve it after ``resolve_after`` in a row.

    Returns the id of the alert resolved by this call, else None. Flushes.
    """
    alert = _active(session, rule=rule, model_version_id=model_version_id)
    if alert is None:
        return None
    alert.clean_runs += 1
    session.flush()
    if alert.clean_runs < resolve_after:
        return None
    note = f"condition clear for {alert.clean_runs} consecutive evaluations"
    _resolve(session, alert, SYSTEM_ACTOR, note, now or datetime.now(UTC))
    return alert.id


def notify_alert(
    session: Session, *, alert_id: int, channels: list[str], now: datetime | None = None,
    event_type: str = "alert.fired",
) -> list[int]:
    """Queue an ``event_type`` event (``alert.fired``, ``alert.updated``) to each channel and stamp
    ``last_notified_at``; return the ids."""
    now = now or datetime.now(UTC)
    alert = _get(session, alert_id)
    payload = alert_event(session, alert_id=alert_id, event_type=event_type, now=now)
    ids = [enqueue(session, channel=c, payload=payload, alert_id=alert_id) for c in channels]
    alert.last_notified_at = now
    note = ", ".join(channels) or "no channels"
    if event_type != "alert.fired":
        note = f"{event_type} to {note}"
    _event(session, alert_id, "notified", SYSTEM_ACTOR, note, now)
    return ids


def acknowledge_alert(session: Session, *, alert_id: int, actor: str, note: str | None = None) -> None:
    """Mark an open alert as being handled by ``actor``; it stays active but is not re-notified."""
    alert = _get(session, alert_id)
    if alert.status != "open":
        raise AlertStateError(f"alert {alert_id} is {alert.status}; only an open alert can be acknowledged")
    alert.status = "acknowledged"
    session.flush()
    _event(session, alert_id, "acknowledged", actor, note, datetime.now(UTC))


def resolve_alert(session: Session, *, alert_id: int, actor: str, note: str | None = None) -> None:
    """Close an active alert by hand; the channels it was sent to get an ``alert.resolved`` event."""
    alert = _get(session, alert_id)
    if alert.status not in ACTIVE_STATUSES:
        raise AlertStateError(f"alert {alert_id} is already {alert.status}; only an active alert can be resolved")
    alert.resolved_window_end = alert.data_end
    _resolve(session, alert, actor, note, datetime.now(UTC))


def get_alert(session: Session, *, alert_id: int) -> dict[str, Any]:
    """One alert as a dict with the :data:`ALERT_COLUMNS` keys."""
    rows = _alert_rows(session, [Alert.id == alert_id])
    if not rows:
        raise NotFoundError(f"no alert with id {alert_id}; `driftscope alerts list --status all` lists them")
    return dict(zip(ALERT_COLUMNS, rows[0], strict=True))


def list_alerts(
    session: Session,
    *,
    status: str | None = None,
    model: str | None = None,
    severity: str | None = None,
    model_version_id: int | None = None,
) -> pd.DataFrame:
    """Alerts, most recently seen first, with the :data:`ALERT_COLUMNS`.

    ``status`` is one of :data:`ALERT_STATUSES`, or ``"active"`` for open and acknowledged ones.
    """
    filters: list[Any] = []
    if status == "active":
        filters.append(Alert.status.in_(ACTIVE_STATUSES))
    elif status is not None:
        if status not in ALERT_STATUSES:
            raise ValueError(f"alert status must be 'active' or one of {ALERT_STATUSES}, got {status!r}")
        filters.append(Alert.status == status)
    if model is not None:
        filters.append(Model.name == model)
    if severity is not None:
        filters.append(Alert.severity == severity)
    if model_version_id is not None:
        filters.append(Alert.model_version_id == model_version_id)
    frame = pd.DataFrame(_alert_rows(session, filters), columns=ALERT_COLUMNS)
    for column in TIME_COLUMNS:
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def alert_history(session: Session, *, alert_id: int) -> pd.DataFrame:
    """The events of an alert in the order they happened: id, action, actor, note, created_at (UTC)."""
    _get(session, alert_id)
    rows = session.execute(
        select(AlertEvent.id, AlertEvent.action, AlertEvent.actor, AlertEvent.note, AlertEvent.created_at)
        .where(AlertEvent.alert_id == alert_id)
        .order_by(AlertEvent.id)
    ).all()
    return pd.DataFrame(rows, columns=["id", "action", "actor", "note", "created_at"])


def alert_event(session: Session, *, alert_id: int, event_type: str, now: datetime) -> dict[str, Any]:
    """The versioned event document (see ``docs/webhooks.md``) describing an alert as it is now."""
    a = get_alert(session, alert_id=alert_id)
    body = {
        "alert": {
            "id": a["id"], "rule": a["rule"], "kind": a["kind"], "severity": a["severity"], "status": a["status"],
            "title": a["title"], "model": a["model"], "version": a["version"],
            "model_version_id": a["model_version_id"], "fire_count": a["fire_count"],
            "first_seen": a["first_seen"], "last_seen": a["last_seen"], "resolved_at": a["resolved_at"],
            "window": {"start": a["window_start"], "end": a["window_end"]}, "evidence": a["evidence"],
            "data_time": {"start": a["data_start"], "end": a["data_end"], "resolved": a["resolved_window_end"]},
            "created_at": a["first_seen"], "last_notified_at": a["last_notified_at"],
        }
    }
    return new_event(event_type, body, now=now)


def version_activity(
    session: Session, *, model_version_id: int, as_of: datetime | None = None
) -> dict[str, datetime | None]:
    """Signs of life of a version, for ``no_data`` rules (UTC; None when never seen).

    ``registered_at`` (the version's registration), ``last_ingested_at`` (newest stored batch) and
    ``last_prediction_at`` (newest prediction timestamp). With ``as_of`` (replaying the past), only
    ``last_prediction_at`` among predictions stamped at or before ``as_of`` counts: registration and
    ingestion happened in the present and say nothing about then.
    """
    registered = session.execute(
        select(ModelVersion.created_at).where(ModelVersion.id == model_version_id)
    ).scalar_one_or_none()
    if registered is None:
        raise NotFoundError(f"no model version with id {model_version_id}; run `driftscope apply`")
    last_prediction = select(func.max(Prediction.ts)).where(Prediction.model_version_id == model_version_id)
    if as_of is not None:
        return {"last_prediction_at": session.execute(last_prediction.where(Prediction.ts <= as_of)).scalar_one()}
    ingested = session.execute(
        select(func.max(PredictionChunk.created_at)).where(PredictionChunk.model_version_id == model_version_id)
    ).scalar_one()
    predicted = session.execute(last_prediction).scalar_one()
    return {"registered_at": registered, "last_ingested_at": ingested, "last_prediction_at": predicted}


def _resolve(session: Session, alert: Alert, actor: str, note: str | None, now: datetime) -> None:
    alert.status, alert.resolved_at = "resolved", now
    session.flush()
    _event(session, alert.id, "resolved", actor, note, now)
    channels = notified_channels(session, alert_id=alert.id)
    if channels:
        payload = alert_event(session, alert_id=alert.id, event_type="alert.resolved", now=now)
        for channel in channels:
            enqueue(session, channel=channel, payload=payload, alert_id=alert.id)


def _active(session: Session, *, rule: str, model_version_id: int) -> Alert | None:
    return session.execute(
        select(Alert)
        .where(Alert.rule == rule, Alert.model_version_id == model_version_id, Alert.status.in_(ACTIVE_STATUSES))
        .order_by(Alert.id.desc())
        .limit(1)
        .with_for_update()
    ).scalar_one_or_none()


def _get(session: Session, alert_id: int) -> Alert:
    alert = session.get(Alert, alert_id, with_for_update=True)
    if alert is None:
        raise NotFoundError(f"no alert with id {alert_id}; `driftscope alerts list --status all` lists them")
    return alert


def _event(session: Session, alert_id: int, action: str, actor: str, note: str | None, now: datetime) -> None:
    session.add(AlertEvent(alert_id=alert_id, action=action, actor=actor, note=note, created_at=now))
    session.flush()


def _alert_rows(session: Session, filters: list[Any]) -> list[tuple[Any, ...]]:
    query = (
        select(
            Alert.id, Alert.rule, Alert.kind, Model.name, ModelVersion.version, Alert.model_version_id,
            Alert.severity, Alert.status, Alert.title, Alert.fire_count, Alert.clean_runs, Alert.first_seen,
            Alert.last_seen, Alert.last_notified_at, Alert.resolved_at, Alert.window_start, Alert.window_end,
            Alert.evidence, Alert.data_start, Alert.data_end, Alert.resolved_window_end,
        )
        .join(ModelVersion, ModelVersion.id == Alert.model_version_id)
        .join(Model, Model.id == ModelVersion.model_id)
        .where(*filters)
        .order_by(Alert.last_seen.desc(), Alert.id.desc())
    )
    return [tuple(row) for row in session.execute(query).all()]
