"""Performance of a window from its merged label profile instead of its labelled rows.

The reference is fitted from rows as :class:`~driftscope.monitors.performance.PerformanceMonitor`
does (same reference values, bootstrap and calibrated nulls); only the window side differs
(``docs/statistics.md``, "Performance from label profiles"):

* Classification: each cell of the profile (label, prediction, score bin) is a pseudo-row whose
  weight is its count, so the registry's own weighted metrics give the value: exact for the
  confusion metrics (accuracy, precision, recall, F1, specificity), ROC AUC of the binned scores
  (pairs in one bin count 1/2) within ``error_bound = sum_b pos_b neg_b / (2 P N)`` of the exact
  one, Brier and log loss exact from the cells' probability sums. The bootstrap draws cell counts
  from ``Multinomial(n, counts / n)``, which is the row bootstrap's distribution of every
  cell-count statistic (Brier and log loss lose the spread within a cell).
* Regression: MAE, RMSE, MAPE and R² exact from the error moments. Their resampling distribution
  is the normal one with the delta-method standard error (:mod:`.moments`); R² of moments stored
  before its standard error's sums existed gets no interval and no drop test (said in ``details``).
* Multiclass probability metrics (per-class probabilities): from the profile's ``scores``
  (:mod:`.class_metrics`): one-vs-rest ROC AUC (macro, weighted) of the binned scores within
  their error bound, log loss and Brier exact. A profile without ``scores`` (stored before
  they were profiled) gives status ``undefined`` with the reason in ``details``.

A drop is judged at the value moved by its error bound towards the reference, so a difference
within the binning error is never called a drop. Results record ``path="profile"`` and the bound.
"""

from collections.abc import Callable, Iterator
from dataclasses import replace
from functools import partial

import numpy as np
import pandas as pd

from driftscope.errors import NotFittedError, SchemaError
from driftscope.monitors.bootstrap import BLOCK_CELLS, drop_p_value
from driftscope.monitors.metrics import METRICS, ClassificationData, Metric, MetricResult, classification_data
from driftscope.monitors.performance import PerformanceMonitor, PerformanceResult, _holm
from driftscope.monitors.profiles.class_metrics import CLASS_METRICS, class_metric_scores
from driftscope.monitors.profiles.moments import Scored, moment_scores
from driftscope.monitors.windows import as_like
from driftscope.storage.profiles.labelled import LabelledProfile

PATH = "profile"
CELL_METRICS = frozenset({"accuracy", "precision", "recall", "f1", "f1_macro", "specificity", "roc_auc"})
LOSS_METRICS = frozenset({"brier", "log_loss"})
MOMENT_METRICS = frozenset({"mae", "rmse", "mape", "r2"})
NO_SCORES = ("the window's label profiles hold no per-class probabilities (stored before they were profiled, "
             "or the rows log none): `driftscope db backfill-profiles` rebuilds them")
LEGACY_R2 = ("the window's label profiles were stored before the sums of R²'s standard error existed; "
             "`driftscope db backfill-profiles` rebuilds them")


class ProfilePerformanceMonitor(PerformanceMonitor):
    """A :class:`PerformanceMonitor` that also evaluates label profiles (:meth:`evaluate_profile`).

    Examples
    --------
    >>> from driftscope.storage.profiles.labelled import profile_rows
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 400)
    >>> reference = pd.DataFrame({"prediction": y, "label": y})
    >>> flipped = np.where(rng.uniform(size=400) < 0.3, 1 - y, y)
    >>> window = profile_rows(pd.DataFrame({"prediction": y, "label": flipped.astype(str)}), "binary_classification")
    >>> monitor = ProfilePerformanceMonitor("binary_classification", metrics=["accuracy"]).fit(reference)
    >>> result = monitor.evaluate_profile(window, n_rows=400)
    >>> result.verdict, result.metrics[0].value == float(np.mean(flipped == y)), result.metrics[0].path
    ('degraded', True, 'profile')
    """

    def evaluate_profile(self, profile: LabelledProfile, *, n_rows: int) -> PerformanceResult:
        """Metrics of the window whose merged label profile is ``profile``; ``n_rows`` predictions in all."""
        if not hasattr(self, "metrics_"):
            raise NotFittedError("this ProfilePerformanceMonitor is not fitted: call fit(reference) first")
        n_labels = profile.n_labelled
        if n_labels == 0:
            results = tuple(replace(self._empty(m), path=PATH) for m in self.metrics_)
        else:
            scored = self._score(profile)
            results = _holm(tuple(self._judge_profile(m, scored.get(m.name), n_labels) for m in self.metrics_),
                            self.level, inclusive=self.thresholds == "calibrated")
        if n_labels < self.min_labels:
            verdict = "insufficient_labels"
        else:
            verdict = "degraded" if any(r.flagged for r in results) else "ok"
        n_rows = max(n_rows, n_labels)
        return PerformanceResult(results, n_rows, n_labels, n_labels / n_rows if n_rows else 0.0, verdict)

    def _score(self, profile: LabelledProfile) -> dict[str, Scored]:
        if self.task == "regression":
            return moment_scores(profile.moments, self.n_bootstrap, self.seed)
        names = {m.name for m in self.metrics_}
        if self.task == "binary_classification" or not self.has_probability:
            return cell_scores(self._cell_data(profile), names, self.n_bootstrap, self.seed)
        scored = cell_scores(self._cell_data(profile), names & (CELL_METRICS - {"roc_auc"}), self.n_bootstrap,
                             self.seed)
        if profile.scores is None:
            return scored
        counts: dict[str, float] = {}
        for (label, _, _), sums in profile.cells.items():
            counts[label] = counts.get(label, 0.0) + float(sums[0])
        return scored | class_metric_scores(profile.scores, counts, self.label_like_, names & CLASS_METRICS,
                                            self.n_bootstrap, self.seed)

    def _cell_data(self, profile: LabelledProfile) -> "CellData":
        """The profile's cells as weighted pseudo-rows, labels and predictions read like the reference target."""
        keys = list(profile.cells)
        sums = np.array([profile.cells[k] for k in keys], dtype=np.float64).reshape(len(keys), -1)
        text = pd.Series([k[0] for k in keys], dtype=object)
        like = self.label_like_
        labels, predictions = as_like(text, like), as_like(pd.Series([k[1] for k in keys], dtype=object), like)
        if (labels.isna() & text.notna()).any():
            bad = ", ".join(repr(v) for v in text[labels.isna()].head(3))
            raise SchemaError(f"stored labels cannot be read as the reference target's type: {bad}; "
                              "correct the ground-truth source")
        keep = (labels.notna() & predictions.notna()).to_numpy()
        bins = np.array([k[2] for k in keys], dtype=np.float64)[keep]
        positive = as_like(pd.Series([self.positive_label], dtype=object), like).iloc[0]
        data = classification_data(labels[keep].reset_index(drop=True), predictions[keep].reset_index(drop=True),
                                   binary=self.task == "binary_classification", positive_label=positive,
                                   probability=pd.Series(np.where(bins >= 0, bins, np.nan)))
        return CellData(data, sums[keep])

    def _judge_profile(self, metric: Metric, scored: Scored | None, n: int) -> MetricResult:
        if scored is None:
            return MetricResult(metric.name, "undefined", None, n, reference_value=self.reference_values_.get(
                metric.name), threshold=self.level, path=PATH, details={
                **self._details(metric), "reason": NO_SCORES})
        value, samples, bound = scored
        result = self._judge(metric, value, samples, n)
        if bound and result.p_value is not None:
            toward = bound if metric.higher_is_better else -bound
            p_value: float | None
            if self.thresholds == "calibrated":
                p_value, _ = self._calibrated_p(metric, value + toward, self.reference_values_[metric.name], n)
            else:
                p_value = drop_p_value(samples + toward, self.reference_samples_[metric.name],
                                       higher_is_better=metric.higher_is_better)
            result = replace(result, p_value=p_value)
        if samples.size == 0 and metric.name in MOMENT_METRICS and np.isfinite(value):
            result = replace(result, details={**result.details, "no_interval": LEGACY_R2})
        return replace(result, path=PATH, error_bound=bound)


class CellData:
    """Pseudo-rows of a label profile: the prepared classification data and per-cell sums."""

    def __init__(self, data: ClassificationData, sums: np.ndarray) -> None:
        self.data, self.sums = data, sums
        self.counts = sums[:, 0] if sums.size else np.zeros(0)

    def losses(self) -> dict[str, np.ndarray]:
        """Per cell the mean Brier and log-loss terms of its rows (NaN without a probability)."""
        n, sp, sp2, slnp, sln1mp = (self.sums[:, i] for i in range(5))
        pos = self.data.true_positive
        scored = np.isfinite(self.data.probability) & (n > 0)
        safe = np.where(scored, n, 1.0)
        brier = (sp2 - 2.0 * sp * pos + n * pos) / safe
        log_loss = -(pos * slnp + (1.0 - pos) * sln1mp) / safe
        return {"brier": np.where(scored, brier, np.nan), "log_loss": np.where(scored, log_loss, np.nan)}

    def auc_bound(self) -> float:
        """``sum_b pos_b neg_b / (2 P N)``: how far the binned ROC AUC can be from the exact one."""
        scored = np.isfinite(self.data.probability)
        bins = self.data.probability[scored].astype(np.int64)
        pos = np.bincount(bins, weights=(self.counts * self.data.true_positive)[scored])
        neg = np.bincount(bins, weights=(self.counts * (1.0 - self.data.true_positive))[scored])
        pairs = pos.sum() * neg.sum()
        return float((pos * neg).sum() / (2.0 * pairs)) if pairs > 0 else 0.0


def cell_scores(cells: CellData, names: set[str], n_bootstrap: int, seed: int) -> dict[str, Scored]:
    """Value, multinomial-bootstrap values and error bound of each named classification metric."""
    losses = cells.losses()
    stats: dict[str, Callable[[np.ndarray], np.ndarray]] = {}
    for name in sorted(names & CELL_METRICS):
        stats[name] = partial(_cell_metric, METRICS[name].func, cells.data)
    for name in sorted(names & LOSS_METRICS):
        stats[name] = partial(_cell_loss, losses[name])
    ones = cells.counts[None, :]
    values = {name: float(stat(ones)[0]) for name, stat in stats.items()}
    samples: dict[str, list[np.ndarray]] = {name: [] for name in stats}
    for block in multinomial_blocks(cells.counts, n_bootstrap, seed):
        for name, stat in stats.items():
            samples[name].append(stat(block))
    bound = cells.auc_bound() if "roc_auc" in stats else None
    return {name: (values[name], np.concatenate(samples[name]) if samples[name] else np.empty(0),
                   bound if name == "roc_auc" else None) for name in stats}


def _cell_metric(func: Callable[[ClassificationData, np.ndarray], np.ndarray], data: ClassificationData,
                 weights: np.ndarray) -> np.ndarray:
    return func(data, weights)


def _cell_loss(losses: np.ndarray, weights: np.ndarray) -> np.ndarray:
    return weighted_mean(weights, losses)


def multinomial_blocks(counts: np.ndarray, n_resamples: int, seed: int) -> Iterator[np.ndarray]:
    """Blocks of bootstrap cell counts: ``Multinomial(n, counts / n)`` per resample, ``n = sum(counts)``."""
    n = round(float(counts.sum()))
    if n == 0 or counts.size == 0:
        return
    rng = np.random.default_rng(seed)
    per_block = max(1, BLOCK_CELLS // counts.size)
    p = np.clip(counts, 0, None) / counts.sum()
    done = 0
    while done < n_resamples:
        size = min(per_block, n_resamples - done)
        yield rng.multinomial(n, p, size=size).astype(np.float64)
        done += size


def weighted_mean(weights: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per row of ``weights`` the weighted mean of the finite ``values`` (NaN where none)."""
    valid = np.isfinite(values)
    total = weights @ valid.astype(np.float64)
    summed = weights @ np.where(valid, values, 0.0)
    return np.where(total > 0, summed / np.where(total > 0, total, 1.0), np.nan)
