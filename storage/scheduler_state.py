"""Scheduler state shared across processes: the heartbeat row and job leases.

A lease gives one holder the right to run a job until ``expires_at``. Acquiring is one conditional
``UPDATE ... RETURNING`` (take an expired lease) followed, when no row exists yet, by ``INSERT ... ON
CONFLICT DO NOTHING RETURNING``; both are atomic on SQLite (one writer at a time) and PostgreSQL (the row is re-checked
after a concurrent writer commits), so two scheduler processes never both hold a job. Commit the
acquiring transaction before running the job, so the other processes see it.

A lease prevents overlap, not a second run of the same scheduled time: two schedulers share one job
store, both see the same slot, and the second runs it again once the first released the lease.
:func:`claim_slot` records each (job, scheduled time) once (primary key, ``ON CONFLICT DO
NOTHING``), so only the first runs it. Lease and claim times come from the database's clock
(:func:`driftscope.storage.clock.db_now`), never from the caller's, unless a test passes ``now``.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from driftscope.storage.clock import db_now
from driftscope.storage.db import is_postgres
from driftscope.storage.models import JobClaim, JobLease, SchedulerHeartbeat

CLAIMS_KEPT = timedelta(days=7)


@dataclass(frozen=True)
class HeartbeatInfo:
    """A scheduler instance's last beat: ``next_runs`` maps job id -> ISO time of its next run (UTC)."""

    instance: str
    started_at: datetime
    beat_at: datetime
    next_runs: dict[str, str]


@dataclass(frozen=True)
class LeaseInfo:
    """Who holds a job's lease and until when."""

    job: str
    holder: str
    acquired_at: datetime
    expires_at: datetime


def _insert(session: Session) -> Any:
    return pg_insert if is_postgres(session) else sqlite_insert


def beat(
    session: Session,
    *,
    instance: str,
    started_at: datetime,
    next_runs: dict[str, str],
    now: datetime | None = None,
) -> None:
    """Record that scheduler ``instance`` is alive and what it runs next (upsert). Flushes."""
    values = {"beat_at": now or db_now(session), "next_runs": next_runs, "started_at": started_at}
    stmt = _insert(session)(SchedulerHeartbeat).values(instance=instance, **values)
    session.execute(stmt.on_conflict_do_update(index_elements=["instance"], set_=values))


def latest_heartbeat(session: Session) -> HeartbeatInfo | None:
    """The most recent beat of any scheduler instance, or None when no scheduler has run."""
    beats = list_heartbeats(session)
    return beats[0] if beats else None


def list_heartbeats(session: Session) -> list[HeartbeatInfo]:
    """Every instance's last beat, newest first."""
    rows = session.execute(select(SchedulerHeartbeat).order_by(SchedulerHeartbeat.beat_at.desc())).scalars()
    return [HeartbeatInfo(r.instance, r.started_at, r.beat_at, dict(r.next_runs or {})) for r in rows]


def acquire_lease(
    session: Session, *, job: str, holder: str, ttl: timedelta, now: datetime | None = None
) -> bool:
    """Take the lease on ``job`` for ``ttl`` unless another holder has an unexpired one. Flushes.

    Returns True when ``holder`` now holds the lease.
    """
    now = now or db_now(session)
    values = {"holder": holder, "acquired_at": now, "expires_at": now + ttl}
    leases = JobLease.__table__
    taken = session.execute(
        update(leases).where(leases.c.job == job, leases.c.expires_at <= now).values(**values).returning(leases.c.job)
    ).first()
    if taken is not None:
        return True
    inserted = session.execute(
        _insert(session)(leases).values(job=job, **values).on_conflict_do_nothing(index_elements=["job"])
        .returning(leases.c.job)
    ).first()
    return inserted is not None


def renew_lease(
    session: Session, *, job: str, holder: str, ttl: timedelta, now: datetime | None = None
) -> bool:
    """Extend ``holder``'s lease on ``job`` to ``now + ttl``; False when it no longer holds it."""
    now = now or db_now(session)
    leases = JobLease.__table__
    renewed = session.execute(
        update(leases).where(leases.c.job == job, leases.c.holder == holder).values(expires_at=now + ttl)
        .returning(leases.c.job)
    ).first()
    return renewed is not None


def release_lease(session: Session, *, job: str, holder: str) -> None:
    """Give up ``holder``'s lease on ``job`` (nothing happens if it holds none)."""
    session.execute(delete(JobLease.__table__).where(JobLease.job == job, JobLease.holder == holder))


def get_lease(session: Session, *, job: str) -> LeaseInfo | None:
    """The lease row of ``job`` (possibly expired), or None."""
    row = session.get(JobLease, job, populate_existing=True)
    return None if row is None else LeaseInfo(row.job, row.holder, row.acquired_at, row.expires_at)


def claim_slot(session: Session, *, job: str, scheduled_at: datetime, holder: str) -> str | None:
    """Claim the run of ``job`` scheduled at ``scheduled_at``; None when claimed, else who had it. Flushes.

    Claims older than :data:`CLAIMS_KEPT` before this slot are deleted on the way (the job's own rows,
    through the primary key), so the table stays small.
    """
    scheduled_at = scheduled_at.astimezone(UTC)
    session.execute(delete(JobClaim).where(JobClaim.job == job, JobClaim.scheduled_at < scheduled_at - CLAIMS_KEPT))
    inserted = session.execute(
        _insert(session)(JobClaim).values(job=job, scheduled_at=scheduled_at, holder=holder, claimed_at=db_now(session))
        .on_conflict_do_nothing(index_elements=["job", "scheduled_at"]).returning(JobClaim.job)
    ).first()
    if inserted is not None:
        return None
    row = session.get(JobClaim, (job, scheduled_at), populate_existing=True)
    return row.holder if row is not None else "another scheduler"
