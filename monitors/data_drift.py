"""Data drift over a window: per-feature tests, dataset drift, prediction drift and data quality.

The reference is profiled once (:func:`driftscope.monitors.stattests.fit_reference`); each window is tested
column by column with the configured method or Evidently's automatic choice. Conventions:

* Thresholds: ``"fixed"`` (default) uses each method's threshold, as Evidently; ``"calibrated"``
  learns it from the reference at the window's size (:mod:`driftscope.monitors.calibrated_drift`),
  optionally with Benjamini-Hochberg at ``fdr`` across the window's features (prediction columns
  adjusted separately); a feature then drifts when its adjusted p-value is ``<= fdr``.
* Dataset drift (Evidently's rule): ``n_drifted / n_features >= drift_share`` over the features
  that could be tested (status ``"ok"``), and at least one drifted; ``drift_share=0`` means "any
  drifted feature" (the FDR-controlled set decides); never with no testable feature.
* Effect size, every column in both modes (:mod:`driftscope.monitors.effect_size`): Wasserstein
  distance in reference SDs (numeric) or total variation distance (categorical, binary).
* Prediction drift: the same tests on the model's outputs (``prediction`` and, when logged,
  ``probability``), stored with ``role="prediction"``; not part of the dataset-drift share.
* Out-of-range share: numeric columns, the share of the window's non-missing values outside the
  reference ``[min, max]``; categorical and binary columns, the share in categories the reference
  never had. None when either side has no values.
* Histogram (for the dashboard): numeric, :data:`HISTOGRAM_BINS` equal-width bins over the pooled
  reference + window range (last bin closed) with both counts; categorical, the
  :data:`TOP_CATEGORIES` categories with the largest reference share + window share, with both
  counts, the rest summed in ``other_reference`` / ``other_current``.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from driftscope.errors import NotFittedError, SchemaError
from driftscope.monitors.calibrated_drift import Calibration, MemoryNullCache, NullCache, calibrated_test
from driftscope.monitors.calibration.cells import Cells, categorical_counts
from driftscope.monitors.effect_size import EffectSize, categorical_effect, effect_cells, numeric_effect
from driftscope.monitors.metrics import finite_or_none
from driftscope.monitors.multiple_testing import bh_adjust
from driftscope.monitors.stattests import DriftTestResult, evaluate_columns, fit_reference, registry
from driftscope.monitors.stattests.coerce import categorical_values, numeric_values
from driftscope.monitors.stattests.columns import CategoricalReference, NumericReference, pair
from driftscope.monitors.stattests.evaluate import resolve_threshold
from driftscope.monitors.stattests.select import select_for_pair

HISTOGRAM_BINS = 20
TOP_CATEGORIES = 20
MAX_STORED_NEW_CATEGORIES = 50
DEFAULT_DRIFT_SHARE = 0.5
THRESHOLD_MODES = ("fixed", "calibrated")


@dataclass(frozen=True)
class ColumnDrift:
    """Drift test and quality figures of one column of one window."""

    column: str
    role: str
    test: DriftTestResult
    out_of_range_share: float | None
    histogram: Mapping[str, Any] = field(default_factory=dict)
    effect: EffectSize | None = None
    threshold_mode: str = "fixed"
    q_value: float | None = None
    path: str = "rows"
    error_bound: float | None = None

    def row(self) -> dict[str, Any]:
        """The ``drift_results`` columns of this result."""
        t = self.test
        effect = self.effect or EffectSize(float("nan"), "")
        return {
            "effect_size": finite_or_none(effect.value), "effect_size_kind": effect.kind or None,
            "threshold_mode": self.threshold_mode, "q_value": finite_or_none(self.q_value),
            "feature": self.column, "role": self.role, "feature_type": t.feature_type, "method": t.method,
            "status": t.status, "statistic": finite_or_none(t.statistic), "p_value": finite_or_none(t.p_value),
            "threshold": float(t.threshold), "drifted": bool(t.drifted),
            "missing_share_reference": float(t.missing_share_reference),
            "missing_share_current": float(t.missing_share_current),
            "out_of_range_share": finite_or_none(self.out_of_range_share),
            "new_categories": list(t.new_categories[:MAX_STORED_NEW_CATEGORIES]),
            "histogram": dict(self.histogram), "path": self.path, "error_bound": finite_or_none(self.error_bound),
        }


@dataclass(frozen=True)
class DataDriftResult:
    """Data drift of one window: every column's result and the dataset-level verdicts."""

    columns: tuple[ColumnDrift, ...]
    dataset_drift: bool
    drifted_share: float
    n_drifted: int
    n_features: int
    drift_share: float
    prediction_drift: bool | None
    n_rows: int
    n_reference: int
    thresholds: str = "fixed"
    false_alarm_rate: float | None = None
    fdr: float | None = None

    def summary(self) -> dict[str, Any]:
        """``MonitorRun.summary`` of a data-drift run (see ``driftscope.storage.results``)."""
        return {
            "dataset_drift": self.dataset_drift, "drifted_share": self.drifted_share, "n_drifted": self.n_drifted,
            "n_features": self.n_features, "drift_share": self.drift_share, "prediction_drift": self.prediction_drift,
            "thresholds": self.thresholds, "false_alarm_rate": self.false_alarm_rate, "fdr": self.fdr,
        }

    def drift_rows(self) -> list[dict[str, Any]]:
        """``drift_results`` rows, features first, then the prediction columns."""
        return [c.row() for c in self.columns]

    def column(self, name: str) -> ColumnDrift:
        """The result of column ``name``."""
        for result in self.columns:
            if result.column == name:
                return result
        raise KeyError(f"no drift result for column {name!r}; columns: {[c.column for c in self.columns]}")


class DataDriftMonitor:
    """Fit on the reference, evaluate windows (canonical prediction frames).

    Parameters
    ----------
    feature_types : mapping of str to {"numeric", "categorical", "binary"}
        The model's features.
    prediction_types : mapping of str to feature type, optional
        Output columns to test for prediction drift (``prediction``, ``probability``); those absent
        from the reference are skipped.
    methods, thresholds : mapping of column to method name / threshold, optional
        Per-column overrides; other columns use Evidently's automatic choice and the method default.
    drift_share : float
        Share of drifted features at which the dataset counts as drifted (0: any drifted feature).
    thresholds : {"fixed", "calibrated"}
        ``"fixed"``: each method's threshold (Evidently's behaviour). ``"calibrated"``: the
        threshold is learned from the reference at the window's size band
        (:mod:`driftscope.monitors.calibrated_drift`) for ``false_alarm_rate`` per feature.
    false_alarm_rate : float
        Per-feature false alarm rate of calibrated thresholds.
    fdr : float, optional
        Benjamini-Hochberg false discovery rate across the features of one window (calibrated
        p-values); a feature drifts when its adjusted p-value is at most ``fdr``.
    n_null_draws, seed : int
        Null draws per (column, method, size band) and their seed.
    null_cache : NullCache, optional
        Where null distributions are kept (default: in memory, per fitted monitor).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> reference = pd.DataFrame({"x": rng.normal(size=500), "c": rng.choice(["a", "b"], 500)})
    >>> window = pd.DataFrame({"x": rng.normal(1.0, size=500), "c": rng.choice(["a", "b", "z"], 500)})
    >>> monitor = DataDriftMonitor({"x": "numeric", "c": "categorical"}).fit(reference)
    >>> result = monitor.evaluate(window)
    >>> result.dataset_drift, result.n_drifted, result.column("c").test.new_categories
    (True, 2, ('z',))
    """

    def __init__(
        self,
        feature_types: Mapping[str, str],
        *,
        prediction_types: Mapping[str, str] | None = None,
        methods: Mapping[str, str] | None = None,
        thresholds: Mapping[str, float] | None = None,
        drift_share: float = DEFAULT_DRIFT_SHARE,
        threshold_mode: str = "fixed",
        false_alarm_rate: float = 0.01,
        fdr: float | None = None,
        n_null_draws: int = 1000,
        seed: int = 0,
        null_cache: NullCache | None = None,
    ) -> None:
        self.feature_types = dict(feature_types)
        self.prediction_types = dict(prediction_types or {})
        self.methods = dict(methods or {})
        self.thresholds = dict(thresholds or {})
        self.drift_share = drift_share
        self.threshold_mode = threshold_mode
        self.false_alarm_rate = false_alarm_rate
        self.fdr = fdr
        self.n_null_draws = n_null_draws
        self.seed = seed
        self.null_cache = null_cache

    def fit(self, reference: pd.DataFrame) -> "DataDriftMonitor":
        """Profile the reference columns once."""
        missing = [c for c in self.feature_types if c not in reference.columns]
        if missing:
            raise SchemaError(f"the reference data lacks feature columns {missing}; it has {list(reference.columns)}")
        outputs = {c: t for c, t in self.prediction_types.items() if c in reference.columns}
        _check_tests({**self.feature_types, **outputs}, self.methods, self.thresholds)
        self.roles_ = {**dict.fromkeys(self.feature_types, "feature"), **dict.fromkeys(outputs, "prediction")}
        self.profile_ = fit_reference(reference, {**self.feature_types, **outputs})
        self.n_reference_ = len(reference)
        self.effect_cells_ = {name: effect_cells(column) for name, column in self.profile_.columns.items()}
        self.calibration_ = self._calibration()
        self.null_cache_ = self.null_cache if self.null_cache is not None else MemoryNullCache()
        return self

    def _calibration(self) -> Calibration | None:
        if self.threshold_mode not in THRESHOLD_MODES:
            raise ValueError(f"thresholds must be one of {THRESHOLD_MODES}, got {self.threshold_mode!r}")
        if self.fdr is not None and not 0.0 < self.fdr < 1.0:
            raise ValueError(f"fdr must be in (0, 1), got {self.fdr!r}")
        if self.threshold_mode == "fixed":
            if self.fdr is not None:
                raise ValueError("fdr needs a p-value for every feature: set thresholds: calibrated")
            return None
        return Calibration(self.false_alarm_rate, self.n_null_draws, self.seed)

    def evaluate(self, window: pd.DataFrame) -> DataDriftResult:
        """Test every profiled column of ``window``; an absent column counts as all missing."""
        if not hasattr(self, "profile_"):
            raise NotFittedError("this DataDriftMonitor is not fitted: call fit(reference) first")
        n_rows = len(window)
        current = {
            name: window[name] if name in window.columns else np.full(n_rows, np.nan) for name in self.roles_
        }
        methods = {c: m for c, m in self.methods.items() if c in self.roles_}
        if self.calibration_ is None:
            thresholds = {c: t for c, t in self.thresholds.items() if c in self.roles_}
            tests = evaluate_columns(self.profile_, current, methods, thresholds)
        else:
            tests = [self._calibrated(self.calibration_, name, current[name], methods.get(name))
                     for name in self.roles_]
        columns = tuple(self._column(test, current[str(test.column)]) for test in tests)
        return self._verdict(self._adjust(columns), n_rows)

    def _calibrated(self, calibration: Calibration, name: str, values: Any, method: str | None) -> DriftTestResult:
        reference = self.profile_.columns[name]
        feature_type = self.profile_.feature_types[name]
        column_pair = pair(reference, values)
        test = registry.get(method or select_for_pair(feature_type, column_pair))
        return calibrated_test(name, reference, column_pair, values, test, feature_type, calibration, self.null_cache_)

    def _column(self, test: DriftTestResult, values: Any) -> ColumnDrift:
        name = str(test.column)
        reference = self.profile_.columns[name]
        cells = self.effect_cells_[name]
        if isinstance(reference, NumericReference):
            current = numeric_values(values).values
            out_of_range, histogram = numeric_quality(reference.values, current)
            effect = numeric_effect(cells, reference, current)
        else:
            out_of_range, histogram = categorical_quality(reference, values)
            effect = _categorical_effect(cells, reference, values)
        return ColumnDrift(name, self.roles_[name], test, out_of_range, histogram, effect, self.threshold_mode)

    def _adjust(self, columns: tuple[ColumnDrift, ...]) -> tuple[ColumnDrift, ...]:
        """Benjamini-Hochberg across the tested features of the window (prediction columns apart)."""
        if self.fdr is None:
            return columns
        out = list(columns)
        for role in ("feature", "prediction"):
            tested = [i for i, c in enumerate(columns)
                      if c.role == role and c.test.status == "ok" and c.test.p_value is not None]
            adjusted = bh_adjust(np.array([columns[i].test.p_value for i in tested], dtype=np.float64))
            for i, q_value in zip(tested, adjusted, strict=True):
                test = replace(columns[i].test, drifted=bool(q_value <= self.fdr))
                out[i] = replace(columns[i], test=test, q_value=float(q_value))
        return tuple(out)

    def _verdict(self, columns: tuple[ColumnDrift, ...], n_rows: int) -> DataDriftResult:
        tested = [c for c in columns if c.role == "feature" and c.test.status == "ok"]
        outputs = [c for c in columns if c.role == "prediction" and c.test.status == "ok"]
        n_drifted = sum(c.test.drifted for c in tested)
        share = n_drifted / len(tested) if tested else 0.0
        calibrated = self.calibration_ is not None
        return DataDriftResult(
            columns=columns, dataset_drift=n_drifted > 0 and share >= self.drift_share, drifted_share=share,
            n_drifted=n_drifted, n_features=len(tested), drift_share=self.drift_share,
            prediction_drift=any(c.test.drifted for c in outputs) if outputs else None,
            n_rows=n_rows, n_reference=self.n_reference_, thresholds=self.threshold_mode,
            false_alarm_rate=self.false_alarm_rate if calibrated else None, fdr=self.fdr,
        )


def _categorical_effect(cells: Cells, reference: CategoricalReference, values: Any) -> EffectSize:
    codes, uniques, _ = categorical_values(values)
    return categorical_effect(cells, categorical_counts(cells, reference, uniques, codes))


def _check_tests(types: Mapping[str, str], methods: Mapping[str, str], thresholds: Mapping[str, float]) -> None:
    """Refuse per-column overrides that cannot apply, naming the ``tests`` key and the fix."""
    for column in sorted(set(methods) | set(thresholds)):
        if column not in types:
            raise SchemaError(f"tests.{column}: not a monitored column; monitored: {', '.join(types)}")
        method = methods.get(column)
        try:
            test = registry.get(method) if method else None
            if test is not None and types[column] not in test.feature_types:
                raise ValueError(
                    f"method {method!r} does not apply to a {types[column]} column; it accepts "
                    f"{sorted(test.feature_types)}: choose another method"
                )
            if test is not None:
                resolve_threshold(test, thresholds.get(column))
        except ValueError as exc:
            raise SchemaError(f"tests.{column}: {exc}") from exc


def numeric_quality(reference: np.ndarray, current: np.ndarray) -> tuple[float | None, dict[str, Any]]:
    """Out-of-range share and histogram of two sorted, finite arrays.

    Examples
    --------
    >>> share, hist = numeric_quality(np.array([0.0, 1.0, 2.0]), np.array([1.0, 3.0]))
    >>> share, hist["edges"][0], hist["edges"][-1], sum(hist["reference"]), sum(hist["current"])
    (0.5, 0.0, 3.0, 3, 2)
    """
    share = None
    if reference.size and current.size:
        below = np.searchsorted(current, reference[0], side="left")
        above = current.size - np.searchsorted(current, reference[-1], side="right")
        share = float((below + above) / current.size)
    pooled = [a for a in (reference, current) if a.size]
    if not pooled:
        return share, {"type": "numeric", "edges": [], "reference": [], "current": []}
    low, high = min(a[0] for a in pooled), max(a[-1] for a in pooled)
    edges = np.linspace(low, high, HISTOGRAM_BINS + 1) if high > low else np.array([low - 0.5, low + 0.5])
    return share, {
        "type": "numeric", "edges": edges.tolist(),
        "reference": _sorted_counts(reference, edges), "current": _sorted_counts(current, edges),
    }


def _sorted_counts(values: np.ndarray, edges: np.ndarray) -> list[int]:
    """Counts per bin of sorted values (bins ``[e_i, e_i+1)``, the last closed)."""
    index = np.searchsorted(values, edges, side="left")
    index[-1] = np.searchsorted(values, edges[-1], side="right")
    return np.diff(index).astype(int).tolist()


def categorical_quality(reference: CategoricalReference, values: Any) -> tuple[float | None, dict[str, Any]]:
    """Share of current values in unseen categories, and the top-category histogram."""
    codes, uniques, _ = categorical_values(values)
    current_counts = np.bincount(codes, minlength=len(uniques)) if len(uniques) else np.zeros(0, dtype=np.int64)
    position = reference.categories.get_indexer(pd.Index(uniques, dtype=object))
    new = position < 0
    share = float(current_counts[new].sum() / codes.size) if codes.size and reference.codes.size else None
    n_known = len(reference.categories)
    categories = np.concatenate([reference.categories.to_numpy(dtype=object), uniques[new]])
    ref_counts = np.concatenate([reference.counts, np.zeros(int(new.sum()), dtype=np.int64)])
    cur_counts = np.zeros(categories.size, dtype=np.int64)
    position[new] = n_known + np.arange(int(new.sum()))
    cur_counts[position] = current_counts
    ranked = np.argsort(-(_share(ref_counts) + _share(cur_counts)), kind="stable")
    top, rest = ranked[:TOP_CATEGORIES], ranked[TOP_CATEGORIES:]
    return share, {
        "type": "categorical", "categories": [str(c) for c in categories[top]],
        "reference": ref_counts[top].astype(int).tolist(), "current": cur_counts[top].astype(int).tolist(),
        "other_reference": int(ref_counts[rest].sum()), "other_current": int(cur_counts[rest].sum()),
    }


def _share(counts: np.ndarray) -> np.ndarray:
    total = counts.sum()
    return counts / total if total else counts.astype(np.float64)
