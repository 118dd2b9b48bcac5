"""Confidence-based performance estimation (CBPE): classification metrics without labels.

The model's scores are calibrated on the labelled reference (isotonic, one-vs-rest per class; see
:mod:`driftscope.monitors.estimation.calibration`); a calibrated score ``p`` is the probability
that the row's class is the positive one (binary) or class ``k`` (multiclass). A window's
expected confusion counts follow from the calibrated scores and the logged predicted class
(one-hot ``ŷ``): ``TP = Σ p ŷ``, ``FP = Σ (1 - p) ŷ``, ``FN = Σ p (1 - ŷ)``, ``TN = Σ (1 - p)(1 - ŷ)``
per class, and each metric is the ratio of expected counts (NannyML's CBPE):

* accuracy ``(TP + TN) / n`` (binary), ``Σ_k TP_k / n`` (multiclass);
* precision, recall, F1, specificity ``TN / (TN + FP)`` of the positive class (binary) or their
  unweighted means over the classes (multiclass, macro); 0 where a denominator is 0;
* ROC AUC: the expected Mann-Whitney statistic of the *raw* scores (the model's ranking) with
  each row a positive with probability ``p``:
  ``Σ_i p_i Σ_{j ≠ i} (1 - p_j) ([s_j < s_i] + ½ [s_j = s_i]) / (Σ p Σ (1 - p) - Σ p (1 - p))``;
  multiclass: the mean of the one-vs-rest AUCs (macro).

**Band** (sampling error of the realized value): labels are drawn ``draws`` times from the
calibrated probabilities (Bernoulli per row; multiclass: categorical over the row-normalised
calibrated scores) and each draw's realized metric is computed: their standard deviation
``σ_draws`` is the sampling error of the realized value given the scores. The calibrator itself is learned from
``n_ref`` labelled reference rows, so the estimate carries an error of about the same metric's
sampling error at ``n_ref`` rows; the band's σ adds it: ``σ = σ_draws sqrt(1 + n / n_ref)``, and
the band is ``estimate ± band_z σ`` clipped to [0, 1] (``band_z = 3`` as NannyML's default).
Everything is vectorised over rows and draws (blocks of at most ``_CELLS`` cells).
"""

from dataclasses import dataclass

import numpy as np
from scipy.stats import rankdata

from driftscope.errors import NotFittedError
from driftscope.monitors.estimation.calibration import fit_isotonic, out_of_fold_ece
from driftscope.monitors.estimation.registry import CBPE_METRICS

_CELLS = 4_000_000


@dataclass(frozen=True)
class Estimate:
    """An estimated metric of one window: value, sampling standard deviation ``sigma`` and band."""

    metric: str
    value: float
    sigma: float
    low: float
    high: float


class CBPE:
    """Estimate classification metrics from calibrated scores.

    Parameters
    ----------
    metrics : sequence of str
        Names from :data:`~driftscope.monitors.estimation.registry.CBPE_METRICS`.
    draws : int
        Simulated label draws for the band.
    band_z : float
        Half-width of the band in standard deviations.
    seed : int
        Seed of the draws (and of the calibration check's folds).

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> s = rng.uniform(size=(20_000, 1)); y = (rng.uniform(size=s.shape) < s).astype(float)
    >>> cbpe = CBPE(["accuracy"]).fit(s, y)
    >>> window = rng.uniform(size=(5_000, 1))
    >>> est = cbpe.estimate(window, (window >= 0.5).astype(float))[0]
    >>> abs(est.value - 0.75) < 0.02, est.low < est.value < est.high
    (True, True)
    """

    def __init__(self, metrics: tuple[str, ...] | list[str] = CBPE_METRICS, *, draws: int = 200,
                 band_z: float = 3.0, seed: int = 0) -> None:
        self.metrics = metrics
        self.draws = draws
        self.band_z = band_z
        self.seed = seed

    def fit(self, scores: np.ndarray, outcomes: np.ndarray) -> "CBPE":
        """Calibrate: ``scores`` and 0/1 ``outcomes`` of shape ``(n, K)``; ``K = 1`` is binary (positive class)."""
        self.calibrators_ = [fit_isotonic(scores[:, k], outcomes[:, k]) for k in range(scores.shape[1])]
        eces = [out_of_fold_ece(scores[:, k], outcomes[:, k], seed=self.seed) for k in range(scores.shape[1])]
        self.calibration_error_ = float(np.mean(eces))
        self.n_reference_ = scores.shape[0]
        return self

    def calibrate(self, scores: np.ndarray) -> np.ndarray:
        """Calibrated probabilities, shape ``(n, K)``."""
        if not hasattr(self, "calibrators_"):
            raise NotFittedError("this CBPE is not fitted: call fit(reference) first")
        return np.column_stack([c.predict(scores[:, k]) for k, c in enumerate(self.calibrators_)])

    def estimate(self, scores: np.ndarray, predicted: np.ndarray) -> list[Estimate]:
        """Estimates of the window with raw ``scores`` and one-hot ``predicted`` classes, both ``(n, K)``."""
        p = self.calibrate(scores)
        n = p.shape[0]
        if n == 0:
            return [Estimate(m, float("nan"), float("nan"), float("nan"), float("nan")) for m in self.metrics]
        point = {**_count_metrics(p[None], predicted), "roc_auc": np.array([_expected_auc(scores, p)])}
        sims = self._simulate(p, scores, predicted)
        reference_term = np.sqrt(1.0 + n / max(self.n_reference_, 1))
        out = []
        for name in self.metrics:
            value, sigma = float(point[name][0]), float(np.nanstd(sims[name], ddof=1)) * reference_term
            half = self.band_z * sigma
            out.append(Estimate(name, value, sigma, float(max(0.0, value - half)), float(min(1.0, value + half))))
        return out

    def _simulate(self, p: np.ndarray, scores: np.ndarray, predicted: np.ndarray) -> dict[str, np.ndarray]:
        """Realized metrics of ``draws`` label draws from the calibrated probabilities."""
        rng = np.random.default_rng(self.seed)
        n, k = p.shape
        ranks = np.column_stack([rankdata(scores[:, j]) for j in range(k)])
        cumulative = None if k == 1 else np.cumsum(p / np.maximum(p.sum(axis=1, keepdims=True), 1e-300), axis=1)
        block = max(1, _CELLS // max(n * k, 1))
        parts: list[dict[str, np.ndarray]] = []
        for start in range(0, self.draws, block):
            size = min(block, self.draws - start)
            u = rng.random((size, n))
            if cumulative is None:
                labels = (u < p[:, 0])[:, :, None].astype(np.float64)
            else:
                codes = (u[:, :, None] > cumulative[None, :, :]).sum(axis=2)
                labels = (codes[:, :, None] == np.arange(k)).astype(np.float64)
            parts.append({**_count_metrics(labels, predicted), "roc_auc": _rank_auc(labels, ranks)})
        return {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    safe = np.where(denominator > 0, denominator, 1.0)
    return np.where(denominator > 0, numerator / safe, 0.0)


def _count_metrics(labels: np.ndarray, predicted: np.ndarray) -> dict[str, np.ndarray]:
    """Count metrics per draw: ``labels`` ``(B, n, K)`` (0/1 or expected), ``predicted`` ``(n, K)``."""
    n = labels.shape[1]
    tp = np.einsum("bnk,nk->bk", labels, predicted)
    fp = predicted.sum(axis=0)[None, :] - tp
    fn = labels.sum(axis=1) - tp
    tn = n - tp - fp - fn
    binary = labels.shape[2] == 1
    scores = {
        "precision": _ratio(tp, tp + fp), "recall": _ratio(tp, tp + fn),
        "f1": _ratio(2 * tp, 2 * tp + fp + fn), "specificity": _ratio(tn, tn + fp),
    }
    out = {name: value.mean(axis=1) for name, value in scores.items()}
    out["accuracy"] = ((tp + tn)[:, 0] if binary else tp.sum(axis=1)) / max(n, 1)
    return out


def _rank_auc(labels: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """Mann-Whitney AUC per draw from mid-ranks; multiclass: mean over classes with both outcomes."""
    n = labels.shape[1]
    positives = labels.sum(axis=1)
    wins = np.einsum("bnk,nk->bk", labels, ranks) - positives * (positives + 1) / 2
    pairs = positives * (n - positives)
    auc = np.where(pairs > 0, wins / np.where(pairs > 0, pairs, 1.0), np.nan)
    return np.nanmean(auc, axis=1) if np.isfinite(auc).any() else np.full(labels.shape[0], np.nan)


def _expected_auc(scores: np.ndarray, p: np.ndarray) -> float:
    """Expected ROC AUC (see the module docstring), mean over classes for multiclass."""
    values = [_expected_auc_one(scores[:, k], p[:, k]) for k in range(p.shape[1])]
    finite = [v for v in values if np.isfinite(v)]
    return float(np.mean(finite)) if finite else float("nan")


def _expected_auc_one(scores: np.ndarray, p: np.ndarray) -> float:
    order = np.argsort(scores, kind="stable")
    s, pp = scores[order], p[order]
    neg = 1.0 - pp
    starts = np.flatnonzero(np.concatenate(([True], s[1:] != s[:-1])))
    group = np.cumsum(np.isin(np.arange(s.size), starts)) - 1
    group_neg = np.add.reduceat(neg, starts)
    below = np.concatenate(([0.0], np.cumsum(group_neg)[:-1]))
    wins = float((pp * (below[group] + 0.5 * (group_neg[group] - neg))).sum())
    pairs = float(pp.sum() * neg.sum() - (pp * neg).sum())
    return wins / pairs if pairs > 0 else float("nan")
