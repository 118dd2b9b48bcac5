"""The outbox of messages owed to channels, their delivery attempts, and the versioned event documents.

A notification row holds the *event* (a JSON document, ``schema_version`` 1, see ``docs/webhooks.md``),
never a secret: channels render and sign it at send time. Rows are ``pending`` until ``delivered``,
or ``failed`` once the dispatcher gives up; every attempt is a :class:`~storage.models.DeliveryAttempt`.

Claiming is a lease on the row: :func:`claim_due` pushes ``next_attempt_at`` past the send with one
conditional ``UPDATE ... RETURNING``, so two dispatchers (threads or processes) never send the same
row at once, and a dispatcher that dies mid-send leaves the row due again when the claim expires.
"""

import math
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from driftscope.errors import NotFoundError
from driftscope.storage.models import DeliveryAttempt, Notification

SCHEMA_VERSION = 1
NOTIFICATION_STATUSES = ("pending", "delivered", "failed")
EVENT_TYPES = ("alert.fired", "alert.updated", "alert.resolved", "retraining.requested")
MAX_RESPONSE_CHARS = 2000
DELIVERY_LOG_COLUMNS = [
    "notification_id", "channel", "event", "attempt", "ok", "status_code", "error", "duration_ms", "created_at",
]


@dataclass(frozen=True)
class NotificationInfo:
    """A notification as the dispatcher sees it."""

    id: int
    channel: str
    payload: dict[str, Any]
    status: str
    attempts: int
    alert_id: int | None
    retraining_request_id: int | None


def jsonable(value: Any) -> Any:
    """``value`` with numpy scalars, timestamps and non-finite floats made JSON-safe (NaN/inf -> None).

    Examples
    --------
    >>> jsonable({"x": np.float64("nan"), "n": np.int64(3), "t": datetime(2026, 1, 1, tzinfo=UTC)})
    {'x': None, 'n': 3, 't': '2026-01-01T00:00:00+00:00'}
    """
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | np.ndarray):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def new_event(event_type: str, body: dict[str, Any], *, event_id: str | None = None, now: datetime) -> dict[str, Any]:
    """A versioned event document: ``schema_version``, ``type``, ``id``, ``created_at``, then ``body``.

    ``id`` (a UUID unless given) is also the delivery's idempotency key. ``sent_at`` is added per attempt.

    Examples
    --------
    >>> doc = new_event("alert.fired", {"alert": {"id": 1}}, event_id="e1", now=datetime(2026, 1, 1, tzinfo=UTC))
    >>> doc["schema_version"], doc["type"], doc["id"], doc["created_at"]
    (1, 'alert.fired', 'e1', '2026-01-01T00:00:00+00:00')
    """
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r}; valid: {', '.join(EVENT_TYPES)}")
    head = {"schema_version": SCHEMA_VERSION, "type": event_type, "id": event_id or str(uuid.uuid4())}
    return {**head, "created_at": now.isoformat(), **jsonable(body)}


def enqueue(
    session: Session,
    *,
    channel: str,
    payload: dict[str, Any],
    alert_id: int | None = None,
    retraining_request_id: int | None = None,
    due_at: datetime | None = None,
) -> int:
    """Queue ``payload`` for ``channel``, due at ``due_at`` (default: now, wall clock); return its id. Flushes."""
    row = Notification(
        channel=channel, payload=jsonable(payload), status="pending", alert_id=alert_id,
        retraining_request_id=retraining_request_id, next_attempt_at=due_at or datetime.now(UTC),
    )
    session.add(row)
    session.flush()
    return row.id


def claim_due(session: Session, *, now: datetime, claim_for: timedelta, limit: int = 100) -> list[NotificationInfo]:
    """Claim up to ``limit`` pending notifications due at ``now`` for ``claim_for``; oldest first.

    Commit the claim (the caller's transaction) before sending, so other dispatchers see it. On
    PostgreSQL the candidates are locked with ``FOR UPDATE SKIP LOCKED``, so concurrent dispatchers
    take different rows instead of queueing on the same oldest ones; SQLite's write lock already
    serialises claims.
    """
    due = session.execute(
        select(Notification.id)
        .where(Notification.status == "pending", Notification.next_attempt_at <= now)
        .order_by(Notification.next_attempt_at, Notification.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).scalars().all()
    if not due:
        return []
    rows = session.execute(
        update(Notification)
        .where(Notification.id.in_(due), Notification.status == "pending", Notification.next_attempt_at <= now)
        .values(next_attempt_at=now + claim_for)
        .returning(
            Notification.id, Notification.channel, Notification.payload, Notification.status,
            Notification.attempts, Notification.alert_id, Notification.retraining_request_id,
        ),
        execution_options={"synchronize_session": False},
    ).all()
    return sorted((NotificationInfo(*row) for row in rows), key=lambda n: n.id)


def release(session: Session, *, notification_ids: list[int], now: datetime) -> None:
    """Give claimed, unsent notifications back (due at ``now``), e.g. when the dispatcher stops early."""
    if notification_ids:
        session.execute(
            update(Notification)
            .where(Notification.id.in_(notification_ids), Notification.status == "pending")
            .values(next_attempt_at=now),
            execution_options={"synchronize_session": False},
        )


def record_attempt(
    session: Session,
    *,
    notification_id: int,
    ok: bool,
    duration_ms: float,
    status_code: int | None = None,
    error: str | None = None,
    response: str | None = None,
    retry_at: datetime | None = None,
    now: datetime | None = None,
) -> str:
    """Record one delivery attempt and return the notification's new status.

    ``ok`` -> ``delivered``; a failure with ``retry_at`` stays ``pending`` until then; a failure
    without ``retry_at`` is final (``failed``, still listed). Flushes.
    """
    row = session.get(Notification, notification_id, with_for_update=True)
    if row is None:
        raise NotFoundError(f"no notification {notification_id}")
    row.attempts += 1
    session.add(DeliveryAttempt(
        notification_id=notification_id, attempt=row.attempts, ok=ok, status_code=status_code, error=error,
        response=None if response is None else response[:MAX_RESPONSE_CHARS], duration_ms=duration_ms,
    ))
    if ok:
        row.status, row.delivered_at = "delivered", now or datetime.now(UTC)
    elif retry_at is None:
        row.status = "failed"
    else:
        row.next_attempt_at = retry_at
    session.flush()
    return row.status


def delivery_log(session: Session, *, alert_id: int) -> pd.DataFrame:
    """Every delivery attempt of an alert's notifications, oldest first.

    Columns: notification_id, channel, event (the event type), attempt, ok, status_code, error,
    duration_ms (milliseconds), created_at (UTC).
    """
    rows = session.execute(
        select(
            Notification.id, Notification.channel, Notification.payload["type"].as_string(),
            DeliveryAttempt.attempt, DeliveryAttempt.ok, DeliveryAttempt.status_code, DeliveryAttempt.error,
            DeliveryAttempt.duration_ms, DeliveryAttempt.created_at,
        )
        .join(DeliveryAttempt, DeliveryAttempt.notification_id == Notification.id)
        .where(Notification.alert_id == alert_id)
        .order_by(DeliveryAttempt.created_at, DeliveryAttempt.id)
    ).all()
    return pd.DataFrame(rows, columns=DELIVERY_LOG_COLUMNS)


def list_notifications(
    session: Session,
    *,
    status: str | None = None,
    alert_id: int | None = None,
    retraining_request_id: int | None = None,
) -> pd.DataFrame:
    """Notifications, oldest first: id, channel, event, status, attempts, next_attempt_at, created_at,
    delivered_at, alert_id, retraining_request_id."""
    query = select(
        Notification.id, Notification.channel, Notification.payload["type"].as_string(), Notification.status,
        Notification.attempts, Notification.next_attempt_at, Notification.created_at, Notification.delivered_at,
        Notification.alert_id, Notification.retraining_request_id,
    )
    if status is not None:
        if status not in NOTIFICATION_STATUSES:
            raise ValueError(f"notification status must be one of {NOTIFICATION_STATUSES}, got {status!r}")
        query = query.where(Notification.status == status)
    if alert_id is not None:
        query = query.where(Notification.alert_id == alert_id)
    if retraining_request_id is not None:
        query = query.where(Notification.retraining_request_id == retraining_request_id)
    columns = [
        "id", "channel", "event", "status", "attempts", "next_attempt_at", "created_at", "delivered_at",
        "alert_id", "retraining_request_id",
    ]
    return pd.DataFrame(session.execute(query.order_by(Notification.id)).all(), columns=columns)


def notified_channels(session: Session, *, alert_id: int) -> list[str]:
    """Channels an alert has been sent to (or queued for), in first-use order."""
    rows = session.execute(
        select(Notification.channel).where(Notification.alert_id == alert_id).order_by(Notification.id)
    ).scalars()
    return list(dict.fromkeys(rows))
