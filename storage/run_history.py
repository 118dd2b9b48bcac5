"""Aggregated read queries behind the dashboard's Runs page: monitor runs, collector runs, quarantine.

Runs are listed newest first and capped by ``limit``; quarantine is counted per source in SQL.
Monitor runs follow the data's time range (window end in ``(start, end]``, as on the other pages);
collector runs and quarantined rows are operational and follow the wall clock (``since``, UTC).
"""

from datetime import datetime

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from driftscope.storage.models import CollectorRun, Model, ModelVersion, MonitorDefinition, MonitorRun, QuarantinedRow

MONITOR_RUN_COLUMNS = [
    "run_id", "monitor", "kind", "model", "version", "version_id", "window_start", "window_end", "status",
    "started_at", "finished_at", "duration_s", "n_rows", "n_reference", "n_labels", "error",
]
COLLECTOR_RUN_COLUMNS = [
    "run_id", "source", "status", "started_at", "finished_at", "duration_s", "rows_read", "rows_stored",
    "rows_duplicate", "rows_conflict", "rows_quarantined", "error",
]
QUARANTINE_COLUMNS = ["source", "records", "n_rows", "first_at", "last_at"]
SAMPLE_COLUMNS = ["created_at", "records", "location", "reason", "payload"]


def monitor_runs(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    model_version_id: int | None = None,
    limit: int = 500,
) -> pd.DataFrame:
    """Monitor runs whose window ends in ``(start, end]``, newest first, with model and version names."""
    query = (
        select(MonitorRun.id, MonitorDefinition.name, MonitorDefinition.kind, Model.name, ModelVersion.version,
               MonitorRun.model_version_id, MonitorRun.window_start, MonitorRun.window_end, MonitorRun.status,
               MonitorRun.started_at, MonitorRun.finished_at, MonitorRun.duration_s, MonitorRun.n_rows,
               MonitorRun.n_reference, MonitorRun.n_labels, MonitorRun.error)
        .join(MonitorDefinition, MonitorDefinition.id == MonitorRun.monitor_id)
        .join(ModelVersion, ModelVersion.id == MonitorRun.model_version_id)
        .join(Model, Model.id == ModelVersion.model_id)
        .where(MonitorRun.window_end > start, MonitorRun.window_end <= end)
        .order_by(MonitorRun.window_end.desc(), MonitorRun.id.desc())
        .limit(limit)
    )
    if model_version_id is not None:
        query = query.where(MonitorRun.model_version_id == model_version_id)
    return _timestamps(pd.DataFrame(session.execute(query).all(), columns=MONITOR_RUN_COLUMNS))


def collector_runs(session: Session, *, since: datetime, limit: int = 200) -> pd.DataFrame:
    """Collector runs started at or after ``since``, newest first; ``duration_s`` is NaN while running."""
    query = (
        select(CollectorRun.id, CollectorRun.source, CollectorRun.status, CollectorRun.started_at,
               CollectorRun.finished_at, CollectorRun.rows_read, CollectorRun.rows_stored,
               CollectorRun.rows_duplicate, CollectorRun.rows_conflict, CollectorRun.rows_quarantined,
               CollectorRun.error)
        .where(CollectorRun.started_at >= since)
        .order_by(CollectorRun.started_at.desc(), CollectorRun.id.desc())
        .limit(limit)
    )
    columns = [c for c in COLLECTOR_RUN_COLUMNS if c != "duration_s"]
    frame = _timestamps(pd.DataFrame(session.execute(query).all(), columns=columns))
    frame["duration_s"] = (frame["finished_at"] - frame["started_at"]).dt.total_seconds()
    return frame[COLLECTOR_RUN_COLUMNS]


def quarantine_counts(session: Session, *, since: datetime) -> pd.DataFrame:
    """Rows quarantined at or after ``since`` per source and record kind, most first."""
    query = (
        select(QuarantinedRow.source, QuarantinedRow.records, func.count(), func.min(QuarantinedRow.created_at),
               func.max(QuarantinedRow.created_at))
        .where(QuarantinedRow.created_at >= since)
        .group_by(QuarantinedRow.source, QuarantinedRow.records)
        .order_by(func.count().desc(), QuarantinedRow.source)
    )
    return _timestamps(pd.DataFrame(session.execute(query).all(), columns=QUARANTINE_COLUMNS))


def quarantine_sample(session: Session, *, source: str, limit: int = 50, max_chars: int = 500) -> pd.DataFrame:
    """The newest quarantined rows of one source: where they came from, why, and the payload (truncated)."""
    query = (
        select(QuarantinedRow.created_at, QuarantinedRow.records, QuarantinedRow.location, QuarantinedRow.reason,
               func.substr(QuarantinedRow.payload, 1, max_chars))
        .where(QuarantinedRow.source == source)
        .order_by(QuarantinedRow.created_at.desc(), QuarantinedRow.id.desc())
        .limit(limit)
    )
    return _timestamps(pd.DataFrame(session.execute(query).all(), columns=SAMPLE_COLUMNS))


def _timestamps(frame: pd.DataFrame) -> pd.DataFrame:
    for column in frame.columns:
        if column.endswith("_at") or column in ("window_start", "window_end"):
            frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame
