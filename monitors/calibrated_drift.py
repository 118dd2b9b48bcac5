"""Calibrated drift tests of one column: the window's statistic against the reference's null at its size.

For each column the method is the configured one or Evidently's automatic choice (as in fixed
mode); the statistic is computed on the reference cells of the window's size band
(:mod:`~driftscope.monitors.calibration.cells`), the null distribution of that band comes from
the cache or is drawn once (:func:`~driftscope.monitors.calibration.null.draw_null`) and stored,
and the verdict is ``p <= false_alarm_rate`` for the Monte Carlo p-value, i.e. the statistic
exceeds the stored threshold. The result's ``p_value`` is that Monte Carlo p-value (not the
method's own), ``threshold`` the statistic threshold.
"""

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from driftscope.monitors.calibration.bands import band_size, size_band
from driftscope.monitors.calibration.cells import Cells, categorical_counts, cells_for, numeric_counts
from driftscope.monitors.calibration.null import DEFAULT_DRAWS, DEFAULT_SEED, NullDistribution, draw_null
from driftscope.monitors.calibration.statistics import CALIBRATED
from driftscope.monitors.stattests.base import DriftTestResult, StatTest
from driftscope.monitors.stattests.coerce import ArrayLike, categorical_values
from driftscope.monitors.stattests.columns import ColumnPair, ColumnReference, NumericPair, NumericReference


class NullCache(Protocol):
    """Where null distributions live between windows (memory, or the store: ``driftscope.storage.calibration``)."""

    def get(self, column: str, method: str, band: int) -> NullDistribution | None:
        """The stored null of ``column`` for ``method`` and ``band``, or None."""
        ...

    def put(self, column: str, null: NullDistribution) -> None:
        """Keep a newly drawn null."""
        ...


@dataclass
class MemoryNullCache:
    """A :class:`NullCache` in a dict (the default; a runner passes a store-backed one)."""

    nulls: dict[tuple[str, str, int], NullDistribution] = field(default_factory=dict)

    def get(self, column: str, method: str, band: int) -> NullDistribution | None:
        """The kept null, or None."""
        return self.nulls.get((column, method, band))

    def put(self, column: str, null: NullDistribution) -> None:
        """Keep ``null``."""
        self.nulls[(column, null.method, null.band)] = null


@dataclass(frozen=True)
class Calibration:
    """Settings of calibrated thresholds: false alarm rate per feature, null draws and their seed."""

    false_alarm_rate: float = 0.01
    n_draws: int = DEFAULT_DRAWS
    seed: int = DEFAULT_SEED

    def __post_init__(self) -> None:
        if not 0.0 < self.false_alarm_rate < 1.0:
            raise ValueError(f"false_alarm_rate must be in (0, 1), got {self.false_alarm_rate!r}")
        if self.false_alarm_rate * (self.n_draws + 1) < 1:
            raise ValueError(
                f"{self.n_draws} null draws cannot resolve false_alarm_rate={self.false_alarm_rate}: "
                f"use at least {int(np.ceil(1 / self.false_alarm_rate))} draws"
            )


def window_counts(cells: Cells, reference: ColumnReference, column_pair: ColumnPair, values: ArrayLike) -> np.ndarray:
    """Counts of the window's non-missing values over ``cells``."""
    if isinstance(column_pair, NumericPair) or isinstance(reference, NumericReference):
        return numeric_counts(cells, column_pair.current) if isinstance(column_pair, NumericPair) else cells.reference
    codes, uniques, _ = categorical_values(values)
    return categorical_counts(cells, reference, uniques, codes)


def calibrated_test(
    name: str, reference: ColumnReference, column_pair: ColumnPair, values: ArrayLike, test: StatTest,
    feature_type: str, calibration: Calibration, cache: NullCache,
) -> DriftTestResult:
    """Test one column of a window against the calibrated null of its size band."""
    n_reference, n_current = column_pair.sizes
    rows_reference, rows_current = column_pair.rows
    common = {
        "method": test.name, "feature_type": feature_type, "new_categories": column_pair.new_categories,
        "missing_share_reference": (rows_reference - n_reference) / rows_reference if rows_reference else 0.0,
        "missing_share_current": (rows_current - n_current) / rows_current if rows_current else 0.0,
        "n_reference": n_reference, "n_current": n_current, "column": name,
    }
    if test.name not in CALIBRATED:
        raise ValueError(
            f"column {name!r}: method {test.name!r} has no calibrated null; calibrated methods: "
            f"{', '.join(sorted(CALIBRATED))} (set tests.{name}.method or thresholds: fixed)"
        )
    if min(n_reference, n_current) < max(test.min_size, 1):
        return DriftTestResult(statistic=None, p_value=None, threshold=float("inf"), drifted=False,
                               status="no_data", **common)
    band = size_band(n_current)
    n_null = band_size(band, test.name)
    cells = cells_for(reference, test.name, n_null)
    null = cache.get(name, test.name, band)
    if null is None:
        null = draw_null(cells, test.name, n_null, band, n_draws=calibration.n_draws, seed=calibration.seed)
        cache.put(name, null)
    observed = float(CALIBRATED[test.name](cells.reference[None, :],
                                           window_counts(cells, reference, column_pair, values)[None, :], cells)[0])
    p_value = null.p_value(observed)
    return DriftTestResult(statistic=observed, p_value=p_value, threshold=null.threshold(calibration.false_alarm_rate),
                           drifted=p_value <= calibration.false_alarm_rate, status="ok", **common)
