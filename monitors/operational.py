"""The ``operational`` monitor: serving KPIs of one model version per window, against its own recent past.

Per window (statistics from :mod:`driftscope.monitors.serving`, whose docstring states the
conventions): ``request_count``; ``request_rate`` (requests per second of the window);
``error_rate`` and ``timeout_rate`` with Wilson intervals over every request, failed ones
included; ``latency_p<P>`` exact percentiles (milliseconds) of the requests with a latency;
``outcome_share`` (share of successful requests with at least one outcome, Wilson);
``outcome:<name>``: a binary outcome's rate (Wilson) or a numeric outcome's mean (percentile
bootstrap) over the requests that have it; ``model_age_days`` (window end - ``trained_at``).

**Baseline**: each metric's ``reference_value`` is the median of its values in the same monitor's
:data:`BASELINE_WINDOWS` previous windows of this version (stored runs with a value), so
``metric_drop`` compares a window with the version's own recent level; none before the first
window with history. No metric is flagged by the monitor itself: the rules judge.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from driftscope.monitors.config import latency_metric_name
from driftscope.monitors.serving import Estimate, latency_percentiles, mean_interval, rate, status_counts

BASELINE_WINDOWS = 7
LOWER_IS_BETTER = ("error_rate", "timeout_rate", "model_age_days")


@dataclass(frozen=True)
class OperationalResult:
    """Serving KPIs of one window as ``metric_values`` rows."""

    rows: list[dict[str, Any]]
    n_rows: int
    summary_: dict[str, Any] = field(default_factory=dict)

    def metric_rows(self) -> list[dict[str, Any]]:
        """``metric_values`` rows."""
        return self.rows

    def summary(self) -> dict[str, Any]:
        """``MonitorRun.summary`` of an operational run."""
        return self.summary_


def _row(metric: str, value: float, *, low: float | None = None, high: float | None = None, n: int = 0,
         baseline: dict[str, float] | None = None, higher_is_better: bool | None = None) -> dict[str, Any]:
    finite = value is not None and np.isfinite(value)
    details = {} if higher_is_better is None else {"higher_is_better": higher_is_better}
    reference = (baseline or {}).get(metric)
    return {"metric": metric, "status": "ok" if finite else "no_data", "value": float(value) if finite else None,
            "ci_low": low if low is None or np.isfinite(low) else None,
            "ci_high": high if high is None or np.isfinite(high) else None,
            "reference_value": reference, "threshold": None, "p_value": None, "flagged": False, "n": int(n),
            "details": details}


def _estimate_row(metric: str, estimate: Estimate, baseline: dict[str, float], higher: bool | None) -> dict[str, Any]:
    return _row(metric, estimate.value, low=estimate.low, high=estimate.high, n=estimate.n, baseline=baseline,
                higher_is_better=higher)


def evaluate_operational(
    frame: pd.DataFrame, outcomes: pd.DataFrame, *, start: datetime, end: datetime, percentiles: tuple[float, ...],
    outcome_types: dict[str, str], trained_at: datetime | None, baseline: dict[str, float] | None = None,
) -> OperationalResult:
    """Serving KPIs of one window.

    Parameters
    ----------
    frame : pandas.DataFrame
        The window's stored requests (canonical columns; ``status`` and ``latency_ms`` when logged).
    outcomes : pandas.DataFrame
        Long outcomes of those requests: ``prediction_id``, ``outcome``, ``value``.
    start, end : datetime
        The window (UTC); the rate is per second of ``end - start``.
    baseline : dict, optional
        Metric name -> the version's recent median (see :func:`baseline_of`).
    """
    base = baseline or {}
    n = len(frame)
    status = frame["status"].to_numpy(dtype=object) if "status" in frame else np.full(n, None, dtype=object)
    counts = status_counts(status)
    seconds = (end - start).total_seconds()
    rows = [_row("request_count", float(n), n=n, baseline=base),
            _row("request_rate", n / seconds if seconds > 0 else float("nan"), n=n, baseline=base),
            _estimate_row("error_rate", rate(counts["error"], n), base, False),
            _estimate_row("timeout_rate", rate(counts["timeout"], n), base, False)]
    latency = frame["latency_ms"].to_numpy(dtype=float) if "latency_ms" in frame else np.array([])
    n_latency = int(np.isfinite(latency).sum())
    for p, value in latency_percentiles(latency, percentiles).items():
        rows.append(_row(latency_metric_name(p), value, n=n_latency, baseline=base, higher_is_better=False))
    succeeded = pd.Series(status, dtype=object).fillna("ok").eq("ok").to_numpy(dtype=bool)
    served = frame["prediction_id"].to_numpy(dtype=object)[succeeded] if n else np.array([], dtype=object)
    with_outcome = pd.Index(served).isin(outcomes["prediction_id"])
    rows.append(_estimate_row("outcome_share", rate(int(np.sum(with_outcome)), len(served)), base, True))
    for name, kind in outcome_types.items():
        values = outcomes.loc[outcomes["outcome"] == name, "value"].to_numpy(dtype=float)
        estimate = rate(int(values.sum()), len(values)) if kind == "binary" else mean_interval(values)
        rows.append(_estimate_row(f"outcome:{name}", estimate, base, True))
    age = float("nan") if trained_at is None else (end - trained_at).total_seconds() / 86_400
    rows.append(_row("model_age_days", age, baseline=None, higher_is_better=False))
    summary = {"requests": n, "errors": counts["error"], "timeouts": counts["timeout"],
               "baseline_windows": BASELINE_WINDOWS}
    return OperationalResult(rows, n, summary)


def baseline_of(series: pd.DataFrame, monitor: str) -> dict[str, float]:
    """Median per metric of ``monitor``'s last :data:`BASELINE_WINDOWS` windows with a value in ``series``.

    ``series`` is :func:`driftscope.storage.result_series.metric_series` of the version before the window.

    Examples
    --------
    >>> series = pd.DataFrame({"monitor": ["ops"] * 3, "window_end": [1, 2, 3], "metric": ["error_rate"] * 3,
    ...                        "value": [0.01, 0.03, None]})
    >>> baseline_of(series, "ops")
    {'error_rate': 0.02}
    """
    if series.empty:
        return {}
    mine = series[(series["monitor"] == monitor) & series["value"].notna()].sort_values("window_end")
    recent = mine.groupby("metric", sort=True).tail(BASELINE_WINDOWS)
    return {str(k): float(v) for k, v in recent.groupby("metric")["value"].median().items()}
