"""Aggregated read queries behind the dashboard's Model version and Compare pages.

Each function returns a long frame with one row per (run, metric), (run, feature) or (version,
time bucket); ranges are half-open ``[start, end)`` in UTC and a run belongs to a range when its
window ends in ``(start, end]``. Volumes come from the hourly ``prediction_volume`` table, never from
prediction rows.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from driftscope.storage.models import (
    DetectorEvent,
    DriftResult,
    MetricValue,
    MonitorDefinition,
    MonitorRun,
    PredictionVolume,
)

METRIC_COLUMNS = [
    "run_id", "monitor", "window_start", "window_end", "metric", "status", "value", "ci_low", "ci_high",
    "reference_value", "threshold", "p_value", "flagged", "n",
]
DRIFT_COLUMNS = [
    "run_id", "monitor", "window_start", "window_end", "feature", "role", "feature_type", "method", "status",
    "statistic", "p_value", "threshold", "drifted", "score",
]
SHARE_COLUMNS = [
    "run_id", "monitor", "window_start", "window_end", "n_rows", "drifted_share", "drift_share", "dataset_drift",
    "n_drifted", "n_features",
]
EVENT_COLUMNS = ["run_id", "monitor", "detector", "detected_at", "details"]
_P_FLOOR = 1e-300


def drift_score(statistic: Any, p_value: Any, threshold: Any, threshold_mode: Any = None,
                drifted: Any = None) -> np.ndarray:
    """A drift score comparable across tests: 1.0 at the test's threshold, above 1 means drift.

    Calibrated thresholds (``threshold_mode == "calibrated"``) and distance tests (no p-value) put
    the threshold on the statistic: ``statistic / threshold``. Fixed thresholds of hypothesis tests
    are significance levels: ``log(p) / log(threshold)``, so ``p = 1`` gives 0, ``p = threshold``
    gives 1 and smaller p-values give more (p-values are floored at 1e-300). Where ``drifted`` is
    given and False (the monitor's verdict: a Benjamini-Hochberg correction across features may keep
    a result past its own threshold clean), the score is capped just below 1, so a chart paints
    drift only where the verdict is drift. Missing statistics give NaN.

    Examples
    --------
    >>> drift_score([0.2, None], [None, 0.0025], [0.1, 0.05]).round(3).tolist()
    [2.0, 2.0]
    >>> drift_score([0.0869, 0.2], [0.003, 0.001], [0.079, 0.079], ["calibrated"] * 2, [False, True]).round(3).tolist()
    [0.99, 2.532]
    """
    stat = pd.to_numeric(pd.Series(statistic, dtype=object), errors="coerce").to_numpy(float)
    p = pd.to_numeric(pd.Series(p_value, dtype=object), errors="coerce").to_numpy(float)
    thr = pd.to_numeric(pd.Series(threshold, dtype=object), errors="coerce").to_numpy(float)
    on_statistic = np.isnan(p)
    if threshold_mode is not None:
        on_statistic |= pd.Series(threshold_mode, dtype=object).eq("calibrated").to_numpy(dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        by_p = np.log(np.clip(p, _P_FLOOR, 1.0)) / np.log(thr)
        by_distance = stat / thr
    score = np.where(on_statistic, by_distance, by_p)
    if drifted is not None:
        clean = pd.Series(drifted, dtype=object).eq(False).to_numpy(dtype=bool)
        score = np.where(clean, np.fmin(score, 0.99), score)
    return score


def _runs_of(kind: str, model_version_id: int, start: datetime, end: datetime) -> Any:
    return (
        select(MonitorRun.id, MonitorDefinition.name, MonitorRun.window_start, MonitorRun.window_end)
        .join(MonitorDefinition, MonitorDefinition.id == MonitorRun.monitor_id)
        .where(
            MonitorDefinition.kind == kind, MonitorRun.model_version_id == model_version_id,
            MonitorRun.window_end > start, MonitorRun.window_end <= end,
        )
    )


def metric_series(session: Session, *, model_version_id: int, start: datetime, end: datetime,
                  kind: str = "performance") -> pd.DataFrame:
    """Metrics of a version over time (of ``kind`` monitors): value, bootstrap band, reference value, verdict.

    ``threshold`` is the significance level of the monitor's drop test and ``p_value`` its p-value;
    ``flagged`` marks a significant drop from the reference value.
    """
    query = _runs_of(kind, model_version_id, start, end).add_columns(
        MetricValue.metric, MetricValue.status, MetricValue.value, MetricValue.ci_low, MetricValue.ci_high,
        MetricValue.reference_value, MetricValue.threshold, MetricValue.p_value, MetricValue.flagged, MetricValue.n,
    ).join(MetricValue, MetricValue.run_id == MonitorRun.id).order_by(MonitorRun.window_end, MetricValue.id)
    return _frame(session.execute(query).all(), METRIC_COLUMNS)


def drift_matrix(
    session: Session, *, model_version_id: int, start: datetime, end: datetime, max_windows: int = 90
) -> pd.DataFrame:
    """Per-feature drift of a version's data-drift runs, one row per (run, feature), with :func:`drift_score`.

    When the range holds more than ``max_windows`` distinct windows (hourly runs over months), only
    the newest run per monitor and UTC day is kept, so a heatmap stays readable.
    """
    query = _runs_of("data_drift", model_version_id, start, end).add_columns(
        DriftResult.feature, DriftResult.role, DriftResult.feature_type, DriftResult.method, DriftResult.status,
        DriftResult.statistic, DriftResult.p_value, DriftResult.threshold, DriftResult.drifted,
        DriftResult.threshold_mode,
    ).join(DriftResult, DriftResult.run_id == MonitorRun.id).order_by(MonitorRun.window_end, DriftResult.feature)
    frame = _frame(session.execute(query).all(), [*DRIFT_COLUMNS[:-1], "threshold_mode"])
    frame["score"] = drift_score(frame["statistic"], frame["p_value"], frame["threshold"], frame.pop("threshold_mode"),
                                 frame["drifted"])
    if frame["window_end"].nunique() > max_windows:
        day = frame["window_end"].dt.floor("D")
        newest = frame.assign(day=day).groupby(["monitor", "day"])["window_end"].transform("max")
        frame = frame[frame["window_end"] == newest].reset_index(drop=True)
    return frame


def drift_share_series(session: Session, *, model_version_id: int, start: datetime, end: datetime) -> pd.DataFrame:
    """Share of drifted features per data-drift run (``MonitorRun.summary``) and the configured threshold.

    ``n_rows`` is the run's row count: a run over a window without traffic (0 rows) has no share.
    """
    query = _runs_of("data_drift", model_version_id, start, end).add_columns(
        MonitorRun.n_rows, MonitorRun.summary
    ).where(MonitorRun.status == "succeeded").order_by(MonitorRun.window_end)
    rows = session.execute(query).all()
    base = _frame([r[:5] for r in rows], SHARE_COLUMNS[:5])
    summaries = pd.DataFrame([r[5] or {} for r in rows], columns=SHARE_COLUMNS[5:], index=base.index)
    frame = pd.concat([base, summaries], axis=1)
    for column in ("drifted_share", "drift_share"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
    return frame


def detector_events(session: Session, *, model_version_id: int, start: datetime, end: datetime) -> pd.DataFrame:
    """Change points found by concept-drift detectors on a version, with ``start <= detected_at < end``."""
    query = (
        select(MonitorRun.id, MonitorDefinition.name, DetectorEvent.detector, DetectorEvent.detected_at,
               DetectorEvent.details)
        .join(MonitorRun, MonitorRun.id == DetectorEvent.run_id)
        .join(MonitorDefinition, MonitorDefinition.id == MonitorRun.monitor_id)
        .where(
            MonitorRun.model_version_id == model_version_id,
            DetectorEvent.detected_at >= start, DetectorEvent.detected_at < end,
        )
        .order_by(DetectorEvent.detected_at)
    )
    return _frame(session.execute(query).all(), EVENT_COLUMNS).drop_duplicates(["detector", "detected_at"])


def volume_series(
    session: Session, *, model_version_ids: list[int], start: datetime, end: datetime, freq: str = "D"
) -> pd.DataFrame:
    """Stored predictions per version and time bucket (``freq``: ``"h"`` or ``"D"``, UTC), from hourly volumes.

    Columns ``version_id``, ``bucket`` (UTC start of the bucket), ``n_rows``, ``n_new_categories``;
    buckets without predictions are absent.
    """
    rows = session.execute(
        select(PredictionVolume.model_version_id, PredictionVolume.hour, PredictionVolume.n_rows,
               PredictionVolume.n_new_categories)
        .where(
            PredictionVolume.model_version_id.in_(model_version_ids),
            PredictionVolume.hour >= start, PredictionVolume.hour < end,
        )
    ).all()
    hourly = _frame(rows, ["version_id", "bucket", "n_rows", "n_new_categories"])
    hourly["bucket"] = hourly["bucket"].dt.floor(freq)
    totals = hourly.groupby(["version_id", "bucket"], as_index=False)[["n_rows", "n_new_categories"]].sum()
    return totals.astype({"n_rows": "int64", "n_new_categories": "int64"})


def _frame(rows: Sequence[Any], columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=columns)
    for column in ("window_start", "window_end", "detected_at", "bucket"):
        if column in frame:
            frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame
