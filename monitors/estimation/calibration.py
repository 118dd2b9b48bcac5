"""Score calibration for CBPE: isotonic regression fitted on the reference, and its quality.

Conventions:

* The calibrator is scikit-learn's ``IsotonicRegression(y_min=0, y_max=1, out_of_bounds="clip")``
  fitted on (raw score, outcome) of the labelled reference: a monotone step function, so the
  calibrated score keeps the raw score's ranking (ties may appear inside a step).
* Calibration quality is the **expected calibration error** (ECE) with :data:`ECE_BINS`
  equal-frequency bins of the score: ``Σ_b (n_b / n) |mean(y)_b - mean(p)_b|``. CBPE's reference
  check is the ECE of the calibrated scores *out of fold* (:data:`ECE_FOLDS` folds, a seeded
  permutation): the calibrator is fitted on the other folds and scored on the held-out one, so an
  isotonic fit that only memorised the reference shows up. Above :data:`ECE_BOUND` the estimate is
  flagged unreliable. Multiclass: the mean over classes of the one-vs-rest ECE.
"""

from typing import Any

import numpy as np

from driftscope.extras import require

ECE_BINS = 10
ECE_FOLDS = 5
ECE_BOUND = 0.05


def fit_isotonic(scores: np.ndarray, outcomes: np.ndarray) -> Any:
    """A fitted isotonic calibrator of P(outcome = 1 | score) (scores and 0/1 outcomes, float64)."""
    isotonic = require("sklearn.isotonic", "ml")
    return isotonic.IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(scores, outcomes)


def expected_calibration_error(probability: np.ndarray, outcomes: np.ndarray, bins: int = ECE_BINS) -> float:
    """ECE with ``bins`` equal-frequency bins of ``probability`` (see the module docstring).

    Examples
    --------
    >>> expected_calibration_error(np.array([0.2, 0.2, 0.8, 0.8]), np.array([0, 0, 1, 1]), bins=2)
    0.2
    """
    n = probability.size
    if n == 0:
        return float("nan")
    order = np.argsort(probability, kind="stable")
    groups = np.array_split(order, min(bins, n))
    gaps = [abs(outcomes[g].mean() - probability[g].mean()) * g.size for g in groups if g.size]
    return float(round(sum(gaps) / n, 12))


def out_of_fold_ece(scores: np.ndarray, outcomes: np.ndarray, *, seed: int = 0) -> float:
    """ECE of isotonic-calibrated ``scores``, each row calibrated by a fit on the other folds."""
    n = scores.size
    if n < 2 * ECE_FOLDS:
        return float("nan")
    folds = np.array_split(np.random.default_rng(seed).permutation(n), ECE_FOLDS)
    calibrated = np.empty(n)
    for held in folds:
        rest = np.setdiff1d(np.arange(n), held, assume_unique=True)
        calibrated[held] = fit_isotonic(scores[rest], outcomes[rest]).predict(scores[held])
    return expected_calibration_error(calibrated, outcomes)
