"""Drift statistics of many (reference, window) count pairs at once, on shared cells.

Each function takes ``reference`` and ``window`` count arrays of shape ``(B, k)`` over the same
:class:`~driftscope.monitors.calibration.cells.Cells` and returns ``B`` statistics, larger meaning
more drift. They follow the conventions of the registry method of the same name, computed on the
cells instead of the raw values (so a calibrated statistic can differ slightly from the fixed-mode
one): proportions are ``count / row total``; psi and kl_div fill zero proportions as Evidently
does (1e-4, or the smallest non-zero proportion / 1e6 when that is <= 1e-4) and skip cells empty
on both sides; jensenshannon is the distance (square root), natural log; the z-test score is
``|z|`` of "first cell vs the rest" with pooled variance; chi-square expects
``reference * n_window / n_reference`` per cell (a window count in a cell with no reference count
gives an infinite statistic, as Evidently's). CDF statistics (ks, wasserstein, energy) read the
cells as ordered, wasserstein divides by the reference SD (``Cells.scale``), energy is
``sqrt(2) * L2`` distance of the CDFs in data units.
"""

from collections.abc import Callable

import numpy as np

from driftscope.monitors.calibration.cells import Cells
from driftscope.monitors.stattests.binning import EPSILON

CountStatistic = Callable[[np.ndarray, np.ndarray, Cells], np.ndarray]


def _proportions(counts: np.ndarray) -> np.ndarray:
    totals = counts.sum(axis=1, keepdims=True)
    return counts / np.maximum(totals, 1)


def _cdf_gap(reference: np.ndarray, window: np.ndarray) -> np.ndarray:
    gap = np.cumsum(_proportions(reference), axis=1) - np.cumsum(_proportions(window), axis=1)
    return gap[:, :-1]


def ks(reference: np.ndarray, window: np.ndarray, cells: Cells) -> np.ndarray:
    """Largest CDF gap at the cell edges."""
    gap = _cdf_gap(reference, window)
    return np.abs(gap).max(axis=1) if gap.shape[1] else np.zeros(gap.shape[0])


def wasserstein(reference: np.ndarray, window: np.ndarray, cells: Cells) -> np.ndarray:
    """Wasserstein-1 distance between the cell distributions at the cell centres, in reference SDs."""
    return np.abs(_cdf_gap(reference, window)) @ np.diff(cells.centres) / cells.scale


def energy(reference: np.ndarray, window: np.ndarray, cells: Cells) -> np.ndarray:
    """Energy distance ``sqrt(2 * sum(gap**2 * width))`` at the cell centres, data units."""
    return np.sqrt(2.0 * (np.square(_cdf_gap(reference, window)) @ np.diff(cells.centres)))


def _filled(proportions: np.ndarray) -> np.ndarray:
    smallest = np.where(proportions > 0, proportions, np.inf).min(axis=1, keepdims=True)
    fill = np.where(smallest <= EPSILON, smallest / 1e6, EPSILON)
    return np.where(proportions == 0, fill, proportions)


def psi(reference: np.ndarray, window: np.ndarray, cells: Cells) -> np.ndarray:
    """Population stability index with Evidently's zero filling."""
    used = (reference + window) > 0
    r, w = _filled(_proportions(reference)), _filled(_proportions(window))
    return np.where(used, (r - w) * np.log(r / w), 0.0).sum(axis=1)


def kl_div(reference: np.ndarray, window: np.ndarray, cells: Cells) -> np.ndarray:
    """KL(reference || window) of the filled, renormalised proportions."""
    used = (reference + window) > 0
    r = np.where(used, _filled(_proportions(reference)), 0.0)
    w = np.where(used, _filled(_proportions(window)), 0.0)
    r, w = _proportions(r), _proportions(w)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(used, r * np.log(r / w), 0.0).sum(axis=1)


def jensenshannon(reference: np.ndarray, window: np.ndarray, cells: Cells) -> np.ndarray:
    """Jensen-Shannon distance, natural log."""
    r, w = _proportions(reference), _proportions(window)
    mid = (r + w) / 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(r > 0, r * np.log(r / mid), 0.0) + np.where(w > 0, w * np.log(w / mid), 0.0)
    return np.sqrt(np.maximum(terms.sum(axis=1) / 2.0, 0.0))


def hellinger(reference: np.ndarray, window: np.ndarray, cells: Cells) -> np.ndarray:
    """Hellinger distance of the cell proportions."""
    affinity = np.sqrt(_proportions(reference) * _proportions(window)).sum(axis=1)
    return np.sqrt(1.0 - np.clip(affinity, 0.0, 1.0))


def tvd(reference: np.ndarray, window: np.ndarray, cells: Cells) -> np.ndarray:
    """Total variation distance ``0.5 * sum|p - q|``."""
    return 0.5 * np.abs(_proportions(reference) - _proportions(window)).sum(axis=1)


def chisquare(reference: np.ndarray, window: np.ndarray, cells: Cells) -> np.ndarray:
    """Pearson's statistic of the window counts against the scaled reference counts."""
    n_reference = reference.sum(axis=1, keepdims=True)
    expected = reference * (window.sum(axis=1, keepdims=True) / np.maximum(n_reference, 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(expected > 0, np.square(window - expected) / expected, np.where(window > 0, np.inf, 0.0))
    return terms.sum(axis=1)


def ztest(reference: np.ndarray, window: np.ndarray, cells: Cells) -> np.ndarray:
    """``|z|`` of the two-proportion z-test of "not the first cell"."""
    n1, n2 = reference.sum(axis=1), window.sum(axis=1)
    p1 = 1.0 - reference[:, cells.first] / np.maximum(n1, 1)
    p2 = 1.0 - window[:, cells.first] / np.maximum(n2, 1)
    pooled = (p1 * n1 + p2 * n2) / np.maximum(n1 + n2, 1)
    spread = np.sqrt(pooled * (1.0 - pooled) * (1.0 / np.maximum(n1, 1) + 1.0 / np.maximum(n2, 1)))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(spread > 0, np.abs(p1 - p2) / spread, 0.0)


CALIBRATED: dict[str, CountStatistic] = {
    "chisquare": chisquare, "energy": energy, "hellinger": hellinger, "jensenshannon": jensenshannon,
    "kl_div": kl_div, "ks": ks, "psi": psi, "tvd": tvd, "wasserstein": wasserstein, "ztest": ztest,
}
