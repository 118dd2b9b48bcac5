"""Monitor runs and their results as long rows: drift per (run, feature), metrics per (run, metric).

A window computed twice leaves one set of results: :func:`start_run` replaces an earlier run of
the same (monitor, version, window) together with its results (ON DELETE CASCADE).

Every finished run enters the alert rules' outbox (``evaluated_at`` is NULL) in the transaction
that stores it; :func:`pending_runs` lists the outbox and :func:`mark_evaluated` empties it in the
transaction that applies the rules, so a crash between storing and judging loses nothing.

``MonitorRun.summary`` keys by monitor kind (the alert rules and the dashboard read them):

* data_drift: ``dataset_drift`` (bool), ``drifted_share`` (float), ``n_drifted``, ``n_features``,
  ``drift_share`` (the configured threshold), ``prediction_drift`` (bool or None)
* performance: ``label_coverage`` (float in [0, 1]), ``verdict`` (``ok`` | ``degraded`` |
  ``insufficient_labels``)
* concept_drift: ``concept_drift`` (bool), ``detectors_fired`` (list of names),
  ``label_coverage`` (float)
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from driftscope.redact import scrub
from driftscope.storage.clock import db_now
from driftscope.storage.db import is_postgres
from driftscope.storage.models import (
    ArchiveSegment,
    Base,
    ColumnProfileRow,
    DetectorEvent,
    DriftResult,
    GroundTruth,
    LabelProfileRow,
    MetricValue,
    MonitorDefinition,
    MonitorRun,
    Outcome,
    Prediction,
    ProfileDay,
)

RUN_STATUSES = ("running", "succeeded", "failed")


@dataclass(frozen=True)
class RunInfo:
    """A monitor run as stored."""

    id: int
    monitor_id: int
    monitor: str
    kind: str
    model_version_id: int
    window_start: datetime
    window_end: datetime
    status: str
    n_rows: int
    n_reference: int
    n_labels: int
    summary: dict[str, Any] = field(default_factory=dict)
    duration_s: float | None = None
    error: str | None = None


def start_run(
    session: Session, *, monitor_id: int, model_version_id: int, window_start: datetime, window_end: datetime,
    read_at: datetime | None = None,
) -> int:
    """Create a ``running`` run for the window, replacing an earlier run of the same window.

    ``read_at`` is the store's clock (:func:`driftscope.storage.clock.db_now`) taken just before
    the run read its inputs: the stale checks (:func:`runs_with_new_labels` and its siblings)
    compare late evidence with it, so evidence landing while the run computed marks the window.
    Default: the store's clock now (results computed from nothing read from the store).
    """
    session.execute(
        delete(MonitorRun).where(
            MonitorRun.monitor_id == monitor_id,
            MonitorRun.model_version_id == model_version_id,
            MonitorRun.window_start == window_start,
            MonitorRun.window_end == window_end,
        )
    )
    run = MonitorRun(
        monitor_id=monitor_id, model_version_id=model_version_id, window_start=window_start,
        window_end=window_end, status="running",
        read_at=read_at or db_now(session),
    )
    session.add(run)
    session.flush()
    return run.id


def finish_run(
    session: Session,
    *,
    run_id: int,
    status: str,
    n_rows: int = 0,
    n_reference: int = 0,
    n_labels: int = 0,
    summary: dict[str, Any] | None = None,
    duration_s: float | None = None,
    error: str | None = None,
) -> None:
    """Record a run's outcome (``succeeded`` or ``failed``) and its counts."""
    if status not in RUN_STATUSES:
        raise ValueError(f"run status must be one of {RUN_STATUSES}, got {status!r}")
    run = session.get(MonitorRun, run_id)
    if run is None:
        raise LookupError(f"no monitor run {run_id}")
    run.status, run.n_rows, run.n_reference, run.n_labels = status, n_rows, n_reference, n_labels
    run.summary = summary or {}
    run.duration_s, run.error = duration_s, scrub(error)
    run.finished_at = datetime.now(UTC)
    run.evaluated_at = None
    session.flush()


def pending_runs(
    session: Session,
    *,
    until: datetime | None = None,
    monitor_id: int | None = None,
    model_version_id: int | None = None,
    limit: int = 100_000,
) -> list[RunInfo]:
    """Finished runs the alert rules have not judged yet (window ending at or before ``until``), oldest first."""
    filters = [MonitorRun.evaluated_at.is_(None), MonitorRun.status != "running"]
    if until is not None:
        filters.append(MonitorRun.window_end <= until)
    if monitor_id is not None:
        filters.append(MonitorRun.monitor_id == monitor_id)
    if model_version_id is not None:
        filters.append(MonitorRun.model_version_id == model_version_id)
    return _runs(session, select_filter=filters, limit=limit)[::-1]


def claim_runs(session: Session, *, run_ids: list[int], now: datetime) -> set[int]:
    """Take runs out of the rules' outbox; return the ids this call took (not taken by another caller).

    The conditional UPDATE locks the rows until the caller's transaction ends, so two processes
    draining the outbox at once judge each run once. Flushes.
    """
    claimed: set[int] = set()
    for start in range(0, len(run_ids), 500):
        chunk = run_ids[start:start + 500]
        result = session.execute(
            update(MonitorRun)
            .where(MonitorRun.id.in_(chunk), MonitorRun.evaluated_at.is_(None))
            .values(evaluated_at=now)
            .returning(MonitorRun.id)
        )
        claimed.update(result.scalars())
    session.flush()
    return claimed


def add_drift_results(session: Session, *, run_id: int, rows: list[dict[str, Any]]) -> None:
    """Store per-feature drift rows (keys: the :class:`~storage.models.DriftResult` columns but id/run_id)."""
    if rows:
        session.execute(DriftResult.__table__.insert(), [{**r, "run_id": run_id} for r in rows])


def add_metric_values(session: Session, *, run_id: int, rows: list[dict[str, Any]]) -> None:
    """Store metric rows (keys: the :class:`~storage.models.MetricValue` columns but id/run_id)."""
    if rows:
        session.execute(MetricValue.__table__.insert(), [{**r, "run_id": run_id} for r in rows])


def add_detector_events(session: Session, *, run_id: int, rows: list[dict[str, Any]]) -> None:
    """Store change points (keys: ``detector``, ``detected_at``, ``details``)."""
    if rows:
        session.execute(DetectorEvent.__table__.insert(), [{**r, "run_id": run_id} for r in rows])


def get_run(session: Session, run_id: int) -> RunInfo:
    """One run by id."""
    rows = _runs(session, select_filter=[MonitorRun.id == run_id], limit=1)
    if not rows:
        raise LookupError(f"no monitor run {run_id}")
    return rows[0]


def list_runs(
    session: Session,
    *,
    model_version_id: int | None = None,
    monitor_id: int | None = None,
    since: datetime | None = None,
    limit: int = 500,
) -> list[RunInfo]:
    """Runs, newest window first."""
    filters = []
    if model_version_id is not None:
        filters.append(MonitorRun.model_version_id == model_version_id)
    if monitor_id is not None:
        filters.append(MonitorRun.monitor_id == monitor_id)
    if since is not None:
        filters.append(MonitorRun.window_end >= since)
    return _runs(session, select_filter=filters, limit=limit)


def _runs(session: Session, *, select_filter: list[Any], limit: int) -> list[RunInfo]:
    query = (
        select(MonitorRun, MonitorDefinition.name, MonitorDefinition.kind)
        .join(MonitorDefinition, MonitorDefinition.id == MonitorRun.monitor_id)
        .where(*select_filter)
        .order_by(MonitorRun.window_end.desc(), MonitorRun.id.desc())
        .limit(limit)
    )
    return [
        RunInfo(
            id=r.id, monitor_id=r.monitor_id, monitor=name, kind=kind, model_version_id=r.model_version_id,
            window_start=r.window_start, window_end=r.window_end, status=r.status, n_rows=r.n_rows,
            n_reference=r.n_reference, n_labels=r.n_labels, summary=r.summary or {},
            duration_s=r.duration_s, error=r.error,
        )
        for r, name, kind in session.execute(query).all()
    ]


def drift_results(session: Session, *, run_id: int) -> pd.DataFrame:
    """Per-feature drift rows of one run (all :class:`~storage.models.DriftResult` columns)."""
    return _frame(session, select(DriftResult).where(DriftResult.run_id == run_id), DriftResult)


def metric_values(session: Session, *, run_id: int) -> pd.DataFrame:
    """Metric rows of one run (all :class:`~storage.models.MetricValue` columns)."""
    return _frame(session, select(MetricValue).where(MetricValue.run_id == run_id), MetricValue)


def detector_events(session: Session, *, run_id: int) -> pd.DataFrame:
    """Change points of one run."""
    return _frame(session, select(DetectorEvent).where(DetectorEvent.run_id == run_id), DetectorEvent)


def count_runs(session: Session, *, monitor_id: int | None = None) -> int:
    """Number of stored runs (of one monitor, or all)."""
    query = select(func.count()).select_from(MonitorRun)
    if monitor_id is not None:
        query = query.where(MonitorRun.monitor_id == monitor_id)
    return session.execute(query).scalar_one()


def _frame(session: Session, query: Any, model: type[Base]) -> pd.DataFrame:
    columns = [c.key for c in model.__table__.columns]
    rows = session.execute(query.with_only_columns(*model.__table__.columns)).all()
    return pd.DataFrame(rows, columns=columns)


def runs_with_new_labels(
    session: Session, *, monitor_id: int, model_id: int, model_version_id: int, since: datetime, before: datetime
) -> list[RunInfo]:
    """Finished runs with ``since <= window_end < before`` whose window's labels changed after the run.

    A window's labels changed when the number of labels joined to its stored predictions is not
    zero and differs from the run's ``n_labels`` (labels arrived late) or a label was written at or
    after the run read its inputs (``ground_truth.updated_at >= monitor_runs.read_at``; see
    :func:`runs_with_new_outcomes` for why ``>=``). A window without stored
    predictions (a lake source's: its labels came from label profiles) is never stale by count; a
    rewritten partition marks it (:func:`runs_with_new_profiles`). Oldest window first.
    """
    n_labels_now = _labels_in_run_window(model_id, func.count(GroundTruth.id)).scalar_subquery()
    labels = _labels_in_run_window(model_id, GroundTruth.id)
    updated_after = labels.where(_at_or_after_read(session, GroundTruth.updated_at)).exists()
    changed = or_(and_(n_labels_now != MonitorRun.n_labels, n_labels_now > 0), updated_after)
    return _stale_runs(session, monitor_id=monitor_id, model_version_id=model_version_id, since=since, before=before,
                       changed=changed)


def runs_with_new_outcomes(
    session: Session, *, monitor_id: int, model_id: int, model_version_id: int, since: datetime, before: datetime
) -> list[RunInfo]:
    """Finished runs with ``since <= window_end < before`` whose window's predictions gained an outcome after the run.

    Outcomes arrive late and the first value of each (prediction, outcome) stays, so an outcome
    received at or after the run read its inputs (``outcomes.received_at >= monitor_runs.read_at``)
    is the only way a window's outcome figures change. ``read_at`` is taken before the reads, so
    evidence landing while the run computes is caught; ``>=`` because SQLite's clock stamps rows
    in whole seconds: one received in the second of the read counts, at the cost of at most one
    extra recompute, never a miss. Oldest window first.
    """
    arrived = (
        select(Outcome.id)
        .join(Prediction, (Prediction.prediction_id == Outcome.prediction_id)
              & (Prediction.model_version_id == MonitorRun.model_version_id))
        .where(Outcome.model_id == model_id, Prediction.ts >= MonitorRun.window_start,
               Prediction.ts < MonitorRun.window_end, _at_or_after_read(session, Outcome.received_at))
        .exists()
    )
    return _stale_runs(session, monitor_id=monitor_id, model_version_id=model_version_id, since=since, before=before,
                       changed=arrived)


def runs_with_new_profiles(
    session: Session, *, monitor_id: int, model_version_id: int, since: datetime, before: datetime,
    labelled: bool = False,
) -> list[RunInfo]:
    """Finished runs with ``since <= window_end < before`` over profiles only, with a profile changed after the run.

    A window the store holds no predictions for (a lake source's) is computed from its profiles, so
    it is stale when, at or after the run read its inputs (``monitor_runs.read_at``), a UTC day
    starting in it changed (``profile_days.changed_at``, moved by every column-profile write,
    deletions included: a lake partition recomputed, emptied or deleted, see
    :func:`driftscope.storage.profiles.store.replace_profiles`), or a column profile (and, with
    ``labelled``, a label profile) starting in it was written (``updated_at``: the buckets of
    windows shorter than a day, and label profiles updated by late labels, which mark no day).
    As for outcomes (:func:`runs_with_new_outcomes`), a partition written while the run computed,
    or in the second it read, counts. Windows with stored predictions are judged by their rows
    (:func:`runs_with_new_labels`). Oldest window first.
    """
    changed = or_(_days_changed_after_run(session), _profiles_written_after_run(session, ColumnProfileRow))
    if labelled:
        changed = or_(changed, _profiles_written_after_run(session, LabelProfileRow))
    rows = select(Prediction.ts).where(Prediction.model_version_id == MonitorRun.model_version_id,
                                       Prediction.ts >= MonitorRun.window_start, Prediction.ts < MonitorRun.window_end)
    return _stale_runs(session, monitor_id=monitor_id, model_version_id=model_version_id, since=since, before=before,
                       changed=and_(changed, ~rows.exists()))


def _days_changed_after_run(session: Session) -> Any:
    """EXISTS: a UTC day starting in the enclosing run's window whose profiles changed at or after its read."""
    return (
        select(ProfileDay.day)
        .where(ProfileDay.model_version_id == MonitorRun.model_version_id, ProfileDay.day >= MonitorRun.window_start,
               ProfileDay.day < MonitorRun.window_end, _at_or_after_read(session, ProfileDay.changed_at))
        .exists()
    )


def _profiles_written_after_run(session: Session, table: type[ColumnProfileRow] | type[LabelProfileRow]) -> Any:
    """EXISTS: a bucket of ``table`` starting in the enclosing run's window, written at or after its read."""
    return (
        select(table.bucket_start)
        .where(table.model_version_id == MonitorRun.model_version_id, table.bucket_start >= MonitorRun.window_start,
               table.bucket_start < MonitorRun.window_end, _at_or_after_read(session, table.updated_at))
        .exists()
    )


def _at_or_after_read(session: Session, stamp: Any) -> Any:
    """``stamp >= monitor_runs.read_at`` of the enclosing run, in whole seconds on SQLite.

    SQLite keeps timestamps as text in two shapes (``CURRENT_TIMESTAMP``'s whole seconds and
    SQLAlchemy's microseconds), which compare wrongly within one second; ``datetime()`` brings
    both to whole seconds, so evidence stamped in the second of the read counts (one extra
    recompute at most, never a miss).
    """
    if is_postgres(session):
        return stamp >= MonitorRun.read_at
    return func.datetime(stamp) >= func.datetime(MonitorRun.read_at)


def _stale_runs(session: Session, *, monitor_id: int, model_version_id: int, since: datetime, before: datetime,
                changed: Any) -> list[RunInfo]:
    """Finished runs of one monitor and version with ``since <= window_end < before`` matching ``changed``,
    oldest window first.

    Runs whose window reaches into an archived day are left out: ``changed`` compares with the store,
    which no longer holds that day's predictions, so every such run would look stale on every tick.
    Labels or outcomes that arrive after their predictions were archived therefore do not recompute
    a window (``driftscope monitor run --window-end`` recomputes it by hand).
    """
    stale = _runs(
        session,
        select_filter=[
            MonitorRun.monitor_id == monitor_id,
            MonitorRun.model_version_id == model_version_id,
            MonitorRun.status != "running",
            MonitorRun.window_end >= since,
            MonitorRun.window_end < before,
            changed,
        ],
        limit=10_000,
    )
    if not stale:
        return []
    first = min(r.window_start for r in stale)
    archived = archived_days(session, model_version_id=model_version_id, since=first - timedelta(days=1))
    return [r for r in stale[::-1] if not _overlaps(r, archived)]


def archived_days(session: Session, *, model_version_id: int, since: datetime) -> list[datetime]:
    """UTC days of the version from ``since`` on whose predictions are in the archive (not restored)."""
    return [d.replace(tzinfo=UTC) if d.tzinfo is None else d for d in session.execute(
        select(ArchiveSegment.day).distinct().where(
            ArchiveSegment.model_version_id == model_version_id, ArchiveSegment.kind == "predictions",
            ArchiveSegment.day >= since, ArchiveSegment.restored_at.is_(None))).scalars()]


def _overlaps(run: "RunInfo", days: list[datetime]) -> bool:
    """Whether ``run``'s window reaches into one of ``days`` (UTC midnights)."""
    start, end = (t.replace(tzinfo=UTC) if t.tzinfo is None else t for t in (run.window_start, run.window_end))
    return any(day < end and day + timedelta(days=1) > start for day in days)


def _labels_in_run_window(model_id: int, *columns: Any) -> Any:
    """SELECT ``columns`` over the labels of the predictions in the enclosing run's window (correlated)."""
    return (
        select(*columns)
        .select_from(GroundTruth)
        .join(
            Prediction,
            (Prediction.prediction_id == GroundTruth.prediction_id)
            & (Prediction.model_version_id == MonitorRun.model_version_id),
        )
        .where(
            GroundTruth.model_id == model_id,
            Prediction.ts >= MonitorRun.window_start,
            Prediction.ts < MonitorRun.window_end,
        )
    )
