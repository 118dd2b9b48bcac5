"""Which stored hourly profiles a backfill may delete and rebuild from the store's own rows.

A backfill (``driftscope db backfill-profiles``, a migration) recomputes a version's hourly
profiles from the prediction chunks still in the store. Two kinds of bucket cannot be rebuilt so
and are kept: a lake's day buckets (their rows never entered the store) and the hours of days
that retention archived (their rows are in Parquet files now; the profiles written while they
were stored are the only summary the monitors' profile path has of them).
"""

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from driftscope.storage.archive import day_start
from driftscope.storage.db import rowcount
from driftscope.storage.models import ArchiveSegment
from driftscope.storage.profiles.compute import HOUR

_DELETE_BATCH = 500
"""Bucket starts per ``DELETE ... IN (...)`` statement (SQLite limits the bound parameters)."""


def archived_days(session: Session, *, model_version_id: int) -> set[datetime]:
    """UTC day starts of the version whose predictions are archived and not restored."""
    return set(session.execute(select(ArchiveSegment.day).where(
        ArchiveSegment.model_version_id == model_version_id, ArchiveSegment.kind == "predictions",
        ArchiveSegment.restored_at.is_(None))).scalars())


def delete_rebuildable_hours(session: Session, table: Any, *, model_version_id: int) -> int:
    """Delete the version's hourly rows of ``table`` (a profile model) outside archived days; return how many.

    ``table`` has ``model_version_id``, ``bucket_start`` and ``bucket_seconds`` columns
    (:class:`~driftscope.storage.models.ColumnProfileRow`, :class:`~driftscope.storage.models.LabelProfileRow`).
    """
    hourly = (table.model_version_id == model_version_id, table.bucket_seconds == HOUR)
    kept = archived_days(session, model_version_id=model_version_id)
    if not kept:
        return rowcount(session.execute(delete(table).where(*hourly)))
    starts = session.execute(select(table.bucket_start).where(*hourly).distinct()).scalars().all()
    doomed = [s for s in starts if day_start(s) not in kept]
    deleted = 0
    for lo in range(0, len(doomed), _DELETE_BATCH):
        deleted += rowcount(session.execute(delete(table).where(
            *hourly, table.bucket_start.in_(doomed[lo:lo + _DELETE_BATCH]))))
    return deleted
