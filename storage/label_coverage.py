"""Label coverage for the dashboard: the share of a range's predictions that have ground truth.

Counted in SQL by joining predictions (index on version and time) to labels (unique index on model
and prediction id); nothing is fetched but the counts. A range holding up to ``exact_limit``
predictions is counted exactly. A larger one is *estimated* from ``sample_hours`` one-hour slices
spread evenly over the range (a systematic time sample: label arrival depends on a prediction's
age, so the slices cover old and recent hours alike); the estimated labelled count is the sampled
coverage times the range's predictions. This keeps the query near 0.2 s however many predictions
the range holds (``bench/dashboard_bench.py`` measures it on 10M).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import Select, and_, func, select, union_all
from sqlalchemy.orm import Session

from driftscope.storage.models import GroundTruth, ModelVersion, Prediction

EXACT_LIMIT = 250_000
SAMPLE_HOURS = 36
COVERAGE_COLUMNS = ["version_id", "labelled", "label_coverage", "label_coverage_exact"]
HOUR = timedelta(hours=1)


def sample_slices(start: datetime, end: datetime, n: int) -> list[tuple[datetime, datetime]]:
    """``n`` one-hour slices spread evenly over ``[start, end)``, or the whole range when it is no longer.

    Examples
    --------
    >>> from datetime import UTC
    >>> t0 = datetime(2026, 1, 1, tzinfo=UTC)
    >>> [(a.hour, b.hour) for a, b in sample_slices(t0, t0 + timedelta(hours=12), 3)]
    [(2, 3), (6, 7), (10, 11)]
    >>> sample_slices(t0, t0 + timedelta(hours=2), 3) == [(t0, t0 + timedelta(hours=2))]
    True
    """
    hours = int((end - start) / HOUR)
    if hours <= n:
        return [(start, end)]
    step = hours / n
    return [(start + int(i * step + step / 2) * HOUR, start + (int(i * step + step / 2) + 1) * HOUR) for i in range(n)]


def label_coverage(
    session: Session,
    *,
    predictions: dict[int, int],
    start: datetime,
    end: datetime,
    exact_limit: int = EXACT_LIMIT,
    sample_hours: int = SAMPLE_HOURS,
) -> pd.DataFrame:
    """Labelled predictions and coverage per version over ``[start, end)`` (UTC).

    Parameters
    ----------
    predictions
        Version id -> stored predictions in the range (from the hourly volumes); versions with none
        are left out.

    Returns
    -------
    pandas.DataFrame
        :data:`COVERAGE_COLUMNS`; ``label_coverage_exact`` is False when estimated from the sample.
    """
    ids = sorted(v for v, n in predictions.items() if n > 0)
    if not ids:
        return pd.DataFrame(columns=COVERAGE_COLUMNS)
    exact = sum(predictions[v] for v in ids) <= exact_limit
    slices = [(start, end)] if exact else sample_slices(start, end, sample_hours)
    exact = exact or slices == [(start, end)]
    rows = session.execute(union_all(*(_counts(ids, a, b) for a, b in slices))).all()
    counts = pd.DataFrame(rows, columns=["version_id", "n", "labelled"]).groupby("version_id").sum()
    counts = counts.reindex(ids, fill_value=0)
    coverage = counts["labelled"] / counts["n"].where(counts["n"] > 0)
    total = pd.Series(predictions).reindex(ids)
    labelled = counts["labelled"] if exact else (coverage * total).round().fillna(0)
    return pd.DataFrame({
        "version_id": ids, "labelled": labelled.astype("int64").to_numpy(),
        "label_coverage": coverage.to_numpy(), "label_coverage_exact": exact,
    })


def _counts(ids: list[int], start: datetime, end: datetime) -> Select[int, int, int]:
    return (
        select(Prediction.model_version_id, func.count(), func.count(GroundTruth.id))
        .join(ModelVersion, ModelVersion.id == Prediction.model_version_id)
        .outerjoin(
            GroundTruth,
            and_(GroundTruth.model_id == ModelVersion.model_id, GroundTruth.prediction_id == Prediction.prediction_id),
        )
        .where(Prediction.model_version_id.in_(ids), Prediction.ts >= start, Prediction.ts < end)
        .group_by(Prediction.model_version_id)
    )
