"""Performance drift: metrics of a window's labelled predictions against the reference performance.

Each metric (:mod:`driftscope.monitors.metrics`) comes with a percentile bootstrap interval and a one-sided
bootstrap test of "no drop from the reference value" (:func:`driftscope.monitors.bootstrap.drop_p_value`): the
reference's bootstrap distribution is computed once at ``fit`` (seed ``seed + 1``), each window's at
``evaluate`` (seed ``seed``), ``n_bootstrap`` resamples each. The p-values of one window are
Holm-Bonferroni adjusted across its metrics (stored adjusted; the raw one in
``details["p_value_unadjusted"]``), so a window without change is called degraded with
probability at most ``alpha`` however many metrics are monitored. A metric is flagged when its
adjusted p-value is below ``alpha`` and it is worse than the reference value. Below
``min_labels`` labelled rows the figures are reported with status ``"insufficient_labels"`` and
no verdict.

With ``thresholds="calibrated"`` the drop test is calibrated instead (docs/statistics.md,
"Calibrated performance drops"): the null is the reference's own metric at the window's label
count. For the window's size band (:mod:`driftscope.monitors.calibration.bands`, drawn at the
band's lower edge ``n``, where the spread is largest) ``n_bootstrap`` resamples of ``n`` reference
rows (seed ``seed + 2``) are paired with the reference's bootstrap at its own size, and the null
draws are the drops ``reference_b - window_b`` (``window_b - reference_b`` when lower is better).
The window's p-value is the Monte Carlo ``(1 + #{draws >= drop}) / (B + 1)``; p-values are Holm
adjusted across metrics and a metric is flagged when its adjusted p-value is at most
``false_alarm_rate`` and it is worse. The draws are computed once per reference, metric and band
and kept in ``null_cache`` (the runner's keeps them in the store).
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from driftscope.errors import NotFittedError, SchemaError
from driftscope.modelspec import probability_column
from driftscope.monitors.bootstrap import (
    DEFAULT_CONFIDENCE,
    DEFAULT_RESAMPLES,
    DEFAULT_SEED,
    drop_p_value,
    percentile_interval,
    resample,
)
from driftscope.monitors.calibrated_drift import MemoryNullCache, NullCache
from driftscope.monitors.calibration.bands import band_size, size_band
from driftscope.monitors.calibration.null import NullDistribution
from driftscope.monitors.metrics import (
    CLASSIFICATION,
    METRICS,
    Metric,
    MetricData,
    MetricResult,
    classification_data,
    default_metrics,
    regression_data,
)
from driftscope.monitors.windows import LABEL_COLUMN, as_like

DEFAULT_ALPHA = 0.05
DEFAULT_MIN_LABELS = 100
DEFAULT_FALSE_ALARM_RATE = 0.01
THRESHOLD_MODES = ("fixed", "calibrated")
NULL_COLUMN = "(performance)"
"""The column name under which a performance monitor keeps its calibrated nulls (one per metric and band)."""


@dataclass(frozen=True)
class PerformanceResult:
    """Performance of one window: one :class:`MetricResult` per metric, label coverage and verdict.

    ``verdict`` is ``"insufficient_labels"`` below ``min_labels`` labelled rows, else
    ``"degraded"`` when any metric dropped significantly, else ``"ok"``.
    """

    metrics: tuple[MetricResult, ...]
    n_rows: int
    n_labels: int
    label_coverage: float
    verdict: str

    def summary(self) -> dict[str, Any]:
        """``MonitorRun.summary`` of a performance run (see ``driftscope.storage.results``)."""
        return {"label_coverage": self.label_coverage, "verdict": self.verdict}

    def metric_rows(self) -> list[dict[str, Any]]:
        """``metric_values`` rows."""
        return [m.row() for m in self.metrics]


class PerformanceMonitor:
    """Fit on the reference (with its target), evaluate windows with a ``label`` column.

    Parameters
    ----------
    task : {"binary_classification", "multiclass_classification", "regression"}
    metrics : sequence of str, optional
        Metric names; default every metric of the task (probability metrics only with a probability).
    has_probability : bool
        Whether the schema logs ``probability`` (of ``positive_label``), or per-class
        ``probabilities`` (multiclass; then ``probability_classes`` names the classes).
    probability_classes : sequence of str, optional
        Classes with a logged probability column ``probability:<class>`` (multiclass tasks).
    positive_label : Any
        The positive class of binary tasks, converted to the reference target's type.
    min_labels : int
        Labelled rows below which no verdict is given.
    n_bootstrap : int
        Bootstrap resamples per distribution.
    confidence, alpha : float
        Interval coverage and the significance level of the drop test.
    seed : int
        Seed of the resampling (results are reproducible).
    thresholds : {"fixed", "calibrated"}
        ``fixed``: the one-sided bootstrap drop test at ``alpha``; ``calibrated``: the reference's
        metric at the window's label count is the null, judged at ``false_alarm_rate``.
    false_alarm_rate : float
        Calibrated mode: the chance that a window without change is called degraded (Holm across metrics).
    null_cache : NullCache, optional
        Calibrated mode: where null draws are kept between windows (default: in memory).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 400)
    >>> reference = pd.DataFrame({"prediction": y, "label": y})
    >>> window = pd.DataFrame({"prediction": y, "label": np.where(rng.uniform(size=400) < 0.3, 1 - y, y)})
    >>> monitor = PerformanceMonitor("binary_classification", metrics=["accuracy"]).fit(reference)
    >>> result = monitor.evaluate(window)
    >>> result.verdict, result.metrics[0].reference_value, result.metrics[0].flagged
    ('degraded', 1.0, True)
    """

    def __init__(
        self,
        task: str,
        *,
        metrics: Sequence[str] | None = None,
        has_probability: bool = False,
        probability_classes: Sequence[str] | None = None,
        positive_label: Any = 1,
        min_labels: int = DEFAULT_MIN_LABELS,
        n_bootstrap: int = DEFAULT_RESAMPLES,
        confidence: float = DEFAULT_CONFIDENCE,
        alpha: float = DEFAULT_ALPHA,
        seed: int = DEFAULT_SEED,
        thresholds: str = "fixed",
        false_alarm_rate: float = DEFAULT_FALSE_ALARM_RATE,
        null_cache: NullCache | None = None,
    ) -> None:
        self.task = task
        self.metrics = metrics
        self.has_probability = has_probability
        self.probability_classes = probability_classes
        self.positive_label = positive_label
        self.min_labels = min_labels
        self.n_bootstrap = n_bootstrap
        self.confidence = confidence
        self.alpha = alpha
        self.seed = seed
        self.thresholds = thresholds
        self.false_alarm_rate = false_alarm_rate
        self.null_cache = null_cache

    def fit(self, reference: pd.DataFrame) -> "PerformanceMonitor":
        """Resolve the metrics and compute the reference performance and its bootstrap distribution."""
        if self.thresholds not in THRESHOLD_MODES:
            raise ValueError(f"thresholds must be one of {THRESHOLD_MODES}, got {self.thresholds!r}")
        if self.thresholds == "calibrated" and self.false_alarm_rate * (self.n_bootstrap + 1) < 1:
            raise ValueError(f"{self.n_bootstrap} resamples cannot resolve false_alarm_rate={self.false_alarm_rate}: "
                             f"raise n_bootstrap to at least {int(np.ceil(1 / self.false_alarm_rate))}")
        self.metrics_ = _resolve_metrics(self.task, self.metrics, self.has_probability)
        self.null_cache_ = self.null_cache if self.null_cache is not None else MemoryNullCache()
        self.label_like_ = reference.get(LABEL_COLUMN)
        self.n_reference_ = len(reference)
        data = self._prepare(reference) if self.label_like_ is not None else None
        self.reference_values_: dict[str, float] = {}
        self.reference_samples_: dict[str, np.ndarray] = {}
        self.reference_data_ = data
        if data is not None and data.n:
            self.reference_values_ = {m.name: float(m.func(data, np.ones((1, data.n)))[0]) for m in self.metrics_}
            self.reference_samples_ = resample(
                {m.name: _bound(m, data) for m in self.metrics_}, data.n, self.n_bootstrap, self.seed + 1
            )
        return self

    def evaluate(self, window: pd.DataFrame) -> PerformanceResult:
        """Metrics of the window's labelled rows (``label`` not missing) against the reference."""
        if not hasattr(self, "metrics_"):
            raise NotFittedError("this PerformanceMonitor is not fitted: call fit(reference) first")
        n_rows = len(window)
        data = self._prepare(window) if LABEL_COLUMN in window else None
        n_labels = 0 if data is None else data.n
        if data is None or n_labels == 0:
            results = tuple(self._empty(m) for m in self.metrics_)
        else:
            values = {m.name: float(m.func(data, np.ones((1, n_labels)))[0]) for m in self.metrics_}
            samples = resample({m.name: _bound(m, data) for m in self.metrics_}, n_labels, self.n_bootstrap, self.seed)
            results = _holm(tuple(self._judge(m, values[m.name], samples[m.name], n_labels) for m in self.metrics_),
                            self.level, inclusive=self.thresholds == "calibrated")
        coverage = n_labels / n_rows if n_rows else 0.0
        if n_labels < self.min_labels:
            verdict = "insufficient_labels"
        else:
            verdict = "degraded" if any(r.flagged for r in results) else "ok"
        return PerformanceResult(results, n_rows, n_labels, coverage, verdict)

    def _prepare(self, frame: pd.DataFrame) -> MetricData:
        """Labelled rows with a prediction, converted to the reference target's type."""
        like = self.label_like_
        y_true = as_like(frame[LABEL_COLUMN].reset_index(drop=True), like)
        y_pred = as_like(frame["prediction"].reset_index(drop=True), like)
        keep = (y_true.notna() & y_pred.notna()).to_numpy()
        y_true, y_pred = y_true[keep], y_pred[keep]
        if self.task not in CLASSIFICATION:
            return regression_data(y_true, y_pred)
        probability = None
        if self.has_probability and "probability" in frame:
            probability = frame["probability"].reset_index(drop=True)[keep]
        positive = as_like(pd.Series([self.positive_label], dtype=object), like).iloc[0]
        return classification_data(
            y_true, y_pred, binary=self.task == "binary_classification", positive_label=positive,
            probability=probability, probabilities=class_probabilities(frame, self.probability_classes, like, keep),
        )

    @property
    def level(self) -> float:
        """The level adjusted p-values are judged at: ``alpha`` (fixed) or ``false_alarm_rate`` (calibrated)."""
        return self.false_alarm_rate if self.thresholds == "calibrated" else self.alpha

    def _details(self, metric: Metric) -> dict[str, Any]:
        return {
            "higher_is_better": metric.higher_is_better, "confidence": self.confidence,
            "n_bootstrap": self.n_bootstrap, "seed": self.seed, "min_labels": self.min_labels,
            "thresholds": self.thresholds,
        }

    def _null(self, metric: Metric, n: int) -> NullDistribution:
        """Drops of the reference's metric at ``n`` labels (the lower edge of ``n``'s band) against its own value."""
        band = size_band(n)
        null = self.null_cache_.get(NULL_COLUMN, metric.name, band)
        if null is not None:
            return null
        data, n_null = self.reference_data_, band_size(band, metric.name)
        if data is None:
            raise SchemaError("calibrated performance thresholds need the reference's labels (a 'label' column)")
        window = resample({metric.name: _bound(metric, data)}, data.n, self.n_bootstrap, self.seed + 2,
                          size_drawn=n_null)[metric.name]
        reference = self.reference_samples_[metric.name]
        size = min(window.size, reference.size)
        drops = reference[:size] - window[:size] if metric.higher_is_better else window[:size] - reference[:size]
        null = NullDistribution(metric.name, band, n_null, data.n, np.sort(drops[np.isfinite(drops)]))
        self.null_cache_.put(NULL_COLUMN, null)
        return null

    def _calibrated_p(self, metric: Metric, value: float, reference: float, n: int) -> tuple[float, dict[str, Any]]:
        null = self._null(metric, n)
        drop = reference - value if metric.higher_is_better else value - reference
        details = {"false_alarm_rate": self.false_alarm_rate, "size_band": null.band, "n_null": null.n_window,
                   "drop": drop, "drop_threshold": null.threshold(self.false_alarm_rate)}
        return null.p_value(drop), details

    def _empty(self, metric: Metric) -> MetricResult:
        return MetricResult(
            metric.name, "insufficient_labels", None, 0, reference_value=self.reference_values_.get(metric.name),
            threshold=self.level, details=self._details(metric),
        )

    def _judge(self, metric: Metric, value: float, samples: np.ndarray, n: int) -> MetricResult:
        reference = self.reference_values_.get(metric.name)
        interval = percentile_interval(samples, self.confidence) or (None, None)
        common: dict[str, Any] = {
            "metric": metric.name, "value": value, "n": n, "ci_low": interval[0], "ci_high": interval[1],
            "reference_value": reference, "threshold": self.level, "details": self._details(metric),
        }
        if not np.isfinite(value):
            return MetricResult(status="undefined", **common)
        if n < self.min_labels:
            return MetricResult(status="insufficient_labels", **common)
        reference_samples = self.reference_samples_.get(metric.name)
        if reference is None or reference_samples is None:
            return MetricResult(status="ok", **common)
        if self.thresholds == "calibrated":
            calibrated_p, extra = self._calibrated_p(metric, value, reference, n)
            return MetricResult(status="ok", p_value=calibrated_p,
                                **{**common, "details": {**common["details"], **extra}})
        p_value = drop_p_value(samples, reference_samples, higher_is_better=metric.higher_is_better)
        return MetricResult(status="ok", p_value=p_value, **common)


def class_probabilities(
    frame: pd.DataFrame, classes: Sequence[str] | None, like: pd.Series | None, keep: np.ndarray | None = None,
) -> pd.DataFrame | None:
    """The ``probability:<class>`` columns of ``frame`` renamed to the classes as the labels spell them.

    Class names from the schema are text; they are converted like the labels (:func:`as_like`), so
    the class ``"1"`` of a numeric target names the label ``1.0``. None without ``classes``.
    """
    if not classes:
        return None
    names = as_like(pd.Series(list(classes), dtype=object), like).tolist()
    columns = {name: frame[probability_column(cls)].to_numpy() for cls, name in zip(classes, names, strict=True)}
    out = pd.DataFrame(columns)
    return out if keep is None else out[keep].reset_index(drop=True)


def holm_adjust(p_values: np.ndarray) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values: ``max_{j <= i} min(1, (m - j + 1) p_(j))`` in sorted order.

    Examples
    --------
    >>> holm_adjust(np.array([0.01, 0.04, 0.03])).round(4).tolist()
    [0.03, 0.06, 0.06]
    """
    order = np.argsort(p_values, kind="stable")
    m = p_values.size
    scaled = np.minimum(1.0, (m - np.arange(m)) * p_values[order])
    adjusted = np.empty(m)
    adjusted[order] = np.maximum.accumulate(scaled)
    return adjusted


def _holm(results: tuple[MetricResult, ...], alpha: float, *, inclusive: bool = False) -> tuple[MetricResult, ...]:
    """Adjust the drop tests of one window across its metrics and flag the significant drops.

    Significant: adjusted p below ``alpha`` (at most ``alpha`` when ``inclusive``, the Monte Carlo convention).
    """
    tested = [i for i, r in enumerate(results) if r.p_value is not None]
    if not tested:
        return results
    adjusted = holm_adjust(np.array([results[i].p_value for i in tested]))
    out = list(results)
    for i, p_value in zip(tested, adjusted, strict=True):
        r = results[i]
        value, reference = r.value, r.reference_value
        assert value is not None and reference is not None, "a drop test implies a value and a reference"
        worse = value < reference if r.details["higher_is_better"] else value > reference
        significant = p_value <= alpha if inclusive else p_value < alpha
        out[i] = replace(r, p_value=float(p_value), flagged=bool(significant and worse),
                         details={**r.details, "p_value_unadjusted": r.p_value})
    return tuple(out)


def _bound(metric: Metric, data: MetricData) -> Any:
    return lambda weights: metric.func(data, weights)


def _resolve_metrics(task: str, names: Sequence[str] | None, has_probability: bool) -> tuple[Metric, ...]:
    chosen = list(names) if names else list(default_metrics(task, has_probability))
    resolved = []
    for name in chosen:
        metric = METRICS.get(name)
        if metric is None:
            raise SchemaError(f"unknown metric {name!r}; valid: {', '.join(METRICS)}")
        if task not in metric.tasks:
            raise SchemaError(f"metric {name!r} does not apply to a {task} model; remove it from 'metrics'")
        if metric.needs_probability and not has_probability:
            raise SchemaError(
                f"metric {name!r} needs the probability of the positive class: set schema.probability "
                "or remove the metric from 'metrics'"
            )
        resolved.append(metric)
    return tuple(resolved)
