"""Estimated performance in the store: per-window series, the estimator's track record, concept-drift flags.

An ``estimated_performance`` run stores one ``metric_values`` row per metric with the estimate in
``value`` (band ``ci_low``/``ci_high``), ``state`` (``estimated`` or ``realized``) and, once
realized, ``realized_value``. The **track record** of an estimator (per monitor, version and
metric) is computed over its realized windows: the mean absolute error ``mean |value -
realized_value|`` and the share of realized values inside the band ``[ci_low, ci_high]``.
"""

from datetime import datetime

import pandas as pd
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from driftscope.storage.models import MetricValue, Model, ModelVersion, MonitorDefinition, MonitorRun

SERIES_COLUMNS = [
    "run_id", "monitor", "window_start", "window_end", "metric", "state", "value", "ci_low", "ci_high",
    "realized_value", "unreliable", "n", "n_labels",
]
TRACK_COLUMNS = ["monitor", "model", "version", "metric", "n_windows", "n_realized", "mae", "inside_band"]


def estimation_series(
    session: Session, *, model_version_id: int, monitor_id: int | None = None,
    start: datetime | None = None, end: datetime | None = None,
) -> pd.DataFrame:
    """Estimated-performance rows of a version (window order): estimate, band, state, realized value.

    ``unreliable`` is True where the run flagged the estimate (``details.unreliable``).
    """
    query = (
        select(MonitorRun.id, MonitorDefinition.name, MonitorRun.window_start, MonitorRun.window_end,
               MetricValue.metric, MetricValue.state, MetricValue.value, MetricValue.ci_low, MetricValue.ci_high,
               MetricValue.realized_value, MetricValue.details, MetricValue.n, MonitorRun.n_labels)
        .join(MonitorRun, MonitorRun.id == MetricValue.run_id)
        .join(MonitorDefinition, MonitorDefinition.id == MonitorRun.monitor_id)
        .where(MonitorRun.model_version_id == model_version_id, MetricValue.state.is_not(None),
               MonitorRun.status == "succeeded")
        .order_by(MonitorRun.window_end, MetricValue.metric)
    )
    if monitor_id is not None:
        query = query.where(MonitorRun.monitor_id == monitor_id)
    if start is not None:
        query = query.where(MonitorRun.window_end > start)
    if end is not None:
        query = query.where(MonitorRun.window_end <= end)
    rows = session.execute(query).all()
    frame = pd.DataFrame(rows, columns=[*SERIES_COLUMNS[:9], "realized_value", "details", "n", "n_labels"])
    frame["unreliable"] = [bool((d or {}).get("unreliable")) for d in frame["details"]]
    return frame[SERIES_COLUMNS]


def estimation_track_record(
    session: Session, *, model_version_id: int | None = None, monitor_id: int | None = None
) -> pd.DataFrame:
    """The estimator's record per (monitor, model, version, metric) over its realized windows.

    Columns: ``n_windows`` (all stored windows), ``n_realized``, ``mae`` (mean absolute error of the
    estimate against the realized value; None before any window is realized) and ``inside_band``
    (share of realized values within the band).
    """
    realized = MetricValue.realized_value.is_not(None)
    inside = and_(realized, MetricValue.realized_value >= MetricValue.ci_low,
                  MetricValue.realized_value <= MetricValue.ci_high)
    query = (
        select(
            MonitorDefinition.name, Model.name, ModelVersion.version, MetricValue.metric,
            func.count(MetricValue.id),
            func.sum(case((realized, 1), else_=0)),
            func.avg(case((realized, func.abs(MetricValue.value - MetricValue.realized_value)), else_=None)),
            func.avg(case((inside, 1.0), (realized, 0.0), else_=None)),
        )
        .join(MonitorRun, MonitorRun.id == MetricValue.run_id)
        .join(MonitorDefinition, MonitorDefinition.id == MonitorRun.monitor_id)
        .join(ModelVersion, ModelVersion.id == MonitorRun.model_version_id)
        .join(Model, Model.id == ModelVersion.model_id)
        .where(MetricValue.state.is_not(None), MonitorRun.status == "succeeded")
        .group_by(MonitorDefinition.name, Model.name, ModelVersion.version, MetricValue.metric)
        .order_by(MonitorDefinition.name, Model.name, ModelVersion.version, MetricValue.metric)
    )
    if model_version_id is not None:
        query = query.where(MonitorRun.model_version_id == model_version_id)
    if monitor_id is not None:
        query = query.where(MonitorRun.monitor_id == monitor_id)
    frame = pd.DataFrame(session.execute(query).all(), columns=TRACK_COLUMNS)
    for column in ("mae", "inside_band"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    frame["n_realized"] = frame["n_realized"].fillna(0).astype(int)
    return frame


def concept_drift_fired(session: Session, *, model_version_id: int, start: datetime, end: datetime) -> list[str]:
    """Names of the concept-drift monitors of a version with a flagged figure in a run overlapping ``[start, end)``."""
    query = (
        select(MonitorDefinition.name).distinct()
        .join(MonitorRun, MonitorRun.monitor_id == MonitorDefinition.id)
        .join(MetricValue, MetricValue.run_id == MonitorRun.id)
        .where(MonitorDefinition.kind == "concept_drift", MonitorRun.model_version_id == model_version_id,
               MonitorRun.status == "succeeded", MonitorRun.window_start < end, MonitorRun.window_end > start,
               MetricValue.flagged.is_(True))
        .order_by(MonitorDefinition.name)
    )
    return list(session.execute(query).scalars())
