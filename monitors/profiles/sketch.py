"""KS and Wasserstein between the exact reference and a window's KLL sketch, with error bounds.

The reference is in memory when a monitor is fitted, so its empirical CDF ``F`` is exact; the
window's CDF ``G`` comes from the merged sketch, whose CDF values are within ``eps`` of the truth
with 99 % confidence (``kll_doubles_sketch.normalized_rank_error(True)``; 0 while the sketch still
holds every value). Both are step functions, so evaluating them at every reference value and every
value the sketch retains gives their exact supremum and integral.

* KS: ``D = sup |F - G|`` is within ``eps`` of the window's true D. The p-value is scipy's
  two-sample asymptotic one (``kstwo.sf(D', round(n m / (n + m)))``, as ``ks_2samp`` with
  ``method="asymp"``) at ``D' = max(D - eps, 0)``, the largest p-value the data allow: a difference
  within the sketch's error is never called drift.
* Wasserstein-1 normalised by the reference std (floor 0.001), as the registry's
  ``wasserstein``: ``W = integral |F - G| dx`` over the grid. A CDF error of ``eps`` moves it by at
  most ``eps * (max - min)`` over the pooled range, divided by the same norm; drift when
  ``W - bound >= threshold``.
"""

from dataclasses import dataclass

import numpy as np
from datasketches import kll_doubles_sketch
from scipy.stats import kstwo

from driftscope.storage.profiles import sketch as kll

MIN_NORM = 0.001


@dataclass(frozen=True)
class SketchScore:
    """A sketch-path statistic, its p-value (KS) and the bound on the statistic's error."""

    statistic: float
    p_value: float | None
    error_bound: float


def _grid(reference: np.ndarray, sketch: kll_doubles_sketch) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points where either CDF steps, and both CDFs (right-continuous) at them."""
    retained = np.fromiter((item for item, _ in sketch), dtype=np.float64, count=sketch.num_retained)
    points = np.unique(np.concatenate((reference, retained)))
    f = np.searchsorted(reference, points, side="right") / reference.size
    g = np.asarray(sketch.get_cdf(points.tolist(), True)[:-1], dtype=np.float64)
    return points, f, g


def ks(reference_sorted: np.ndarray, blob: bytes) -> SketchScore:
    """KS between sorted finite reference values and a serialized sketch of the window."""
    sketch = kll.load(blob)
    _, f, g = _grid(reference_sorted, sketch)
    d = float(np.max(np.abs(f - g)))
    eps = kll.cdf_error(sketch)
    n, m = reference_sorted.size, sketch.n
    p = float(kstwo.sf(max(d - eps, 0.0), np.round(n * m / (n + m))))
    return SketchScore(d, min(max(p, 0.0), 1.0), eps)


def wasserstein(reference_sorted: np.ndarray, blob: bytes, reference_std: float) -> SketchScore:
    """Normalised Wasserstein-1 between sorted reference values and a serialized sketch of the window."""
    sketch = kll.load(blob)
    points, f, g = _grid(reference_sorted, sketch)
    norm = max(reference_std, MIN_NORM)
    w = float(np.sum(np.abs(f - g)[:-1] * np.diff(points))) / norm
    bound = kll.cdf_error(sketch) * float(points[-1] - points[0]) / norm
    return SketchScore(w, None, bound)
