"""Aggregated read queries behind the dashboard's Feature page.

``DriftResult.histogram`` is written by the data-drift monitor (:mod:`driftscope.monitors.data_drift`). Two
shapes: numeric ``{"edges": [...], "reference": [...], "current": [...]}`` (``len(edges) ==
len(counts) + 1``) and categorical ``{"categories": [...], "reference": [...], "current": [...],
"other_reference": n, "other_current": n}`` (the top categories, the rest summed as *other*); counts
are row counts. :func:`distribution` returns it as a long frame of shares per bin.
"""

from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from driftscope.storage.models import DriftResult, MonitorDefinition, MonitorRun
from driftscope.storage.result_series import drift_score

HISTORY_COLUMNS = [
    "run_id", "monitor", "window_start", "window_end", "role", "feature_type", "method", "status", "statistic",
    "p_value", "threshold", "drifted", "missing_share_reference", "missing_share_current", "out_of_range_share",
    "new_categories",
]
DISTRIBUTION_COLUMNS = ["bin", "left", "right", "side", "count", "share"]
OTHER = "(other)"


def drift_features(session: Session, *, model_version_id: int) -> list[str]:
    """Names of every column with stored drift results for a version (features and prediction), sorted."""
    query = (
        select(DriftResult.feature)
        .join(MonitorRun, MonitorRun.id == DriftResult.run_id)
        .where(MonitorRun.model_version_id == model_version_id)
        .distinct()
    )
    return sorted(session.execute(query).scalars())


def feature_history(
    session: Session, *, model_version_id: int, feature: str, start: datetime, end: datetime
) -> pd.DataFrame:
    """One feature's drift results over the runs whose window ends in ``(start, end]``, oldest first.

    Adds ``score`` (see :func:`driftscope.storage.result_series.drift_score`) and ``n_new_categories``.
    """
    query = (
        select(MonitorRun.id, MonitorDefinition.name, MonitorRun.window_start, MonitorRun.window_end,
               DriftResult.role, DriftResult.feature_type, DriftResult.method, DriftResult.status,
               DriftResult.statistic, DriftResult.p_value, DriftResult.threshold, DriftResult.drifted,
               DriftResult.missing_share_reference, DriftResult.missing_share_current,
               DriftResult.out_of_range_share, DriftResult.new_categories, DriftResult.threshold_mode)
        .join(MonitorRun, MonitorRun.id == DriftResult.run_id)
        .join(MonitorDefinition, MonitorDefinition.id == MonitorRun.monitor_id)
        .where(
            MonitorRun.model_version_id == model_version_id, DriftResult.feature == feature,
            MonitorRun.window_end > start, MonitorRun.window_end <= end,
        )
        .order_by(MonitorRun.window_end, MonitorRun.id)
    )
    frame = pd.DataFrame(session.execute(query).all(), columns=[*HISTORY_COLUMNS, "threshold_mode"])
    for column in ("window_start", "window_end"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    frame["new_categories"] = frame["new_categories"].map(lambda v: list(v or []))
    frame["n_new_categories"] = frame["new_categories"].map(len).astype("int64")
    frame["score"] = drift_score(frame["statistic"], frame["p_value"], frame["threshold"], frame["threshold_mode"],
                                 frame["drifted"])
    return frame


def histogram(session: Session, *, run_id: int, feature: str) -> dict[str, Any]:
    """The stored histogram of one feature in one run (``{}`` when the monitor stored none)."""
    value = session.execute(
        select(DriftResult.histogram).where(DriftResult.run_id == run_id, DriftResult.feature == feature)
    ).scalar_one_or_none()
    return dict(value or {})


def distribution(hist: dict[str, Any]) -> pd.DataFrame:
    """A stored histogram as a long frame: one row per (bin, side) with its count and share of the side.

    ``side`` is ``"reference"`` or ``"current"``; ``left``/``right`` are bin edges (NaN for
    categories); ``share`` is the count over the side's total (0 when the side is empty).

    Examples
    --------
    >>> frame = distribution({"edges": [0, 1, 2], "reference": [3, 1], "current": [1, 1]})
    >>> frame[["bin", "side", "share"]].to_dict("list")  # doctest: +NORMALIZE_WHITESPACE
    {'bin': ['[0, 1)', '[1, 2)', '[0, 1)', '[1, 2)'], 'side': ['reference', 'reference', 'current', 'current'],
     'share': [0.75, 0.25, 0.5, 0.5]}
    >>> hist = {"categories": ["a", "b"], "reference": [1, 0], "current": [0, 2], "other_current": 2}
    >>> distribution(hist)[["bin", "share"]].to_records(index=False).tolist()  # doctest: +NORMALIZE_WHITESPACE
    [('a', 1.0), ('b', 0.0), ('(other)', 0.0), ('a', 0.0), ('b', 0.5), ('(other)', 0.5)]
    """
    if "edges" in hist:
        edges = [float(e) for e in hist["edges"]]
        left, right = edges[:-1], edges[1:]
        bins = [f"[{_num(a)}, {_num(b)})" for a, b in zip(left, right, strict=True)]
    elif "categories" in hist:
        other = any(hist.get(f"other_{side}") for side in ("reference", "current"))
        bins = [str(c) for c in hist["categories"]] + ([OTHER] if other else [])
        left = right = [float("nan")] * len(bins)
    else:
        return pd.DataFrame(columns=DISTRIBUTION_COLUMNS)
    if not bins:
        return pd.DataFrame(columns=DISTRIBUTION_COLUMNS)
    parts = []
    for side in ("reference", "current"):
        values = list(hist.get(side) or [0] * len(left))
        if len(values) < len(bins):
            values.append(hist.get(f"other_{side}") or 0)
        counts = pd.Series(values, dtype="float64")
        total = counts.sum()
        shares = counts / total if total > 0 else counts * 0.0
        parts.append(pd.DataFrame({"bin": bins, "left": left, "right": right, "side": side,
                                   "count": counts, "share": shares}))
    return pd.concat(parts, ignore_index=True)[DISTRIBUTION_COLUMNS]


def _num(value: float) -> str:
    return f"{value:.4g}"
