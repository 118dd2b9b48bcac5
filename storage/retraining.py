"""Retraining requests: created by hand or by a rule, sent to the model's retrain webhook, tracked.

Status moves forward only: ``pending`` -> ``sent`` -> ``acknowledged`` -> ``completed``, with
``failed`` reachable from any open state; ``completed`` and ``failed`` are final. A request is
``pending`` until the dispatcher delivers its ``retraining.requested`` event (then ``sent``) or gives
up (then ``failed``). A model without ``retrain_webhook`` gets no event: its requests stay
``pending`` until someone moves them on.
"""

import uuid
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from driftscope.errors import DriftscopeError, NotFoundError
from driftscope.storage.alerts import list_alerts
from driftscope.storage.models import Model, ModelVersion, RetrainingRequest
from driftscope.storage.notifications import enqueue, jsonable, new_event

REQUEST_STATUSES = ("pending", "sent", "acknowledged", "completed", "failed")
TRIGGERS = ("manual", "alert")
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "pending": ("sent", "acknowledged", "completed", "failed"),
    "sent": ("acknowledged", "completed", "failed"),
    "acknowledged": ("completed", "failed"),
    "completed": (),
    "failed": (),
}
REQUEST_COLUMNS = [
    "id", "model", "version", "model_version_id", "trigger", "reason", "requested_by", "status",
    "idempotency_key", "alert_id", "created_at", "updated_at", "updated_by", "note", "evidence",
]


class RequestStateError(DriftscopeError, ValueError):
    """A retraining request cannot make the requested transition (e.g. completing a failed one)."""


def request_retraining(
    session: Session,
    *,
    model_version_id: int,
    reason: str,
    requested_by: str,
    trigger: str = "manual",
    evidence: dict[str, Any] | None = None,
    alert_id: int | None = None,
    now: datetime | None = None,
) -> int:
    """Create a ``pending`` request and queue its event to the model's ``retrain_webhook``; return its id.

    The evidence stored and sent is ``evidence`` plus ``alerts``: the version's active alerts (rule,
    kind, severity, title, window, evidence). Delivery happens on the next dispatch. Flushes.
    """
    if trigger not in TRIGGERS:
        raise ValueError(f"trigger must be one of {TRIGGERS}, got {trigger!r}")
    if not reason.strip():
        raise ValueError("a retraining request needs a reason (what is wrong with the model version)")
    found = session.execute(
        select(Model.name, Model.retrain_webhook, ModelVersion.version)
        .join(ModelVersion, ModelVersion.model_id == Model.id)
        .where(ModelVersion.id == model_version_id)
    ).one_or_none()
    if found is None:
        raise NotFoundError(f"no model version with id {model_version_id}; run `driftscope apply`")
    model, webhook, version = found
    now = now or datetime.now(UTC)
    full_evidence = jsonable({**(evidence or {}), "alerts": _active_alerts(session, model_version_id)})
    row = RetrainingRequest(
        model_version_id=model_version_id, trigger=trigger, reason=reason, requested_by=requested_by,
        status="pending", idempotency_key=str(uuid.uuid4()), evidence=full_evidence, alert_id=alert_id,
        created_at=now, updated_at=now, updated_by=requested_by,
    )
    session.add(row)
    session.flush()
    if webhook is not None:
        request = {
            "id": row.id, "model": model, "version": version, "model_version_id": model_version_id,
            "trigger": trigger, "reason": reason, "requested_by": requested_by, "alert_id": alert_id,
            "requested_at": now,
        }
        body = {"idempotency_key": row.idempotency_key, "request": request, "evidence": full_evidence}
        payload = new_event("retraining.requested", body, event_id=row.idempotency_key, now=now)
        enqueue(session, channel=webhook, payload=payload, retraining_request_id=row.id)
    return row.id


def set_status(session: Session, *, request_id: int, status: str, actor: str, note: str | None = None) -> None:
    """Move a request to ``status``; a move :data:`TRANSITIONS` does not allow is refused. Flushes."""
    if status not in REQUEST_STATUSES:
        raise ValueError(f"request status must be one of {REQUEST_STATUSES}, got {status!r}")
    row = _get(session, request_id)
    allowed = TRANSITIONS[row.status]
    if status not in allowed:
        hint = f"it can become {', '.join(allowed)}" if allowed else "that status is final"
        raise RequestStateError(f"retraining request {request_id} is {row.status} and cannot become {status}; {hint}")
    row.status, row.updated_by, row.note = status, actor, note
    row.updated_at = datetime.now(UTC)
    session.flush()


def record_delivery(session: Session, *, request_id: int, delivered: bool) -> None:
    """Note the outcome of sending a request: a ``pending`` one becomes ``sent`` or ``failed``. Flushes."""
    row = _get(session, request_id)
    if row.status == "pending":
        row.status = "sent" if delivered else "failed"
        row.updated_by, row.updated_at = "driftscope", datetime.now(UTC)
        row.note = None if delivered else "the retrain webhook could not be reached; see the delivery attempts"
        session.flush()


def last_request_at(session: Session, *, model_version_id: int) -> datetime | None:
    """When the newest request (of any trigger and status) for a version was made, or None."""
    return session.execute(
        select(func.max(RetrainingRequest.created_at)).where(RetrainingRequest.model_version_id == model_version_id)
    ).scalar_one()


def get_request(session: Session, *, request_id: int) -> dict[str, Any]:
    """One request as a dict with the :data:`REQUEST_COLUMNS` keys."""
    frame = _requests(session, [RetrainingRequest.id == request_id])
    if frame.empty:
        raise NotFoundError(f"no retraining request {request_id}; `driftscope retrain status` lists them")
    return frame.iloc[:1].to_dict("records", into=dict)[0]


def list_requests(session: Session, *, model_version_id: int | None = None) -> pd.DataFrame:
    """Requests, newest first, with the :data:`REQUEST_COLUMNS`."""
    filters = [] if model_version_id is None else [RetrainingRequest.model_version_id == model_version_id]
    return _requests(session, filters)


def _requests(session: Session, filters: list[Any]) -> pd.DataFrame:
    r = RetrainingRequest
    rows = session.execute(
        select(
            r.id, Model.name, ModelVersion.version, r.model_version_id, r.trigger, r.reason, r.requested_by,
            r.status, r.idempotency_key, r.alert_id, r.created_at, r.updated_at, r.updated_by, r.note, r.evidence,
        )
        .join(ModelVersion, ModelVersion.id == r.model_version_id)
        .join(Model, Model.id == ModelVersion.model_id)
        .where(*filters)
        .order_by(r.created_at.desc(), r.id.desc())
    ).all()
    frame = pd.DataFrame(rows, columns=REQUEST_COLUMNS)
    for column in ("created_at", "updated_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def _active_alerts(session: Session, model_version_id: int) -> list[dict[str, Any]]:
    alerts = list_alerts(session, status="active", model_version_id=model_version_id)
    keep = ["id", "rule", "kind", "severity", "title", "fire_count", "window_start", "window_end", "evidence"]
    return alerts[keep].to_dict("records", into=dict)


def _get(session: Session, request_id: int) -> RetrainingRequest:
    row = session.get(RetrainingRequest, request_id, with_for_update=True)
    if row is None:
        raise NotFoundError(f"no retraining request {request_id}; `driftscope retrain status` lists them")
    return row
