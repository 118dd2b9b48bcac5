"""Collector bookkeeping: watermarks, the files a source has taken, and collector runs.

A source's position (a watermark or cursor, or how far each file was read) is advanced in the same
transaction as the rows it covers, by compare-and-set: the caller says which position it started
from, and a position moved meanwhile by another process raises :class:`ConcurrentCollectError`
instead of silently overwriting it. Rows are locked while compared (``FOR UPDATE`` on PostgreSQL;
SQLite's write lock serialises writers already).

Every run of a source is a :class:`~storage.models.CollectorRun` whose counters are incremented
with each batch, so they stay true to what was committed even when the process is killed.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from driftscope.errors import NotFoundError, StorageError
from driftscope.redact import scrub
from driftscope.storage.db import is_postgres
from driftscope.storage.models import CollectedFile, CollectorRun, CollectorState

RUN_STATUSES = ("running", "succeeded", "failed", "interrupted")


class ConcurrentCollectError(StorageError):
    """Another process advanced the same source while this one was collecting it."""


@dataclass(frozen=True)
class FileMark:
    """How far a files source has read one file.

    ``offset`` is in bytes for CSV and JSON Lines (the end of the last complete line taken) and in
    rows for Parquet; ``rows_read`` counts the lines consumed (header and blank lines included),
    so the next line's number is ``rows_read + 1``. The file is fully taken when ``offset`` equals
    ``size`` (text) or the row count (Parquet).
    """

    path: str
    size: int
    fingerprint: str
    offset: int
    rows_read: int


@dataclass(frozen=True)
class CollectorRunInfo:
    """One run of one source, with the identity ``rows_read = stored + duplicate + conflict + quarantined``."""

    id: int
    source: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    rows_read: int
    rows_stored: int
    rows_duplicate: int
    rows_quarantined: int
    error: str | None
    rows_conflict: int = 0


def get_watermark(session: Session, *, source: str) -> str | None:
    """The committed watermark (or cursor) of ``source``, or None before its first batch."""
    return session.execute(select(CollectorState.watermark).where(CollectorState.source == source)).scalar()


def advance_watermark(session: Session, *, source: str, expected: str | None, watermark: str) -> None:
    """Set the watermark of ``source`` to ``watermark`` if it is still ``expected``. Flushes, never commits.

    Raises
    ------
    ConcurrentCollectError
        The stored watermark is not ``expected``: another process collected the source meanwhile.
    """
    dialect_insert = pg_insert if is_postgres(session) else sqlite_insert
    session.execute(dialect_insert(CollectorState).values(source=source, watermark=None).on_conflict_do_nothing())
    current = session.execute(
        select(CollectorState.watermark).where(CollectorState.source == source).with_for_update()
    ).scalar_one()
    if current != expected:
        raise ConcurrentCollectError(
            f"source {source!r}: its watermark moved from {expected!r} to {current!r} while this run was "
            "collecting it; another collector is running the same source. Run one collector per source "
            "(the scheduler or `driftscope collect`, not both at once); the rows stored so far are safe"
        )
    session.execute(
        update(CollectorState).where(CollectorState.source == source)
        .values(watermark=watermark, updated_at=func.current_timestamp())
    )


def file_marks(session: Session, *, source: str) -> dict[str, FileMark]:
    """Every file ``source`` has taken from, keyed by path."""
    rows = session.execute(select(CollectedFile).where(CollectedFile.source == source)).scalars()
    return {r.path: FileMark(r.path, r.size, r.fingerprint, r.offset, r.rows_read) for r in rows}


def advance_file(session: Session, *, source: str, expected: FileMark | None, mark: FileMark) -> None:
    """Record ``mark`` for its file if the stored mark is still ``expected``. Flushes, never commits.

    Raises
    ------
    ConcurrentCollectError
        The stored mark differs from ``expected`` (another process read the same file meanwhile).
    """
    row, current = _locked_mark(session, source, mark.path)
    if current != expected:
        raise ConcurrentCollectError(
            f"source {source!r}: {mark.path} was read by another process while this run was reading it "
            f"(expected {expected}, found {current}); run one collector per source at a time"
        )
    if row is None:
        session.add(CollectedFile(source=source, path=mark.path, size=mark.size, fingerprint=mark.fingerprint,
                                  offset=mark.offset, rows_read=mark.rows_read))
    else:
        row.size, row.fingerprint, row.offset, row.rows_read = mark.size, mark.fingerprint, mark.offset, mark.rows_read
        row.updated_at = func.current_timestamp()
    session.flush()


def forget_file(session: Session, *, source: str, expected: FileMark) -> None:
    """Drop the mark of a file that is gone if the stored mark is still ``expected``. Flushes, never commits.

    A file (a lake partition) that appears again under the same path is then read as new.

    Raises
    ------
    ConcurrentCollectError
        The stored mark differs from ``expected`` (another process moved it meanwhile).
    """
    row, current = _locked_mark(session, source, expected.path)
    if current != expected:
        raise ConcurrentCollectError(
            f"source {source!r}: the mark of {expected.path} was moved by another process while this run "
            f"found it gone (expected {expected}, found {current}); run one collector per source at a time"
        )
    session.delete(row)
    session.flush()


def _locked_mark(session: Session, source: str, path: str) -> tuple[CollectedFile | None, FileMark | None]:
    """The stored mark row of ``path`` (locked until the transaction ends) and the mark it holds."""
    row = session.execute(
        select(CollectedFile).where(CollectedFile.source == source, CollectedFile.path == path).with_for_update()
    ).scalar_one_or_none()
    return row, None if row is None else FileMark(row.path, row.size, row.fingerprint, row.offset, row.rows_read)


def start_collector_run(session: Session, *, source: str, interrupt_stale: bool = True) -> int:
    """Open a ``running`` run of ``source``.

    With ``interrupt_stale`` (configured sources, collected by one process at a time), runs of the
    source still ``running`` were left by a killed process and become ``interrupted``. The Python
    API passes False: serving processes may log to the same source concurrently.
    """
    if interrupt_stale:
        session.execute(
            update(CollectorRun).where(CollectorRun.source == source, CollectorRun.status == "running")
            .values(status="interrupted", finished_at=func.current_timestamp(),
                    error="the process stopped before the run finished (killed or crashed); "
                          "the counters cover the batches it committed")
        )
    run = CollectorRun(source=source, status="running")
    session.add(run)
    session.flush()
    return run.id


def add_run_counts(
    session: Session, *, run_id: int, read: int, stored: int, duplicate: int, quarantined: int, conflict: int = 0
) -> None:
    """Add one batch's counts to a run (in the batch's own transaction)."""
    session.execute(
        update(CollectorRun).where(CollectorRun.id == run_id).values(
            rows_read=CollectorRun.rows_read + read,
            rows_stored=CollectorRun.rows_stored + stored,
            rows_duplicate=CollectorRun.rows_duplicate + duplicate,
            rows_quarantined=CollectorRun.rows_quarantined + quarantined,
            rows_conflict=CollectorRun.rows_conflict + conflict,
        )
    )


def finish_collector_run(session: Session, *, run_id: int, status: str, error: str | None = None) -> CollectorRunInfo:
    """Close a run as ``succeeded`` or ``failed`` and return it with its final counts."""
    if status not in RUN_STATUSES:
        raise ValueError(f"collector run status must be one of {RUN_STATUSES}, got {status!r}")
    run = session.get(CollectorRun, run_id, populate_existing=True)
    if run is None:
        raise NotFoundError(f"no collector run with id {run_id}")
    run.status, run.error, run.finished_at = status, scrub(error), datetime.now(UTC)
    session.flush()
    return _info(run)


def list_collector_runs(session: Session, *, source: str | None = None, limit: int = 50) -> list[CollectorRunInfo]:
    """Collector runs, newest first (of one source, or all)."""
    query = select(CollectorRun).order_by(CollectorRun.id.desc()).limit(limit)
    if source is not None:
        query = query.where(CollectorRun.source == source)
    return [_info(r) for r in session.execute(query).scalars()]


def _info(run: CollectorRun) -> CollectorRunInfo:
    return CollectorRunInfo(
        id=run.id, source=run.source, status=run.status, started_at=run.started_at, finished_at=run.finished_at,
        rows_read=run.rows_read, rows_stored=run.rows_stored, rows_duplicate=run.rows_duplicate,
        rows_quarantined=run.rows_quarantined, error=run.error, rows_conflict=run.rows_conflict,
    )
