"""Aggregated read queries behind the dashboard's Overview page, and the dashboard's store session.

Every function returns a small aggregated frame (one row per model version here); none reads
prediction rows into Python. Database failures inside :func:`store_session` become
:class:`~driftscope.errors.StorageError` with a message that says what was being read and how to fix
it, so the dashboard can show it instead of a traceback.

Conventions: time ranges are half-open ``[start, end)`` in timezone-aware UTC; a version's *health*
comes from its unresolved alerts (``open`` or ``acknowledged``): ``critical`` if any is critical,
``warning`` if any is a warning, else ``ok``.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import pandas as pd
from sqlalchemy import Engine, and_, case, func, select
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session

from driftscope.errors import StorageError
from driftscope.storage.db import read_transaction, transaction
from driftscope.storage.label_coverage import label_coverage
from driftscope.storage.migrations import require_current
from driftscope.storage.models import (
    Alert,
    AlertEvent,
    CollectorRun,
    DeliveryAttempt,
    ExperimentLook,
    GroundTruth,
    LabelRevision,
    MetricValue,
    Model,
    ModelVersion,
    MonitorDefinition,
    MonitorRun,
    PredictionVolume,
    ProfileDay,
    RetrainingRequest,
)

UNRESOLVED = ("open", "acknowledged")
OVERVIEW_COLUMNS = [
    "model", "version", "version_id", "model_id", "task", "status", "health", "open_alerts", "predictions",
    "last_data_at", "labelled", "label_coverage", "label_coverage_exact", "last_run_at", "last_run_monitor",
    "last_run_status", "metric", "metric_value", "metric_reference", "metric_delta",
]


@contextmanager
def store_session(engine: Engine, *, doing: str, read_only: bool = False) -> Iterator[Session]:
    """A session in a transaction whose database errors are raised as :class:`StorageError`.

    Parameters
    ----------
    engine
        The store.
    doing
        What the caller is doing, in words (``"reading the overview"``); it starts the message.
    read_only
        Read without taking SQLite's writer lock (see :func:`driftscope.storage.db.read_transaction`).
    """
    try:
        with (read_transaction if read_only else transaction)(engine) as session:
            yield session
    except SQLAlchemyError as exc:
        raise StorageError(_message(engine, doing, exc)) from exc


def check_store(engine: Engine) -> None:
    """Raise :class:`StorageError` unless the store is reachable and migrated to the newest revision."""
    try:
        require_current(engine)
    except SQLAlchemyError as exc:
        raise StorageError(_message(engine, "opening the store", exc)) from exc


def _message(engine: Engine, doing: str, exc: SQLAlchemyError) -> str:
    reason = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    first_line = str(reason).strip().splitlines()[0] if str(reason).strip() else type(reason).__name__
    where = engine.url.render_as_string(hide_password=True)
    return (
        f"{doing} failed: {first_line} (store: {where}). Check that database_url points at a running, "
        "reachable database, and run `driftscope db upgrade` if its tables are missing."
    )


def store_stamp(session: Session) -> str:
    """A short text that changes whenever results, alerts, runs, requests, labels, volumes or profiles change.

    The dashboard keys its caches on it, so new results appear on the next page load without a
    restart, whichever process wrote them (a collector run, ``db backfill-profiles``, a lake collect
    elsewhere). It reads only maxima of primary keys and small tables (no scan of prediction rows);
    profiles count through their day revisions (:class:`~driftscope.storage.models.ProfileDay`, one
    row per version and day, whose sum grows with every profile write).
    """
    parts = [
        select(func.count(MonitorRun.id), func.max(MonitorRun.id), func.max(MonitorRun.finished_at)),
        select(func.max(Alert.id), func.max(Alert.last_seen), func.max(Alert.resolved_at)),
        select(func.max(AlertEvent.id)),
        select(func.max(DeliveryAttempt.id)),
        select(func.max(CollectorRun.id), func.max(CollectorRun.finished_at)),
        select(func.max(RetrainingRequest.id), func.max(RetrainingRequest.updated_at)),
        select(func.max(GroundTruth.id)),
        select(func.max(LabelRevision.id)),
        select(func.count(), func.sum(PredictionVolume.n_rows)).select_from(PredictionVolume),
        select(func.count(ModelVersion.id), func.max(ModelVersion.id)),
        select(func.max(ExperimentLook.id), func.max(ExperimentLook.computed_at)),
        select(func.count(), func.sum(ProfileDay.revision)).select_from(ProfileDay),
    ]
    values = [value for query in parts for value in session.execute(query).one()]
    return "|".join("" if v is None else str(v) for v in values)


def data_extent(session: Session) -> tuple[datetime | None, datetime | None]:
    """First and last hour of stored data: prediction volume hours and monitor windows (UTC)."""
    volume = session.execute(select(func.min(PredictionVolume.hour), func.max(PredictionVolume.hour))).one()
    runs = session.execute(select(func.min(MonitorRun.window_start), func.max(MonitorRun.window_end))).one()
    firsts = [t for t in (volume[0], runs[0]) if t is not None]
    lasts = [t for t in (volume[1], runs[1]) if t is not None]
    return (min(firsts) if firsts else None, max(lasts) if lasts else None)


def overview(session: Session, *, start: datetime, end: datetime) -> pd.DataFrame:
    """One row per model version with health, volume, label coverage, last run and headline metric.

    Parameters
    ----------
    start, end
        The range ``[start, end)`` (UTC) over which predictions and label coverage are counted.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`OVERVIEW_COLUMNS`. ``label_coverage`` is labelled / stored predictions in the
        range (NaN without predictions), estimated on large ranges (``label_coverage_exact`` False,
        see :mod:`driftscope.storage.label_coverage`); ``metric`` is the first metric of the newest performance
        run, ``metric_value`` its newest measured value and ``metric_delta`` that value minus the
        reference value; ``last_data_at`` is the start of the newest hour with predictions.
    """
    versions = pd.DataFrame(
        session.execute(
            select(
                Model.name, ModelVersion.version, ModelVersion.id, Model.id, Model.task, ModelVersion.status
            ).join(Model, Model.id == ModelVersion.model_id).order_by(Model.name, ModelVersion.id)
        ).all(),
        columns=["model", "version", "version_id", "model_id", "task", "status"],
    )
    if versions.empty:
        return pd.DataFrame(columns=OVERVIEW_COLUMNS)
    volume = _volume(session, start, end)
    in_range = dict(zip(volume["version_id"].astype(int), volume["predictions"].astype(int), strict=True))
    coverage = label_coverage(session, predictions=in_range, start=start, end=end)
    frame = versions.merge(_alert_health(session), on="version_id", how="left")
    for part in (volume, coverage, _last_runs(session), _headline_metrics(session)):
        frame = frame.merge(part, on="version_id", how="left")
    frame["health"] = frame["health"].fillna("ok")
    for column in ("open_alerts", "predictions", "labelled"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").fillna(0).astype("int64")
    frame["label_coverage"] = pd.to_numeric(frame["label_coverage"], errors="coerce")
    frame["label_coverage_exact"] = ~frame["label_coverage_exact"].eq(False)
    frame["metric_delta"] = frame["metric_value"] - frame["metric_reference"]
    return frame[OVERVIEW_COLUMNS]


def _alert_health(session: Session) -> pd.DataFrame:
    critical = func.sum(case((Alert.severity == "critical", 1), else_=0))
    warning = func.sum(case((Alert.severity == "warning", 1), else_=0))
    rows = session.execute(
        select(Alert.model_version_id, func.count(), critical, warning)
        .where(Alert.status.in_(UNRESOLVED))
        .group_by(Alert.model_version_id)
    ).all()
    frame = pd.DataFrame(rows, columns=["version_id", "open_alerts", "critical", "warning"])
    frame["health"] = "ok"
    frame.loc[frame["warning"] > 0, "health"] = "warning"
    frame.loc[frame["critical"] > 0, "health"] = "critical"
    return frame[["version_id", "open_alerts", "health"]]


def _volume(session: Session, start: datetime, end: datetime) -> pd.DataFrame:
    in_range = func.sum(
        case((and_(PredictionVolume.hour >= start, PredictionVolume.hour < end), PredictionVolume.n_rows), else_=0)
    )
    rows = session.execute(
        select(PredictionVolume.model_version_id, in_range, func.max(PredictionVolume.hour)).group_by(
            PredictionVolume.model_version_id
        )
    ).all()
    frame = pd.DataFrame(rows, columns=["version_id", "predictions", "last_data_at"])
    frame["last_data_at"] = pd.to_datetime(frame["last_data_at"], utc=True)
    return frame


def _last_runs(session: Session) -> pd.DataFrame:
    latest = (
        select(MonitorRun.model_version_id.label("version_id"), func.max(MonitorRun.id).label("run_id"))
        .group_by(MonitorRun.model_version_id)
        .subquery()
    )
    rows = session.execute(
        select(latest.c.version_id, MonitorRun.finished_at, MonitorRun.started_at, MonitorDefinition.name,
               MonitorRun.status)
        .join(MonitorRun, MonitorRun.id == latest.c.run_id)
        .join(MonitorDefinition, MonitorDefinition.id == MonitorRun.monitor_id)
    ).all()
    frame = pd.DataFrame(rows, columns=["version_id", "finished_at", "started_at", "last_run_monitor",
                                        "last_run_status"])
    frame["last_run_at"] = pd.to_datetime(frame["finished_at"].fillna(frame["started_at"]), utc=True)
    return frame[["version_id", "last_run_at", "last_run_monitor", "last_run_status"]]


def _headline_metrics(session: Session) -> pd.DataFrame:
    """Per version: the first metric of its newest performance run, with that metric's newest value.

    Windows without a value (too few labels) are skipped, so the figure is the newest one measured.
    """
    performance = (MonitorDefinition.kind == "performance", MonitorRun.status == "succeeded")
    latest = (
        select(MonitorRun.model_version_id.label("version_id"), func.max(MonitorRun.id).label("run_id"))
        .join(MonitorDefinition, MonitorDefinition.id == MonitorRun.monitor_id)
        .where(*performance)
        .group_by(MonitorRun.model_version_id)
        .subquery()
    )
    names = pd.DataFrame(session.execute(
        select(latest.c.version_id, MetricValue.metric)
        .join(MetricValue, MetricValue.run_id == latest.c.run_id)
        .order_by(latest.c.version_id, MetricValue.id)
    ).all(), columns=["version_id", "metric"]).drop_duplicates("version_id", keep="first")
    newest = func.row_number().over(
        partition_by=(MonitorRun.model_version_id, MetricValue.metric),
        order_by=(MonitorRun.window_end.desc(), MonitorRun.id.desc()),
    )
    ranked = (
        select(MonitorRun.model_version_id.label("version_id"), MetricValue.metric, MetricValue.value,
               MetricValue.reference_value, newest.label("rank"))
        .join(MetricValue, MetricValue.run_id == MonitorRun.id)
        .join(MonitorDefinition, MonitorDefinition.id == MonitorRun.monitor_id)
        .where(*performance, MetricValue.value.is_not(None))
        .subquery()
    )
    values = pd.DataFrame(session.execute(
        select(ranked.c.version_id, ranked.c.metric, ranked.c.value, ranked.c.reference_value)
        .where(ranked.c.rank == 1)
    ).all(), columns=["version_id", "metric", "metric_value", "metric_reference"])
    return names.merge(values, on=["version_id", "metric"], how="left")
