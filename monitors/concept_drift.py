"""Concept drift: the input-to-label relation changing, told apart from inputs moving.

Detectors (configured by name; default all):

* ``label_drift``: the label distribution, window vs reference, with the drift test Evidently would
  choose for the reference labels (categorical for classification, numeric for regression).
* ``calibration_drift``: drift of ``P(label | prediction)``. Rows are stratified by the prediction
  (reference-decile bins of ``probability`` when a binary model logs it, else of a regression
  prediction, else the predicted class); in each stratum with at least :data:`MIN_STRATUM_ROWS`
  rows on both sides the label distribution (classes, or reference-quintile bins for regression)
  is compared with a Pearson chi-square homogeneity test on the 2 x C table; the statistics and
  degrees of freedom are summed over strata (independent strata). The value is the calibration shift: the total
  variation distance between the two label distributions per stratum, averaged with the window's
  stratum shares. Flagged when ``p < alpha`` and the shift is at least :data:`MIN_CALIBRATION_SHIFT`.
* ``adwin``, ``page_hinkley``, ``ddm``: change detection on the per-prediction error stream in
  time order (:mod:`driftscope.monitors.detectors`). Classification errors are ``label != prediction`` (0/1);
  regression errors are ``|label - prediction|`` divided by the reference mean absolute error for
  ADWIN and ``|error| > reference 90th percentile`` (0/1) for Page-Hinkley and DDM. A detector is
  flagged, and its change points stored as events, when the error went up at them (a drop in
  error is counted in the metric's details, not alerted on).
* ``domain_classifier``: features-only vs features + label AUC (:mod:`driftscope.monitors.domain_classifier`).

``concept_drift`` (the run's verdict) is the domain classifier's flag when it is configured,
otherwise the calibration test's: calibration shifts, error-rate changes and label drift also
follow inputs moving into regions where the model is poor or a change of the model's outputs,
while the domain-classifier gap conditions on the inputs. ``detectors_fired`` lists every flagged
detector. Fewer labelled rows than ``min_labels`` give status ``"insufficient_labels"`` throughout.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from driftscope.errors import NotFittedError, SchemaError
from driftscope.monitors import concept_registry, detectors
from driftscope.monitors.domain_classifier import MIN_ROWS_PER_SIDE, DomainClassifier
from driftscope.monitors.metrics import CLASSIFICATION, MetricResult
from driftscope.monitors.stattests import evaluate_columns, fit_reference, select_method
from driftscope.monitors.stattests.registry import get as get_test
from driftscope.monitors.windows import LABEL_COLUMN, as_like

DETECTORS = concept_registry.names()
DEFAULT_ALPHA = 0.01
MIN_CALIBRATION_SHIFT = 0.05
MIN_STRATUM_ROWS = 5
STRATA_BINS = 10
OUTCOME_BINS = 5
REGRESSION_ERROR_QUANTILE = 0.9


@dataclass(frozen=True)
class ConceptDriftResult:
    """Concept-drift figures of one window and the change points found in it."""

    metrics: tuple[MetricResult, ...]
    events: tuple[detectors.Detection, ...]
    n_rows: int
    n_labels: int
    label_coverage: float
    concept_drift: bool
    detectors_fired: tuple[str, ...]

    def summary(self) -> dict[str, Any]:
        """``MonitorRun.summary`` of a concept-drift run (see ``driftscope.storage.results``)."""
        return {"concept_drift": self.concept_drift, "detectors_fired": list(self.detectors_fired),
                "label_coverage": self.label_coverage}

    def metric_rows(self) -> list[dict[str, Any]]:
        """``metric_values`` rows."""
        return [m.row() for m in self.metrics]

    def event_rows(self) -> list[dict[str, Any]]:
        """``detector_events`` rows."""
        return [e.event() for e in self.events]


@dataclass(frozen=True, eq=False)
class _Levels:
    """Discretisation of one column: numeric bin edges, or a category index plus "other"."""

    edges: np.ndarray | None
    classes: pd.Index | None

    @classmethod
    def fit(cls, values: pd.Series, numeric: bool, bins: int) -> "_Levels":
        if numeric:
            numbers = values.to_numpy(np.float64)
            numbers = numbers[np.isfinite(numbers)]
            if numbers.size == 0:
                return cls(np.empty(0), None)
            return cls(np.unique(np.quantile(numbers, np.linspace(0, 1, bins + 1)[1:-1])), None)
        return cls(None, pd.Index(pd.unique(values.astype(str))))

    @property
    def size(self) -> int:
        if self.edges is not None:
            return self.edges.size + 1
        assert self.classes is not None, "a binning has bin edges or classes"
        return len(self.classes) + 1

    def codes(self, values: pd.Series) -> np.ndarray:
        if self.edges is not None:
            return np.searchsorted(self.edges, values.to_numpy(np.float64), side="right")
        assert self.classes is not None, "a binning has bin edges or classes"
        found = self.classes.get_indexer(pd.Index(values.astype(str)))
        return np.where(found < 0, self.size - 1, found)


class ConceptDriftMonitor:
    """Fit on the labelled reference, evaluate windows with a ``label`` column (see the module doc).

    Parameters
    ----------
    task : {"binary_classification", "multiclass_classification", "regression"}
    feature_types : mapping of feature name to type
    detectors : sequence of str, optional
        Names from :data:`DETECTORS`; default all.
    has_probability : bool
        Whether ``probability`` (of the positive class) is logged; used to stratify calibration.
    min_labels : int
        Labelled rows below which nothing is judged.
    alpha : float
        Significance level of the calibration and domain-classifier tests.
    seed : int
        Seed of the domain classifier's subsampling and folds.
    """

    def __init__(
        self, task: str, feature_types: dict[str, str], *, detectors: Sequence[str] | None = None,
        has_probability: bool = False, min_labels: int = 100, alpha: float = DEFAULT_ALPHA, seed: int = 0,
    ) -> None:
        self.task = task
        self.feature_types = dict(feature_types)
        self.detectors = tuple(detectors or DETECTORS)
        self.has_probability = has_probability
        self.min_labels = min_labels
        self.alpha = alpha
        self.seed = seed

    def fit(self, reference: pd.DataFrame) -> "ConceptDriftMonitor":
        """Learn the reference label distribution, calibration table, error level and domain sample."""
        unknown = sorted(set(self.detectors) - set(DETECTORS))
        if unknown:
            raise SchemaError(f"unknown concept-drift detectors {unknown}; valid: {', '.join(DETECTORS)}")
        missing = [c for c in (LABEL_COLUMN, "prediction") if c not in reference.columns]
        if missing:
            raise SchemaError(
                f"concept drift needs the target and the prediction in the reference data; it lacks "
                f"{missing} (canonical names); add them to the version's reference file"
            )
        self.label_like_ = reference[LABEL_COLUMN]
        labelled = self._labelled(reference)
        if labelled.empty:
            raise SchemaError("the reference data has no row with both a target and a prediction")
        self.regression_ = self.task not in CLASSIFICATION
        label_type = "numeric" if self.regression_ else "categorical"
        self.label_method_ = select_method(label_type, labelled[LABEL_COLUMN])
        self.label_profile_ = fit_reference(labelled[[LABEL_COLUMN]], {LABEL_COLUMN: label_type})
        self._fit_calibration(labelled)
        self._fit_errors(labelled)
        if "domain_classifier" in self.detectors:
            self.domain_ = DomainClassifier(self.feature_types, regression=self.regression_, seed=self.seed)
            self.domain_.fit(labelled)
        self.n_reference_ = len(reference)
        return self

    def evaluate(self, window: pd.DataFrame) -> ConceptDriftResult:
        """Judge the window's labelled rows (in time order) against the reference."""
        if not hasattr(self, "label_profile_"):
            raise NotFittedError("this ConceptDriftMonitor is not fitted: call fit(reference) first")
        ordered = window.sort_values("ts", kind="stable") if "ts" in window.columns else window
        labelled = self._labelled(ordered) if LABEL_COLUMN in window.columns else ordered.iloc[:0]
        n_labels = len(labelled)
        if n_labels < max(self.min_labels, MIN_ROWS_PER_SIDE):
            metrics = tuple(MetricResult(name, "insufficient_labels", None, n_labels) for name in self.detectors)
            events: tuple[detectors.Detection, ...] = ()
        else:
            metrics, events = self._judge(labelled)
        flags = {m.metric: m.flagged for m in metrics}
        decider = "domain_classifier" if "domain_classifier" in self.detectors else "calibration_drift"
        return ConceptDriftResult(
            metrics=metrics, events=events, n_rows=len(window), n_labels=n_labels,
            label_coverage=n_labels / len(window) if len(window) else 0.0,
            concept_drift=bool(flags.get(decider, False)),
            detectors_fired=tuple(name for name in self.detectors if flags.get(name)),
        )

    def _labelled(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Rows with a label and a prediction, both converted to the reference target's type."""
        out = frame.reset_index(drop=True)
        out = out.assign(**{
            LABEL_COLUMN: as_like(out[LABEL_COLUMN], self.label_like_).to_numpy(),
            "prediction": as_like(out["prediction"], self.label_like_).to_numpy(),
        })
        return out[out[LABEL_COLUMN].notna() & out["prediction"].notna()].reset_index(drop=True)

    def _judge(self, labelled: pd.DataFrame) -> tuple[tuple[MetricResult, ...], tuple[detectors.Detection, ...]]:
        metrics: list[MetricResult] = []
        events: list[detectors.Detection] = []
        errors = self._errors(labelled)
        for name in self.detectors:
            if name == "label_drift":
                metrics.append(self._label_drift(labelled))
            elif name == "calibration_drift":
                metrics.append(self._calibration(labelled))
            elif name == "domain_classifier":
                metrics.extend(self._domain(labelled))
            else:
                stream = errors[1] if name in detectors.BINARY_STREAM else errors[0]
                found = detectors.detect(name, self.primed_[name], stream, labelled["ts"], self.levels_[name])
                events.extend(d for d in found if d.increase)
                metrics.append(_stream_metric(name, found, stream, self.levels_[name]))
        return tuple(metrics), tuple(events)

    def _label_drift(self, labelled: pd.DataFrame) -> MetricResult:
        test = evaluate_columns(self.label_profile_, labelled[[LABEL_COLUMN]], {LABEL_COLUMN: self.label_method_})[0]
        kind = get_test(test.method).kind
        return MetricResult(
            "label_drift", "ok" if test.status == "ok" else "insufficient_labels", test.statistic, test.n_current,
            threshold=test.threshold, p_value=test.p_value, flagged=test.drifted,
            details={"method": test.method, "verdict_on": "p_value" if kind == "p_value" else "statistic"},
        )

    def _fit_calibration(self, labelled: pd.DataFrame) -> None:
        binary = self.task == "binary_classification"
        if binary and self.has_probability and "probability" in labelled.columns:
            self.stratify_by_ = "probability"
            self.strata_ = _Levels.fit(pd.to_numeric(labelled["probability"]), True, STRATA_BINS)
        else:
            self.stratify_by_ = "prediction"
            self.strata_ = _Levels.fit(labelled["prediction"], self.regression_, STRATA_BINS)
        self.outcomes_ = _Levels.fit(labelled[LABEL_COLUMN], self.regression_, OUTCOME_BINS)
        self.calibration_counts_ = self._table(labelled)

    def _table(self, labelled: pd.DataFrame) -> np.ndarray:
        """Counts of (stratum, outcome) pairs; rows without a probability are left out."""
        if self.stratify_by_ == "probability":
            probability = pd.to_numeric(labelled["probability"])
            labelled = labelled[np.isfinite(probability.to_numpy(np.float64))]
            column = pd.to_numeric(labelled["probability"])
        else:
            column = labelled["prediction"]
        strata = self.strata_.codes(column)
        cells = strata * self.outcomes_.size + self.outcomes_.codes(labelled[LABEL_COLUMN])
        counts = np.bincount(cells, minlength=self.strata_.size * self.outcomes_.size)
        return counts.reshape(self.strata_.size, self.outcomes_.size)

    def _calibration(self, labelled: pd.DataFrame) -> MetricResult:
        statistic, df, shift = calibration_test(self.calibration_counts_, self._table(labelled))
        p_value = float(stats.chi2.sf(statistic, df)) if df > 0 else None
        flagged = p_value is not None and p_value < self.alpha and shift >= MIN_CALIBRATION_SHIFT
        return MetricResult(
            "calibration_drift", "ok" if df > 0 else "insufficient_labels", shift, len(labelled),
            threshold=self.alpha, p_value=p_value, flagged=flagged,
            details={"chi2": statistic, "df": df, "stratified_by": self.stratify_by_,
                     "min_shift": MIN_CALIBRATION_SHIFT},
        )

    def _fit_errors(self, labelled: pd.DataFrame) -> None:
        streams = [s for s in detectors.STREAM_DETECTORS if s in self.detectors]
        absolute = None
        if self.regression_:
            absolute = np.abs(labelled[LABEL_COLUMN].to_numpy(float) - labelled["prediction"].to_numpy(float))
            self.error_scale_ = max(float(absolute.mean()), np.finfo(float).eps)
            self.error_cut_ = float(np.quantile(absolute, REGRESSION_ERROR_QUANTILE))
        errors = self._errors(labelled)
        self.primed_ = {}
        self.levels_ = {}
        for name in streams:
            stream = errors[1] if name in detectors.BINARY_STREAM else errors[0]
            self.primed_[name] = detectors.primed(name, stream)
            self.levels_[name] = float(stream[: detectors.PRIME_ROWS].mean())

    def _errors(self, labelled: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """(error values as float64, error indicator as bool) of each labelled row."""
        if not self.regression_:
            wrong = (labelled[LABEL_COLUMN].to_numpy(object) != labelled["prediction"].to_numpy(object)).astype(bool)
            return wrong.astype(np.float64), wrong
        absolute = np.abs(labelled[LABEL_COLUMN].to_numpy(float) - labelled["prediction"].to_numpy(float))
        return absolute / self.error_scale_, absolute > self.error_cut_

    def _domain(self, labelled: pd.DataFrame) -> list[MetricResult]:
        result = self.domain_.evaluate(labelled)
        details = {"auc_features": result.auc_features, "auc_features_label": result.auc_features_label,
                   "n_reference": result.n_reference, "n_current": result.n_current, **self.domain_.settings()}
        n = result.n_reference + result.n_current
        return [
            MetricResult("domain_classifier", "ok", result.gap, n, threshold=self.alpha, p_value=result.p_value,
                         flagged=result.flagged, details=details),
            MetricResult("domain_auc_features", "ok", result.auc_features, n),
            MetricResult("domain_auc_features_label", "ok", result.auc_features_label, n),
        ]


def calibration_test(reference: np.ndarray, current: np.ndarray) -> tuple[float, int, float]:
    """Summed chi-square homogeneity statistic, its degrees of freedom and the calibration shift.

    ``reference`` and ``current`` are ``(strata, outcomes)`` count tables.

    Examples
    --------
    >>> ref = np.array([[80, 20], [20, 80]])
    >>> statistic, df, shift = calibration_test(ref, np.array([[80, 20], [20, 80]]))
    >>> statistic, df, shift
    (0.0, 2, 0.0)
    >>> round(calibration_test(ref, np.array([[20, 80], [80, 20]]))[2], 6)
    0.6
    """
    n_ref, n_cur = reference.sum(axis=1), current.sum(axis=1)
    used = (n_ref >= MIN_STRATUM_ROWS) & (n_cur >= MIN_STRATUM_ROWS)
    ref, cur = reference[used].astype(np.float64), current[used].astype(np.float64)
    n_ref, n_cur = n_ref[used].astype(np.float64), n_cur[used].astype(np.float64)
    if not used.any():
        return 0.0, 0, 0.0
    columns = ref + cur
    present = columns > 0
    expected_ref = n_ref[:, None] * columns / (n_ref + n_cur)[:, None]
    expected_cur = n_cur[:, None] * columns / (n_ref + n_cur)[:, None]
    safe_ref, safe_cur = np.where(present, expected_ref, 1.0), np.where(present, expected_cur, 1.0)
    cells = np.where(present, (ref - expected_ref) ** 2 / safe_ref + (cur - expected_cur) ** 2 / safe_cur, 0.0)
    df = int((present.sum(axis=1) - 1).clip(min=0).sum())
    tvd = 0.5 * np.abs(ref / n_ref[:, None] - cur / n_cur[:, None]).sum(axis=1)
    shift = float((tvd * n_cur).sum() / n_cur.sum())
    return float(cells.sum()), df, shift


def _stream_metric(
    name: str, found: tuple[detectors.Detection, ...], stream: np.ndarray, level: float
) -> MetricResult:
    increases = [d for d in found if d.increase]
    return MetricResult(
        name, "ok", float(len(found)), int(stream.size), flagged=bool(increases),
        details={
            "n_detections": len(found), "n_increases": len(increases),
            "first_detected_at": found[0].detected_at.isoformat() if found else None,
            "error_reference": level, "error_current": float(stream.mean()) if stream.size else None,
        },
    )
