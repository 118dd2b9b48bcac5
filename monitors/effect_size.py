"""The effect size reported with every drift verdict: how large a drift is, whatever its p-value.

Conventions:

* numeric columns, ``"wasserstein_sd"``: the Wasserstein-1 distance between the reference and
  the window, in reference standard deviations (``ddof=0``, floored at 0.001). Inside the
  reference range it is computed on the reference's 256 quantile cells
  (:mod:`~driftscope.monitors.calibration.cells`); window values beyond the reference range add
  their exact mean distance to it (``E[(v - max)+] + E[(min - v)+]``). A mean shift of ``d`` SDs
  gives about ``d``; 0.1 reads "a tenth of a standard deviation".
* categorical and binary columns, ``"tvd"``: the total variation distance ``0.5 * sum|p - q|`` of
  the category proportions (unseen categories pooled), in [0, 1]: the share of the window that
  would have to change category to look like the reference.
"""

from typing import NamedTuple

import numpy as np

from driftscope.monitors.calibration.cells import Cells, categorical_cells, numeric_cells, numeric_counts
from driftscope.monitors.calibration.statistics import tvd, wasserstein
from driftscope.monitors.stattests.columns import CategoricalReference, NumericReference


class EffectSize(NamedTuple):
    """An effect size and what it measures (``"wasserstein_sd"`` or ``"tvd"``)."""

    value: float
    kind: str


def effect_cells(column: NumericReference | CategoricalReference) -> Cells:
    """The cells the effect size of a column is measured on (fitted once per reference)."""
    if isinstance(column, NumericReference):
        return numeric_cells(column, "wasserstein", 0)
    return categorical_cells(column)


def numeric_effect(cells: Cells, reference: NumericReference, values: np.ndarray) -> EffectSize:
    """Effect size of sorted, finite window ``values`` against a numeric reference.

    Examples
    --------
    >>> from driftscope.monitors.stattests.columns import fit_column
    >>> ref = fit_column(np.random.default_rng(0).normal(size=20_000), "numeric")
    >>> shifted = np.sort(np.random.default_rng(1).normal(0.5, size=20_000))
    >>> effect = numeric_effect(effect_cells(ref), ref, shifted)
    >>> effect.kind, round(effect.value, 1)
    ('wasserstein_sd', 0.5)
    """
    if not values.size or not reference.values.size:
        return EffectSize(float("nan"), "wasserstein_sd")
    inside = wasserstein(cells.reference[None, :], numeric_counts(cells, values)[None, :], cells)[0]
    low, high = reference.values[0], reference.values[-1]
    beyond = (np.maximum(values - high, 0.0).sum() + np.maximum(low - values, 0.0).sum()) / values.size
    return EffectSize(float(inside + beyond / cells.scale), "wasserstein_sd")


def categorical_effect(cells: Cells, window_counts: np.ndarray) -> EffectSize:
    """Total variation distance between the reference and the window counts over ``cells``."""
    if not window_counts.sum() or not cells.reference.sum():
        return EffectSize(float("nan"), "tvd")
    return EffectSize(float(tvd(cells.reference[None, :], window_counts[None, :], cells)[0]), "tvd")
