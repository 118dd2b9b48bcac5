"""The ``estimated_performance`` monitor: CBPE or DLE estimates per window, and the realized value beside them.

Each window's figure has a **state**: ``estimated`` while the window has fewer than ``min_labels``
labelled rows, ``realized`` once it has enough; then the realized metric (the same convention as
the ``performance`` monitor, :mod:`driftscope.monitors.metrics`) is stored beside the estimate,
which stays as it was computed (the runner recomputes a window when its labels change), so the
estimator's error can be tracked.

**Limits.** The estimates assume no concept drift (P(y | x) as on the reference) and, for CBPE, a
reference on which the calibration holds: the estimate is flagged ``unreliable`` (with reasons in
``details``) when the reference's out-of-fold calibration error exceeds
:data:`~driftscope.monitors.estimation.calibration.ECE_BOUND`, or when the runner reports that a
concept-drift monitor of the version fired in the window (:meth:`EstimationResult.with_concept_drift`).
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from driftscope.errors import NotFittedError, SchemaError
from driftscope.monitors.estimation.calibration import ECE_BOUND
from driftscope.monitors.estimation.cbpe import CBPE, Estimate
from driftscope.monitors.estimation.dle import DLE
from driftscope.monitors.estimation.registry import ESTIMATORS, metrics
from driftscope.monitors.metrics import METRICS, MetricResult, classification_data, regression_data
from driftscope.monitors.performance import class_probabilities
from driftscope.monitors.windows import LABEL_COLUMN, as_like

DEFAULT_MIN_LABELS = 100


@dataclass(frozen=True)
class EstimationResult:
    """Estimates of one window (``metric_values`` rows with ``state`` and ``realized_value``)."""

    metrics: tuple[MetricResult, ...]
    realized: dict[str, float | None]
    state: str
    n_rows: int
    n_labels: int
    unreliable_reasons: tuple[str, ...]

    @property
    def label_coverage(self) -> float:
        """Share of the window's rows with a label."""
        return self.n_labels / self.n_rows if self.n_rows else 0.0

    def with_concept_drift(self, monitors: Sequence[str]) -> "EstimationResult":
        """This result flagged unreliable because the concept-drift ``monitors`` fired in the window."""
        if not monitors:
            return self
        reason = f"concept drift detected by {', '.join(monitors)}: P(y | x) changed, CBPE/DLE assume it did not"
        return replace(self, unreliable_reasons=(*self.unreliable_reasons, reason))

    def summary(self) -> dict[str, Any]:
        """``MonitorRun.summary``: label coverage, state and reliability."""
        return {"label_coverage": self.label_coverage, "verdict": "ok", "state": self.state,
                "unreliable": bool(self.unreliable_reasons), "unreliable_reasons": list(self.unreliable_reasons)}

    def metric_rows(self) -> list[dict[str, Any]]:
        """``metric_values`` rows; ``value`` is the estimate, ``realized_value`` the realized metric."""
        reasons = list(self.unreliable_reasons)
        rows = []
        for m in self.metrics:
            details = {**m.details, "state": self.state, "unreliable": bool(reasons), "unreliable_reasons": reasons}
            realized = self.realized.get(m.metric) if self.state == "realized" else None
            rows.append(replace(m, details=details).row() | {"state": self.state, "realized_value": _finite(realized)})
        return rows


class EstimatedPerformanceMonitor:
    """Fit on the labelled reference, estimate each window's performance before its labels land.

    Parameters
    ----------
    task : {"binary_classification", "multiclass_classification", "regression"}
    features : dict of str to str
        Feature name -> type (DLE's inputs).
    metrics : sequence of str, optional
        Default: every metric the task's estimator estimates (:mod:`~driftscope.monitors.estimation.registry`).
    positive_label : Any
        The positive class of binary tasks.
    probability_classes : sequence of str, optional
        Classes with a ``probability:<class>`` column (multiclass; required there).
    min_labels : int
        Labelled rows from which a window's figure is ``realized``.
    draws, band_z, seed
        Band settings (see :mod:`~driftscope.monitors.estimation.cbpe` and ``dle``).
    """

    def __init__(self, task: str, features: dict[str, str], *, metrics: Sequence[str] | None = None,
                 positive_label: Any = 1, probability_classes: Sequence[str] | None = None,
                 min_labels: int = DEFAULT_MIN_LABELS, draws: int = 200, band_z: float = 3.0, seed: int = 0) -> None:
        self.task = task
        self.features = features
        self.metrics = metrics
        self.positive_label = positive_label
        self.probability_classes = probability_classes
        self.min_labels = min_labels
        self.draws = draws
        self.band_z = band_z
        self.seed = seed

    def fit(self, reference: pd.DataFrame) -> "EstimatedPerformanceMonitor":
        """Calibrate (CBPE) or train the loss models (DLE) on the reference's labelled rows."""
        allowed = metrics(self.task)
        self.metrics_ = tuple(self.metrics or allowed)
        unknown = [m for m in self.metrics_ if m not in allowed]
        if unknown:
            raise SchemaError(
                f"metrics {unknown} cannot be estimated for a {self.task} model; valid: {', '.join(allowed)}")
        if LABEL_COLUMN not in reference:
            raise SchemaError("performance estimation needs the reference's target: set schema.target and its column")
        self.label_like_ = reference[LABEL_COLUMN]
        labelled = reference[reference[LABEL_COLUMN].notna().to_numpy()].reset_index(drop=True)
        self.unreliable_reasons_: tuple[str, ...] = ()
        if ESTIMATORS[self.task] == "dle":
            target = as_like(labelled[LABEL_COLUMN], self.label_like_).to_numpy(np.float64)
            self.estimator_: CBPE | DLE = DLE(self.features, self.metrics_, band_z=self.band_z, seed=self.seed)
            self.estimator_.fit(labelled, target)
        else:
            scores, _, outcomes = self._encode(labelled, with_labels=True)
            cbpe = CBPE(self.metrics_, draws=self.draws, band_z=self.band_z, seed=self.seed).fit(scores, outcomes)
            self.estimator_ = cbpe
            if not cbpe.calibration_error_ <= ECE_BOUND:
                self.unreliable_reasons_ = (
                    f"reference calibration error (out-of-fold ECE) {cbpe.calibration_error_:.3f} above "
                    f"{ECE_BOUND}: calibrated scores do not hold on the reference",)
        self.reference_values_ = self._realized(labelled)
        return self

    def evaluate(self, window: pd.DataFrame) -> EstimationResult:
        """Estimates of the window; realized values too when it has ``min_labels`` labelled rows."""
        if not hasattr(self, "estimator_"):
            raise NotFittedError("this EstimatedPerformanceMonitor is not fitted: call fit(reference) first")
        window = window.reset_index(drop=True)
        if isinstance(self.estimator_, DLE):
            estimates = self.estimator_.estimate(window)
        else:
            scores, predicted, _ = self._encode(window, with_labels=False)
            estimates = self.estimator_.estimate(scores, predicted)
        labelled = window[window[LABEL_COLUMN].notna().to_numpy()] if LABEL_COLUMN in window else window.iloc[:0]
        n_labels = len(labelled)
        state = "realized" if n_labels >= self.min_labels and n_labels > 0 else "estimated"
        realized = self._realized(labelled.reset_index(drop=True)) if state == "realized" else {}
        results = tuple(self._result(e, len(window)) for e in estimates)
        return EstimationResult(results, realized, state, len(window), n_labels, self.unreliable_reasons_)

    def _result(self, estimate: Estimate, n: int) -> MetricResult:
        finite = bool(np.isfinite(estimate.value))
        details = {"method": ESTIMATORS[self.task], "sigma": estimate.sigma,
                   "band_z": self.band_z, "min_labels": self.min_labels,
                   "higher_is_better": METRICS[estimate.metric].higher_is_better}
        if isinstance(self.estimator_, CBPE):
            details |= {"calibrator": "isotonic", "calibration_error": self.estimator_.calibration_error_,
                        "draws": self.draws}
        return MetricResult(estimate.metric, "ok" if finite else "undefined", estimate.value, n,
                            ci_low=estimate.low, ci_high=estimate.high,
                            reference_value=self.reference_values_.get(estimate.metric), details=details)

    def _encode(self, frame: pd.DataFrame, *, with_labels: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Raw scores, one-hot predicted classes and (reference) one-hot outcomes, ``(n, K)`` each."""
        like = self.label_like_
        prediction = as_like(frame["prediction"], like).to_numpy(dtype=object)
        if self.task == "binary_classification":
            if "probability" not in frame:
                raise SchemaError("CBPE needs the probability of the positive class: set schema.probability")
            classes = [as_like(pd.Series([self.positive_label], dtype=object), like).iloc[0]]
            scores = pd.to_numeric(frame["probability"]).to_numpy(np.float64)[:, None]
        else:
            probabilities = class_probabilities(frame, self.probability_classes, like)
            if probabilities is None:
                raise SchemaError("CBPE for a multiclass model needs schema.probabilities: {class: column}")
            classes, scores = list(probabilities.columns), probabilities.to_numpy(np.float64)
        predicted = (prediction[:, None] == np.array(classes, dtype=object)[None, :]).astype(np.float64)
        outcomes = np.zeros_like(predicted)
        if with_labels:
            labels = as_like(frame[LABEL_COLUMN], like).to_numpy(dtype=object)
            outcomes = (labels[:, None] == np.array(classes, dtype=object)[None, :]).astype(np.float64)
        keep = np.isfinite(scores).all(axis=1) & pd.notna(prediction)
        return scores[keep], predicted[keep], outcomes[keep]

    def _realized(self, labelled: pd.DataFrame) -> dict[str, float | None]:
        """The metrics computed from labels, as the performance monitor computes them."""
        if labelled.empty:
            return {}
        like = self.label_like_
        y_true = as_like(labelled[LABEL_COLUMN], like)
        y_pred = as_like(labelled["prediction"], like)
        keep = (y_true.notna() & y_pred.notna()).to_numpy()
        if self.task == "regression":
            data: Any = regression_data(y_true[keep], y_pred[keep])
        else:
            positive = as_like(pd.Series([self.positive_label], dtype=object), like).iloc[0]
            probability = labelled["probability"][keep] if "probability" in labelled else None
            data = classification_data(
                y_true[keep], y_pred[keep], binary=self.task == "binary_classification", positive_label=positive,
                probability=probability,
                probabilities=class_probabilities(labelled, self.probability_classes, like, keep),
            )
        ones = np.ones((1, data.n))
        return {m: _finite(float(METRICS[m].func(data, ones)[0])) for m in self.metrics_}


def _finite(value: float | None) -> float | None:
    return None if value is None or not np.isfinite(value) else float(value)
