"""One arm's figures in one window of an experiment: primary KPI totals and guardrail values (pure, no I/O).

* **Primary, outcome**: the units are the arm's requests of the window that have the outcome; per
  unit the outcome's value (0/1 for a binary outcome). ``n``, ``total`` and ``total_sq`` are their
  count, sum and sum of squares, from which :mod:`driftscope.monitors.experiments` accumulates means
  and variances.
* **Primary, metric**: the units are the arm's labelled, successful requests; per unit ``1`` when
  the predicted class equals the label (``accuracy``) or the absolute error (``mae``).
* **Guardrails**, on the window's own data: ``latency_p<P>`` exact percentile of the requests with
  a latency (ms, numpy's linear definition); ``error_rate`` / ``timeout_rate`` share of all requests,
  failed ones included; ``request_rate`` requests per second; ``outcome:<name>`` the outcome's mean;
  a model metric (``roc_auc``...) over the labelled successful requests, as the performance monitor
  computes it. Each guardrail also reports its unit count (``<name>_n``): requests, or the rows
  behind the value, and the standard error of its value (``<name>_se``), which the guardrail's
  test reads (:class:`driftscope.monitors.experiments.Guardrail`):

  - a share (``error_rate``, ``timeout_rate``): ``sqrt(p (1 - p) / n)``;
  - a mean (``outcome:<name>``): the sample standard deviation (``ddof=1``) over ``sqrt(n)``;
  - ``request_rate``: ``sqrt(n) / seconds`` (requests as a Poisson count);
  - ``latency_p<P>``: the half-width of the distribution-free 95 % interval of the percentile
    between the order statistics ``n q -/+ 1.96 sqrt(n q (1 - q))`` (``q = P / 100``), over 1.96;
  - a model metric: the standard deviation (``ddof=1``) of the metric over
    :data:`METRIC_RESAMPLES` bootstrap resamples of the labelled rows (seed :data:`METRIC_SEED`, so
    evaluating the same window again gives the same value).
"""

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from driftscope.monitors.bootstrap import weight_blocks
from driftscope.monitors.experiment_config import ExperimentConfig, GuardrailConfig
from driftscope.monitors.metrics import METRICS, classification_data, regression_data
from driftscope.monitors.serving import latency_percentiles, status_counts

FAILED_STATUSES = ("error", "timeout")
METRIC_RESAMPLES = 200
METRIC_SEED = 20_260_101
Z_95 = 1.959963984540054


def arm_figures(requests: pd.DataFrame, outcomes: pd.DataFrame, *, experiment: ExperimentConfig, seconds: float,
                task: str, positive_label: Any = 1, probability_columns: Mapping[str, str] | None = None
                ) -> dict[str, float | None]:
    """The arm's figures of one window as a flat JSON-safe mapping (NaN is None).

    ``requests`` is the arm's canonical window frame (``prediction_id``, ``prediction``, optional
    ``probability``, ``latency_ms``, ``status`` and, when a metric is used, ``label``);
    ``outcomes`` the long outcomes of those requests (``prediction_id``, ``outcome``, ``value``).
    """
    n_requests = len(requests)
    status = requests["status"].to_numpy(dtype=object) if "status" in requests else np.full(n_requests, None)
    ok = ~pd.Series(status, dtype=object).isin(FAILED_STATUSES).to_numpy(dtype=bool)
    served = requests.loc[ok].reset_index(drop=True)
    figures: dict[str, float | None] = {"requests": float(n_requests)}
    figures.update(_primary(served, outcomes, experiment, task, positive_label))
    for guard in experiment.guardrails:
        value, n, se = _guardrail(guard, requests, status, served, outcomes, seconds, task, positive_label,
                                  probability_columns or {})
        figures[guard.name] = value
        figures[f"{guard.name}_n"] = float(n)
        figures[f"{guard.name}_se"] = se
    return {k: (float(v) if v is not None and np.isfinite(v) else None) for k, v in figures.items()}


def _primary(served: pd.DataFrame, outcomes: pd.DataFrame, experiment: ExperimentConfig, task: str,
             positive_label: Any) -> dict[str, float]:
    primary = experiment.primary
    if primary.outcome is not None:
        values = outcomes.loc[outcomes["outcome"] == primary.outcome, "value"].to_numpy(dtype=float)
    else:
        values = _unit_metric(str(primary.metric), served, task)
    values = values[np.isfinite(values)]
    return {"n": float(values.size), "total": float(values.sum()), "total_sq": float(np.square(values).sum())}


def _unit_metric(metric: str, served: pd.DataFrame, task: str) -> np.ndarray:
    """Per labelled row: 1/0 hit (accuracy) or absolute error (mae)."""
    if "label" not in served or served.empty:
        return np.array([], dtype=float)
    labelled = served.loc[served["label"].notna().to_numpy()]
    if metric == "mae":
        return np.abs(labelled["label"].to_numpy(dtype=float) - labelled["prediction"].to_numpy(dtype=float))
    hits = labelled["label"].astype(str).to_numpy() == labelled["prediction"].astype(str).to_numpy()
    return hits.astype(float)


def _guardrail(guard: GuardrailConfig, requests: pd.DataFrame, status: np.ndarray, served: pd.DataFrame,
               outcomes: pd.DataFrame, seconds: float, task: str, positive_label: Any,
               probability_columns: Mapping[str, str]) -> tuple[float, int, float]:
    """The guardrail's value in the window, its unit count and the value's standard error."""
    name, n = guard.name, len(requests)
    if guard.metric is not None:
        return _model_metric(guard.metric, served, task, positive_label, probability_columns)
    if guard.percentile is not None:
        latency = requests["latency_ms"].to_numpy(dtype=float) if "latency_ms" in requests else np.array([])
        latency = latency[np.isfinite(latency)]
        value = latency_percentiles(latency, [guard.percentile])[guard.percentile]
        return value, latency.size, percentile_se(latency, guard.percentile / 100)
    if name in ("error_rate", "timeout_rate"):
        share = status_counts(status)[name.split("_")[0]] / n if n else float("nan")
        return share, n, float(np.sqrt(share * (1 - share) / n)) if n else float("nan")
    if name == "request_rate":
        return (n / seconds, n, np.sqrt(n) / seconds) if seconds > 0 else (float("nan"), n, float("nan"))
    values = outcomes.loc[outcomes["outcome"] == name[len("outcome:"):], "value"].to_numpy(dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return float("nan"), 0, float("nan")
    se = float(values.std(ddof=1) / np.sqrt(values.size)) if values.size > 1 else float("nan")
    return float(values.mean()), int(values.size), se


def percentile_se(values: np.ndarray, q: float) -> float:
    """Standard error of the ``q`` quantile of ``values`` from its distribution-free 95 % interval.

    The interval runs between the order statistics of ranks ``n q -/+ 1.96 sqrt(n q (1 - q))``
    (the normal approximation of the binomial count below the quantile, clipped to the sample);
    the standard error is its half-width over 1.96. NaN for fewer than two values.

    Examples
    --------
    >>> round(percentile_se(np.arange(1000.0), 0.5), 1)  # ranks 469 and 531: 62 / (2 * 1.96)
    15.8

    The asymptotic value for this uniform sample, ``sqrt(q (1 - q) / n) / density``, is
    ``0.5 / sqrt(1000) * 1000 = 15.8``.
    """
    n = values.size
    if n < 2:
        return float("nan")
    ordered = np.sort(values)
    spread = Z_95 * np.sqrt(n * q * (1 - q))
    low = int(np.clip(np.floor(n * q - spread), 0, n - 1))
    high = int(np.clip(np.ceil(n * q + spread), 0, n - 1))
    return float((ordered[high] - ordered[low]) / (2 * Z_95))


def _model_metric(metric: str, served: pd.DataFrame, task: str, positive_label: Any,
                  probability_columns: Mapping[str, str]) -> tuple[float, int, float]:
    if "label" not in served:
        return float("nan"), 0, float("nan")
    rows = served.loc[served["label"].notna().to_numpy()]
    if rows.empty:
        return float("nan"), 0, float("nan")
    if task == "regression":
        data: Any = regression_data(rows["label"], rows["prediction"])
    else:
        probabilities = None
        if probability_columns:
            probabilities = rows[list(probability_columns.values())].set_axis(list(probability_columns), axis=1)
        data = classification_data(
            rows["label"], rows["prediction"], binary=task == "binary_classification", positive_label=positive_label,
            probability=rows.get("probability"), probabilities=probabilities)
    func = METRICS[metric].func
    value = float(func(data, np.ones((1, len(rows))))[0])
    resampled = np.concatenate([func(data, block) for block in weight_blocks(len(rows), METRIC_RESAMPLES, METRIC_SEED)])
    resampled = resampled[np.isfinite(resampled)]
    se = float(resampled.std(ddof=1)) if resampled.size > 1 else float("nan")
    return value, len(rows), se


def window_row(control: Mapping[str, float | None], treatment: Mapping[str, float | None],
               guardrails: Sequence[str]) -> dict[str, float]:
    """The row :func:`driftscope.monitors.experiments.evaluate` reads for one window, from both arms' figures."""
    row: dict[str, float] = {}
    for arm, figures in (("control", control), ("treatment", treatment)):
        for key in ("n", "total", "total_sq"):
            row[f"{arm}_{key}"] = _number(figures.get(key), 0.0)
        for name in guardrails:
            row[f"{name}_{arm}"] = _number(figures.get(name), float("nan"))
            row[f"{name}_{arm}_n"] = _number(figures.get(f"{name}_n"), 0.0)
            row[f"{name}_{arm}_se"] = _number(figures.get(f"{name}_se"), float("nan"))
    return row


def _number(value: float | None, missing: float) -> float:
    return missing if value is None else float(value)
