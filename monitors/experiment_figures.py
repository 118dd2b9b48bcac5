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
  behind the value.
"""

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from driftscope.monitors.experiment_config import ExperimentConfig, GuardrailConfig
from driftscope.monitors.metrics import METRICS, classification_data, regression_data
from driftscope.monitors.serving import latency_percentiles, status_counts

FAILED_STATUSES = ("error", "timeout")


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
        value, n = _guardrail(guard, requests, status, served, outcomes, seconds, task, positive_label,
                              probability_columns or {})
        figures[guard.name] = value
        figures[f"{guard.name}_n"] = float(n)
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
               probability_columns: Mapping[str, str]) -> tuple[float, int]:
    name, n = guard.name, len(requests)
    if guard.metric is not None:
        return _model_metric(guard.metric, served, task, positive_label, probability_columns)
    if guard.percentile is not None:
        latency = requests["latency_ms"].to_numpy(dtype=float) if "latency_ms" in requests else np.array([])
        return latency_percentiles(latency, [guard.percentile])[guard.percentile], int(np.isfinite(latency).sum())
    if name in ("error_rate", "timeout_rate"):
        counts = status_counts(status)
        return (counts[name.split("_")[0]] / n if n else float("nan")), n
    if name == "request_rate":
        return (n / seconds if seconds > 0 else float("nan")), n
    values = outcomes.loc[outcomes["outcome"] == name[len("outcome:"):], "value"].to_numpy(dtype=float)
    return (float(values.mean()) if values.size else float("nan")), int(values.size)


def _model_metric(metric: str, served: pd.DataFrame, task: str, positive_label: Any,
                  probability_columns: Mapping[str, str]) -> tuple[float, int]:
    if "label" not in served:
        return float("nan"), 0
    rows = served.loc[served["label"].notna().to_numpy()]
    if rows.empty:
        return float("nan"), 0
    if task == "regression":
        data: Any = regression_data(rows["label"], rows["prediction"])
    else:
        probabilities = None
        if probability_columns:
            probabilities = rows[list(probability_columns.values())].set_axis(list(probability_columns), axis=1)
        data = classification_data(
            rows["label"], rows["prediction"], binary=task == "binary_classification", positive_label=positive_label,
            probability=rows.get("probability"), probabilities=probabilities)
    return float(METRICS[metric].func(data, np.ones((1, len(rows))))[0]), len(rows)


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
    return row


def _number(value: float | None, missing: float) -> float:
    return missing if value is None else float(value)
