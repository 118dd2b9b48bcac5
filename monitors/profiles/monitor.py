"""Data drift of a window from its merged profiles: fit on the reference rows, evaluate profiles.

Same verdict structure as :class:`driftscope.monitors.data_drift.DataDriftMonitor` (per-column
results, dataset drift at ``drift_share``), so results are stored and judged by the same rules;
each column result records ``path="profile"`` and the error bound of its statistic.
"""

from collections.abc import Mapping
from dataclasses import replace

import numpy as np
import pandas as pd
import pyarrow as pa

from driftscope.errors import ConfigError, NotFittedError, SchemaError
from driftscope.monitors.data_drift import DEFAULT_DRIFT_SHARE, ColumnDrift, DataDriftResult
from driftscope.monitors.profiles import sketch as sketch_tests
from driftscope.monitors.profiles.histogram import COUNT_TESTS
from driftscope.monitors.stattests import DriftTestResult, registry
from driftscope.monitors.stattests.base import Score
from driftscope.monitors.stattests.select import choose
from driftscope.storage.profiles import ColumnProfile, ColumnSpec, merge_all
from driftscope.storage.profiles.compute import float_values, histogram_cells
from driftscope.storage.profiles.spec import category_name

SKETCH_TESTS = ("ks", "wasserstein")
PROFILE_METHODS = (*COUNT_TESTS, *SKETCH_TESTS)


class ProfileDriftMonitor:
    """Data drift from profiles.

    Parameters are those of :class:`driftscope.monitors.data_drift.DataDriftMonitor` that apply:
    ``feature_types``, ``prediction_types``, per-column ``methods`` and ``thresholds`` and
    ``drift_share``. Methods must be one of :data:`PROFILE_METHODS`; without one, Evidently's
    automatic choice (:func:`driftscope.monitors.stattests.select.choose`) picks it from the
    reference's size and cardinality.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from driftscope.storage.profiles import build_specs
    >>> from driftscope.storage.profiles.compute import profile_table
    >>> rng = np.random.default_rng(0)
    >>> reference = pd.DataFrame({"x": rng.normal(size=3000)})
    >>> specs = build_specs(reference, {"x": "numeric"})
    >>> window = pa.table({"ts": pa.array([0] * 3000, pa.timestamp("us", tz="UTC")), "x": rng.normal(1, size=3000)})
    >>> [profile] = profile_table(window, specs).values()
    >>> result = ProfileDriftMonitor({"x": "numeric"}).fit(reference, specs).evaluate({"x": [profile]})
    >>> result.column("x").test.method, result.column("x").test.drifted, result.column("x").path
    ('wasserstein', True, 'profile')
    """

    def __init__(self, feature_types: Mapping[str, str], *, prediction_types: Mapping[str, str] | None = None,
                 methods: Mapping[str, str] | None = None, thresholds: Mapping[str, float] | None = None,
                 drift_share: float = DEFAULT_DRIFT_SHARE) -> None:
        self.feature_types = dict(feature_types)
        self.prediction_types = dict(prediction_types or {})
        self.methods = dict(methods or {})
        self.thresholds = dict(thresholds or {})
        self.drift_share = drift_share

    def fit(self, reference: pd.DataFrame, specs: Mapping[str, ColumnSpec]) -> "ProfileDriftMonitor":
        """Count the reference in the version's cells and keep its sorted numeric values."""
        missing = [c for c in self.feature_types if c not in specs]
        if missing:
            raise SchemaError(f"the version has no profile specs for columns {missing}; run `driftscope apply`")
        unsupported = {c: m for c, m in self.methods.items() if m not in PROFILE_METHODS}
        if unsupported:
            raise ConfigError(f"methods {unsupported} cannot run from profiles; valid there: {list(PROFILE_METHODS)}")
        outputs = {c: t for c, t in self.prediction_types.items() if c in specs and c in reference.columns}
        self.types_ = {**self.feature_types, **outputs}
        self.roles_ = {**dict.fromkeys(self.feature_types, "feature"), **dict.fromkeys(outputs, "prediction")}
        self.specs_ = {c: specs[c] for c in self.types_}
        self.reference_ = {c: _ReferenceColumn.of(reference[c], self.specs_[c]) for c in self.types_}
        self.n_reference_ = len(reference)
        return self

    def evaluate(self, window: Mapping[str, list[ColumnProfile]]) -> DataDriftResult:
        """Drift of the window whose per-bucket profiles are ``window`` (by column)."""
        if not hasattr(self, "specs_"):
            raise NotFittedError("this ProfileDriftMonitor is not fitted yet; call fit(reference) first")
        merged = {c: merge_all(window.get(c, []), spec.n_cells) for c, spec in self.specs_.items()}
        columns = tuple(self._column(c, merged[c]) for c in self.types_)
        n_rows = max((p.n_rows for p in merged.values()), default=0)
        tested = [c for c in columns if c.role == "feature" and c.test.status == "ok"]
        outputs = [c for c in columns if c.role == "prediction" and c.test.status == "ok"]
        n_drifted = sum(c.test.drifted for c in tested)
        share = n_drifted / len(tested) if tested else 0.0
        return DataDriftResult(
            columns=columns, dataset_drift=n_drifted > 0 and share >= self.drift_share, drifted_share=share,
            n_drifted=n_drifted, n_features=len(tested), drift_share=self.drift_share,
            prediction_drift=any(c.test.drifted for c in outputs) if outputs else None,
            n_rows=n_rows, n_reference=self.n_reference_,
        )

    def _column(self, column: str, profile: ColumnProfile) -> ColumnDrift:
        ref, spec, feature_type = self.reference_[column], self.specs_[column], self.types_[column]
        method = self.methods.get(column) or _auto_method(feature_type, ref)
        test = registry.get(method)
        threshold = self.thresholds.get(column, test.default_threshold)
        new = tuple(sorted(profile.new))
        no_data = DriftTestResult(
            method=method, statistic=None, p_value=None, threshold=threshold, drifted=False,
            feature_type=feature_type, status="no_data", missing_share_reference=ref.missing_share,
            missing_share_current=profile.n_missing / profile.n_rows if profile.n_rows else 0.0,
            new_categories=new, n_reference=ref.n_values, n_current=profile.n_values, column=column)
        if profile.n_values < max(test.min_size, 1) or ref.n_values < max(test.min_size, 1):
            return ColumnDrift(column, self.roles_[column], no_data, None, path="profile")
        bound = None
        if method in SKETCH_TESTS:
            scored = (sketch_tests.ks(ref.values, profile.sketch) if method == "ks"
                      else sketch_tests.wasserstein(ref.values, profile.sketch, ref.std))
            score, bound = Score(scored.statistic, scored.p_value), scored.error_bound
            judged = score if method == "ks" else Score(max(scored.statistic - scored.error_bound, 0.0))
        else:
            reference_cells, current_cells = _cells(ref.counts, profile, spec)
            score = judged = COUNT_TESTS[method](reference_cells, current_cells)
        result = replace(no_data, statistic=score.statistic, p_value=score.p_value,
                         drifted=test.drifted(judged, threshold), status="ok")
        out_of_range = (float(profile.counts[0] + profile.counts[-1]) / profile.n_values
                        if spec.kind == "numeric" else None)
        return ColumnDrift(column, self.roles_[column], result, out_of_range, path="profile", error_bound=bound)


class _ReferenceColumn:
    """A reference column as the profile path uses it: cell counts, sorted finite values, std."""

    def __init__(self, counts: np.ndarray, values: np.ndarray, n_rows: int, n_unique: int) -> None:
        self.counts, self.values, self.n_rows, self.n_unique = counts, values, n_rows, n_unique
        self.n_values = int(counts.sum())
        self.std = float(values.std()) if values.size else 0.0
        self.missing_share = 1 - self.n_values / n_rows if n_rows else 0.0

    @classmethod
    def of(cls, series: pd.Series, spec: ColumnSpec) -> "_ReferenceColumn":
        if spec.kind == "numeric":
            values = float_values_of(series)
            values = np.sort(values[np.isfinite(values)])
            counts = np.bincount(histogram_cells(values, np.asarray(spec.edges)), minlength=spec.n_cells)
            return cls(counts.astype(np.int64), values, len(series), int(np.unique(values).size))
        names = series.dropna().map(category_name)
        index = {c: i for i, c in enumerate(spec.categories)}
        codes = names.map(index).dropna().to_numpy(dtype=np.int64)
        return cls(np.bincount(codes, minlength=spec.n_cells).astype(np.int64), np.zeros(0), len(series),
                   len(spec.categories))


def float_values_of(series: pd.Series) -> np.ndarray:
    """A pandas column as float64 with missing values as NaN."""
    return float_values(pa.array(pd.to_numeric(series, errors="coerce"), from_pandas=True))


def _auto_method(feature_type: str, ref: _ReferenceColumn) -> str:
    return choose(feature_type, ref.n_values, ref.n_unique)


def _cells(reference: np.ndarray, profile: ColumnProfile, spec: ColumnSpec) -> tuple[np.ndarray, np.ndarray]:
    """Aligned reference and current cell counts: categorical cells add the new categories and "other"."""
    if spec.kind == "numeric":
        return reference, profile.counts
    extra = [*(profile.new[k] for k in sorted(profile.new)), *([profile.other] if profile.other else [])]
    current = np.concatenate((profile.counts, np.asarray(extra, dtype=np.int64)))
    return np.concatenate((reference, np.zeros(len(extra), dtype=np.int64))), current

