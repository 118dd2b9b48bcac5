"""Performance metrics as weighted statistics, their registry, and the stored metric result.

Every metric takes prepared labelled rows and a ``(B, n)`` array of row weights and returns ``B``
values: with all-ones weights that is the ordinary metric (checked against scikit-learn), with
bootstrap count weights (:mod:`driftscope.monitors.bootstrap`) it is ``B`` resampled values at once.

Conventions (scikit-learn's unless stated):

* Binary tasks: the positive class is the schema's ``positive_label``; ``probability`` is the
  probability of that class. Multiclass tasks: precision, recall and F1 are macro averages; with
  ``probabilities`` (one column per class, used as logged, not renormalised) ROC AUC is
  one-vs-rest, macro (``roc_auc``) or weighted by each class's share of labels
  (``roc_auc_weighted``), over the classes with both positives and negatives in the rows;
  log loss is ``-mean ln p[y]``; Brier is ``mean Σ_k (p_k - [y = k])²`` (Brier's 1950 original,
  range [0, 2], = scikit-learn's ``brier_score_loss(..., scale_by_half=False)``); for a binary
  task Brier is ``mean (p - y)²`` (range [0, 1]).
* A ratio with a zero denominator (no predicted positives for precision...) is 0.0, like
  scikit-learn's ``zero_division=0``. ROC AUC with one class only and R² with a constant target are
  undefined (NaN; stored as status ``"undefined"``).
* ``EPS`` = float64 machine epsilon (2.22e-16): log loss clips probabilities to ``[EPS, 1 - EPS]``
  and uses the natural log; MAPE divides by ``max(|y|, EPS)`` and is a fraction (0.1 = 10 %).
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from driftscope.monitors.metric_registry import CLASSIFICATION as CLASSIFICATION
from driftscope.monitors.metric_registry import REGRESSION as REGRESSION
from driftscope.monitors.metric_registry import SPECS, MetricSpec
from driftscope.monitors.metric_registry import default_metrics as default_metrics

EPS = float(np.finfo(np.float64).eps)


@dataclass(frozen=True, eq=False)
class ClassificationData:
    """Labelled classification rows: one-hot true and predicted classes, positives, probability."""

    true_onehot: np.ndarray
    pred_onehot: np.ndarray
    true_positive: np.ndarray
    pred_positive: np.ndarray
    probability: np.ndarray
    binary: bool
    proba_matrix: np.ndarray | None = None

    @property
    def n(self) -> int:
        """Number of labelled rows."""
        return self.true_onehot.shape[0]


@dataclass(frozen=True, eq=False)
class RegressionData:
    """Labelled regression rows: target and prediction as float64."""

    y: np.ndarray
    y_hat: np.ndarray

    @property
    def n(self) -> int:
        """Number of labelled rows."""
        return self.y.size


MetricData = ClassificationData | RegressionData


def classification_data(
    y_true: pd.Series, y_pred: pd.Series, *, binary: bool, positive_label: Any = 1,
    probability: pd.Series | None = None, probabilities: pd.DataFrame | None = None,
) -> ClassificationData:
    """Prepare rows for the classification metrics (missing labels must be dropped before).

    ``probabilities`` (multiclass) has one column per class, named by the class as the labels
    spell it; classes are the sorted union of labels, predictions and these columns.

    Examples
    --------
    >>> data = classification_data(pd.Series([1, 0, 1]), pd.Series([1, 1, 1]), binary=True)
    >>> data.n, data.true_positive.tolist(), data.pred_onehot.sum(axis=0).tolist()
    (3, [1.0, 0.0, 1.0], [0.0, 3.0])
    """
    named = [] if probabilities is None else list(probabilities.columns)
    both = pd.concat([pd.Series(y_true, dtype=object), pd.Series(y_pred, dtype=object),
                      pd.Series(named, dtype=object)], ignore_index=True)
    codes, classes = pd.factorize(both, sort=True)
    eye = np.eye(max(len(classes), 1))
    n = len(y_true)
    proba = np.full(n, np.nan) if probability is None else pd.to_numeric(probability).to_numpy(np.float64)
    matrix = None
    if probabilities is not None:
        matrix = np.full((n, len(classes)), 0.0)
        matrix[:, codes[2 * n:]] = probabilities.apply(pd.to_numeric).to_numpy(np.float64)
    return ClassificationData(
        true_onehot=eye[codes[:n]],
        pred_onehot=eye[codes[n:2 * n]],
        true_positive=(np.asarray(y_true, dtype=object) == positive_label).astype(np.float64),
        pred_positive=(np.asarray(y_pred, dtype=object) == positive_label).astype(np.float64),
        probability=proba,
        binary=binary,
        proba_matrix=matrix,
    )


def regression_data(y_true: pd.Series, y_pred: pd.Series) -> RegressionData:
    """Prepare rows for the regression metrics."""
    return RegressionData(np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64))


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    safe = np.where(denominator > 0, denominator, 1.0)
    return np.where(denominator > 0, numerator / safe, 0.0)


def _mean(weights: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Weighted mean per row of ``weights`` over the finite ``values`` (NaN where none)."""
    valid = np.isfinite(values)
    total = weights @ valid.astype(np.float64)
    summed = weights @ np.where(valid, values, 0.0)
    return np.where(total > 0, summed / np.where(total > 0, total, 1.0), np.nan)


def _class_counts(data: ClassificationData, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted true positives, false positives and false negatives per class, shape ``(B, K)``."""
    tp = weights @ (data.true_onehot * data.pred_onehot)
    return tp, weights @ data.pred_onehot - tp, weights @ data.true_onehot - tp


def _macro(scores: np.ndarray, present: np.ndarray) -> np.ndarray:
    counted = present.sum(axis=1)
    return np.where(counted > 0, (scores * present).sum(axis=1) / np.maximum(counted, 1), 0.0)


def accuracy(data: ClassificationData, weights: np.ndarray) -> np.ndarray:
    """Share of rows whose predicted class equals the label."""
    return _mean(weights, (data.true_onehot * data.pred_onehot).sum(axis=1))


def precision(data: ClassificationData, weights: np.ndarray) -> np.ndarray:
    """TP / (TP + FP) of the positive class (binary) or its macro average over present classes."""
    if data.binary:
        return _ratio(weights @ (data.true_positive * data.pred_positive), weights @ data.pred_positive)
    tp, fp, fn = _class_counts(data, weights)
    return _macro(_ratio(tp, tp + fp), (tp + fp + fn) > 0)


def recall(data: ClassificationData, weights: np.ndarray) -> np.ndarray:
    """TP / (TP + FN) of the positive class (binary) or its macro average over present classes."""
    if data.binary:
        return _ratio(weights @ (data.true_positive * data.pred_positive), weights @ data.true_positive)
    tp, fp, fn = _class_counts(data, weights)
    return _macro(_ratio(tp, tp + fn), (tp + fp + fn) > 0)


def f1(data: ClassificationData, weights: np.ndarray) -> np.ndarray:
    """2 TP / (2 TP + FP + FN) of the positive class (binary); macro F1 for multiclass tasks."""
    if not data.binary:
        return f1_macro(data, weights)
    tp = weights @ (data.true_positive * data.pred_positive)
    fp = weights @ data.pred_positive - tp
    fn = weights @ data.true_positive - tp
    return _ratio(2 * tp, 2 * tp + fp + fn)


def specificity(data: ClassificationData, weights: np.ndarray) -> np.ndarray:
    """TN / (TN + FP) of the positive class (binary) or its macro average over present classes."""
    if data.binary:
        negative = 1.0 - data.true_positive
        return _ratio(weights @ (negative * (1.0 - data.pred_positive)), weights @ negative)
    tp, fp, fn = _class_counts(data, weights)
    tn = weights.sum(axis=1, keepdims=True) - tp - fp - fn
    return _macro(_ratio(tn, tn + fp), (tp + fp + fn) > 0)


def f1_macro(data: ClassificationData, weights: np.ndarray) -> np.ndarray:
    """Unweighted mean of per-class F1 over the classes present in labels or predictions."""
    tp, fp, fn = _class_counts(data, weights)
    return _macro(_ratio(2 * tp, 2 * tp + fp + fn), (tp + fp + fn) > 0)


def roc_auc(data: ClassificationData, weights: np.ndarray) -> np.ndarray:
    """Area under the ROC curve of ``probability`` for the positive class (ties count 1/2);
    multiclass: the unweighted mean of the one-vs-rest AUCs of the classes with positives and negatives."""
    if data.proba_matrix is None:
        return weighted_roc_auc(data.probability, data.true_positive, weights)
    aucs = _ovr_aucs(data, weights)
    finite = np.isfinite(aucs)
    counted = finite.sum(axis=1)
    return np.where(counted > 0, np.where(finite, aucs, 0.0).sum(axis=1) / np.maximum(counted, 1), np.nan)


def roc_auc_weighted(data: ClassificationData, weights: np.ndarray) -> np.ndarray:
    """One-vs-rest ROC AUC averaged with each class's (weighted) count of labels as its weight (multiclass)."""
    aucs = _ovr_aucs(data, weights)
    support = np.where(np.isfinite(aucs), weights @ data.true_onehot, 0.0)
    total = support.sum(axis=1)
    summed = (np.where(np.isfinite(aucs), aucs, 0.0) * support).sum(axis=1)
    return np.where(total > 0, summed / np.where(total > 0, total, 1.0), np.nan)


def _ovr_aucs(data: ClassificationData, weights: np.ndarray) -> np.ndarray:
    """One-vs-rest AUC per weight row and class, shape ``(B, K)`` (NaN where a class is one-sided)."""
    matrix = _require_matrix(data)
    return np.stack([weighted_roc_auc(matrix[:, k], data.true_onehot[:, k], weights)
                     for k in range(matrix.shape[1])], axis=1)


def _require_matrix(data: ClassificationData) -> np.ndarray:
    if data.proba_matrix is None:
        raise ValueError("multiclass probability metrics need the per-class probabilities (schema.probabilities)")
    return data.proba_matrix


def log_loss(data: ClassificationData, weights: np.ndarray) -> np.ndarray:
    """Mean of -[y ln p + (1 - y) ln(1 - p)], p clipped to [EPS, 1 - EPS], natural log;
    multiclass: mean of -ln p[y], the logged probability of the true class clipped alike."""
    if data.proba_matrix is not None:
        p_true = np.clip((data.proba_matrix * data.true_onehot).sum(axis=1), EPS, 1.0 - EPS)
        return _mean(weights, -np.log(p_true))
    p = np.clip(data.probability, EPS, 1.0 - EPS)
    y = data.true_positive
    return _mean(weights, -(y * np.log(p) + (1.0 - y) * np.log1p(-p)))


def brier(data: ClassificationData, weights: np.ndarray) -> np.ndarray:
    """Mean of (p - y)², y = 1 for the positive class, p its probability (range [0, 1]);
    multiclass: mean of Σ_k (p_k - [y = k])² over the classes (range [0, 2])."""
    if data.proba_matrix is not None:
        return _mean(weights, ((data.proba_matrix - data.true_onehot) ** 2).sum(axis=1))
    return _mean(weights, (data.probability - data.true_positive) ** 2)


def mae(data: RegressionData, weights: np.ndarray) -> np.ndarray:
    """Mean of |y - ŷ|, in the target's unit."""
    return _mean(weights, np.abs(data.y - data.y_hat))


def rmse(data: RegressionData, weights: np.ndarray) -> np.ndarray:
    """Square root of the mean of (y - ŷ)², in the target's unit."""
    return np.sqrt(_mean(weights, (data.y - data.y_hat) ** 2))


def mape(data: RegressionData, weights: np.ndarray) -> np.ndarray:
    """Mean of |y - ŷ| / max(|y|, EPS), as a fraction; zero targets are kept (divided by EPS)."""
    return _mean(weights, np.abs(data.y - data.y_hat) / np.maximum(np.abs(data.y), EPS))


def r2(data: RegressionData, weights: np.ndarray) -> np.ndarray:
    """1 - Σw(y - ŷ)² / Σw(y - ȳ)² with ȳ the weighted mean; NaN (not sklearn's 0 or 1) for a constant target."""
    centred = data.y - data.y.mean() if data.n else data.y
    total = weights.sum(axis=1)
    mean_c = (weights @ centred) / np.where(total > 0, total, 1.0)
    ss_res = weights @ (data.y - data.y_hat) ** 2
    ss_tot = np.maximum(weights @ centred**2 - total * mean_c**2, 0.0)
    return np.where(ss_tot > 0, 1.0 - ss_res / np.where(ss_tot > 0, ss_tot, 1.0), np.nan)


def weighted_roc_auc(scores: np.ndarray, positive: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """ROC AUC per row of ``weights``: P(score of a positive > score of a negative), ties 1/2.

    Rows with a non-finite score are ignored. One sort of the scores serves all weight rows; tied
    scores are grouped so each group's negatives count half (the Mann-Whitney convention,
    identical to ``sklearn.metrics.roc_auc_score``). NaN where a row has no positive or negative.

    Examples
    --------
    >>> weighted_roc_auc(np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1]), np.ones((1, 4)))
    array([0.75])
    """
    valid = np.flatnonzero(np.isfinite(scores))
    order = valid[np.argsort(scores[valid], kind="stable")]
    if order.size == 0:
        return np.full(weights.shape[0], np.nan)
    ordered = scores[order]
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    w = weights.take(order, axis=1)
    is_pos = positive[order].astype(np.float64)
    if starts.size == order.size:  # no ties: a positive's wins are the negatives' weight before it
        below = np.cumsum(w * (1.0 - is_pos), axis=1)
        wins = np.einsum("ij,ij,j->i", w, below, is_pos)
        pairs = (w @ is_pos) * below[:, -1]
    else:
        pos = np.add.reduceat(w * is_pos, starts, axis=1)
        neg = np.add.reduceat(w, starts, axis=1) - pos
        below = np.cumsum(neg, axis=1) - neg
        wins = (pos * (below + 0.5 * neg)).sum(axis=1)
        pairs = pos.sum(axis=1) * neg.sum(axis=1)
    return np.where(pairs > 0, wins / np.where(pairs > 0, pairs, 1.0), np.nan)


@dataclass(frozen=True)
class Metric(MetricSpec):
    """A registered metric (:mod:`driftscope.monitors.metric_registry`) with the function that computes it."""

    func: Callable[[Any, np.ndarray], np.ndarray] = field(default=accuracy, kw_only=True)

    @property
    def doc(self) -> str:
        """The metric's convention (its function's docstring)."""
        return (self.func.__doc__ or "").strip()


_FUNCTIONS = {f.__name__: f for f in (accuracy, precision, recall, f1, f1_macro, specificity, roc_auc,
                                      roc_auc_weighted, log_loss, brier, mae, rmse, mape, r2)}
assert _FUNCTIONS.keys() == SPECS.keys(), "every registered metric has a function named after it"
METRICS: Mapping[str, Metric] = MappingProxyType({
    name: Metric(**{f.name: getattr(spec, f.name) for f in fields(spec)}, func=_FUNCTIONS[name])
    for name, spec in SPECS.items()
})


@dataclass(frozen=True)
class MetricResult:
    """One stored figure of a run (a ``metric_values`` row).

    ``status`` is ``"ok"``, ``"insufficient_labels"`` (fewer labelled rows than ``min_labels``:
    value shown, no verdict) or ``"undefined"`` (the metric has no value on this data, e.g. ROC
    AUC with one class). ``flagged`` is the verdict (a significant drop, a detected change);
    ``threshold`` is the level it was judged at (a significance level unless ``details`` says
    otherwise). ``path`` says how it was computed (``rows`` or ``profile``, see
    :mod:`driftscope.monitors.profiles.performance`) and ``error_bound`` bounds the value's error
    on the profile path (None when exact).
    """

    metric: str
    status: str
    value: float | None
    n: int
    ci_low: float | None = None
    ci_high: float | None = None
    reference_value: float | None = None
    threshold: float | None = None
    p_value: float | None = None
    flagged: bool = False
    details: Mapping[str, Any] = field(default_factory=dict)
    path: str = "rows"
    error_bound: float | None = None

    def row(self) -> dict[str, Any]:
        """The ``metric_values`` columns of this result (JSON-safe details)."""
        return {
            "metric": self.metric, "status": self.status, "value": finite_or_none(self.value),
            "ci_low": finite_or_none(self.ci_low), "ci_high": finite_or_none(self.ci_high),
            "reference_value": finite_or_none(self.reference_value), "threshold": self.threshold,
            "p_value": finite_or_none(self.p_value), "flagged": bool(self.flagged), "n": int(self.n),
            "details": json_safe(dict(self.details)), "path": self.path,
            "error_bound": finite_or_none(self.error_bound),
        }


def finite_or_none(value: float | np.floating | None) -> float | None:
    """``float(value)`` when finite, else None (NaN and infinities are not stored).

    Examples
    --------
    >>> finite_or_none(np.float64(0.5)), finite_or_none(float("nan")), finite_or_none(None)
    (0.5, None, None)
    """
    if value is None:
        return None
    number = float(value)
    return number if np.isfinite(number) else None


def json_safe(value: Any) -> Any:
    """``value`` with numpy scalars as Python numbers and non-finite floats as None, recursively.

    PostgreSQL's JSONB refuses NaN, so everything stored as JSON goes through here.

    Examples
    --------
    >>> json_safe({"a": np.float64("nan"), "b": [np.int64(2), 0.5], "c": "x"})
    {'a': None, 'b': [2, 0.5], 'c': 'x'}
    """
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return finite_or_none(value)
    return value

