"""Domain-classifier test of concept drift: features only versus features + label.

A classifier learns to tell reference rows (0) from window rows (1). With the features alone its
AUC measures how far the inputs moved; adding the label (and its interactions with every feature)
can only help when ``P(label | features)`` differs between the two, i.e. under concept drift. Pure
covariate drift gives a high features-only AUC but no gain from the label.

Conventions:

* Rows: labelled rows only, at most :data:`MAX_ROWS_PER_SIDE` per side (uniform subsample, seeded;
  the reference sample is drawn once at ``fit``).
* Encoding (learned from the labelled reference): numeric features one-hot in reference-decile
  bins plus a missing bin; categorical/binary features one-hot over the :data:`TOP_CATEGORIES`
  most frequent reference categories plus "other" and "missing"; the label one-hot over reference
  classes (classification) or reference-quintile bins (regression), first level dropped. The
  additive binned model can follow any per-feature shift, so the label is not a proxy for
  non-linear covariate drift; the label model adds label columns and feature x label interactions.
  With a logistic model in each domain the log density ratio is exactly of this form.
* Model: ``LogisticRegression(C=1.0, solver="liblinear")`` on sparse one-hot designs with
  single-threaded BLAS (small problems; on a busy machine threaded BLAS was measured 20x slower);
  out-of-fold probabilities from a seeded :data:`N_SPLITS`-fold stratified split shared by both
  models.
* Significance: DeLong's test for two correlated AUCs on the same rows (DeLong, DeLong and
  Clarke-Pearson 1988; the midrank form of Sun and Xu 2014), one-sided: ``p = 1 - Phi(z)`` with
  ``z = gap / se(gap)``. Flagged when ``p < alpha`` (default 0.01) and the gap is at least
  ``min_gap`` (default 0.02 AUC). Covariate changes that live only in feature interactions can
  leak into the gap; the effect floor keeps such small leaks from flagging.
"""

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sparse
from scipy import stats

from driftscope.errors import NotFittedError
from driftscope.extras import require
from driftscope.monitors.bootstrap import single_threaded_blas
from driftscope.monitors.windows import LABEL_COLUMN

MAX_ROWS_PER_SIDE = 2000
N_SPLITS = 3
MIN_ROWS_PER_SIDE = 2 * N_SPLITS
NUMERIC_BINS = 10
LABEL_BINS = 5
TOP_CATEGORIES = 20
DEFAULT_ALPHA = 0.01
DEFAULT_MIN_GAP = 0.02


@dataclass(frozen=True)
class DomainClassifierResult:
    """AUCs of telling reference from window with features only and with features + label."""

    auc_features: float
    auc_features_label: float
    gap: float
    p_value: float
    flagged: bool
    n_reference: int
    n_current: int


@dataclass(frozen=True, eq=False)
class _Column:
    """How one column is one-hot encoded: numeric bin edges or a category index."""

    edges: np.ndarray | None
    categories: pd.Index | None

    @property
    def width(self) -> int:
        if self.edges is not None:
            return self.edges.size + 2
        assert self.categories is not None, "an encoding has bin edges or categories"
        return len(self.categories) + 2

    def codes(self, values: pd.Series) -> np.ndarray:
        """Level of each value; the last level is "missing", the one before "other" (categorical)."""
        if self.edges is not None:
            numbers = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(np.float64)
            codes = np.searchsorted(self.edges, numbers, side="right")
            return np.where(np.isfinite(numbers), codes, self.width - 1)
        assert self.categories is not None, "an encoding has bin edges or categories"
        found = self.categories.get_indexer(pd.Index(category_text(values)))
        missing = pd.isna(pd.Series(values, dtype=object)).to_numpy()
        return np.where(missing, self.width - 1, np.where(found < 0, self.width - 2, found))

    def onehot(self, values: pd.Series) -> sparse.csr_matrix:
        """Sparse one-hot rows of ``values``."""
        codes = self.codes(values)
        return sparse.csr_matrix(
            (np.ones(codes.size), (np.arange(codes.size), codes)), shape=(codes.size, self.width)
        )


def category_text(values: pd.Series) -> pd.Series:
    """Category values as text; numbers holding integers print as integers, so 1, 1.0 and "1" agree.

    Examples
    --------
    >>> category_text(pd.Series([1, 0.0, 2.5, "a", None], dtype=object)).tolist()
    ['1', '0', '2.5', 'a', 'None']
    """
    series = pd.Series(values, dtype=object)
    numbers = pd.to_numeric(series, errors="coerce").to_numpy(np.float64)
    integral = np.isfinite(numbers) & (numbers == np.round(numbers)) & (np.abs(numbers) < 2**53)
    text = series.astype(str).to_numpy(dtype=object)
    text[integral] = numbers[integral].astype(np.int64).astype(str)
    return pd.Series(text, index=series.index, dtype=object)


def _fit_column(values: pd.Series, numeric: bool, bins: int) -> _Column:
    if numeric:
        numbers = pd.to_numeric(values, errors="coerce").to_numpy(np.float64)
        numbers = numbers[np.isfinite(numbers)]
        quantiles = np.linspace(0, 1, bins + 1)[1:-1]
        edges = np.unique(np.quantile(numbers, quantiles)) if numbers.size else np.empty(0)
        return _Column(edges, None)
    counts = category_text(pd.Series(values, dtype=object).dropna()).value_counts()
    return _Column(None, pd.Index(counts.index[:TOP_CATEGORIES], dtype=object))


def _interactions(features: sparse.csr_matrix, label: sparse.csr_matrix) -> sparse.csr_matrix:
    """Every feature column times every label column (row-wise products), as one sparse block."""
    blocks = [features.multiply(label[:, [j]]) for j in range(label.shape[1])]
    return sparse.hstack(blocks).tocsr() if blocks else sparse.csr_matrix((features.shape[0], 0))


def delong_one_sided(scores_a: np.ndarray, scores_b: np.ndarray, positive: np.ndarray) -> tuple[float, float, float]:
    """AUCs of two scorings of the same rows and DeLong's one-sided p-value of ``AUC_b > AUC_a``.

    Examples
    --------
    >>> y = np.array([False, False, True, True, False, True])
    >>> a = np.array([0.1, 0.4, 0.35, 0.8, 0.5, 0.3])
    >>> auc_a, auc_b, p = delong_one_sided(a, np.array([0.1, 0.2, 0.7, 0.9, 0.3, 0.6]), y)
    >>> round(auc_a, 4), auc_b, round(p, 4)
    (0.5556, 1.0, 0.0786)
    """
    pos, neg = positive, ~positive
    m, n = int(pos.sum()), int(neg.sum())
    aucs, v_pos, v_neg = [], [], []
    for scores in (scores_a, scores_b):
        ranks_all = stats.rankdata(scores)
        ranks_pos, ranks_neg = stats.rankdata(scores[pos]), stats.rankdata(scores[neg])
        aucs.append(float((ranks_all[pos].sum() - m * (m + 1) / 2) / (m * n)))
        v_pos.append((ranks_all[pos] - ranks_pos) / n)
        v_neg.append(1.0 - (ranks_all[neg] - ranks_neg) / m)
    cov = np.cov(np.vstack(v_pos)) / m + np.cov(np.vstack(v_neg)) / n
    variance = cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]
    gap = aucs[1] - aucs[0]
    if variance <= 0:
        return aucs[0], aucs[1], 0.0 if gap > 0 else 1.0
    return aucs[0], aucs[1], float(stats.norm.sf(gap / np.sqrt(variance)))


class DomainClassifier:
    """Fit on the labelled reference; evaluate a window's labelled rows.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=3000)
    >>> reference = pd.DataFrame({"x": x[:1500], "label": (x[:1500] > 0).astype(int)})
    >>> window = pd.DataFrame({"x": x[1500:], "label": (x[1500:] < 0).astype(int)})
    >>> result = DomainClassifier({"x": "numeric"}, regression=False).fit(reference).evaluate(window)
    >>> result.auc_features < 0.6, result.gap > 0.3, result.flagged
    (True, True, True)
    """

    def __init__(
        self,
        feature_types: Mapping[str, str],
        *,
        regression: bool,
        max_rows: int = MAX_ROWS_PER_SIDE,
        alpha: float = DEFAULT_ALPHA,
        min_gap: float = DEFAULT_MIN_GAP,
        seed: int = 0,
    ) -> None:
        self.feature_types = dict(feature_types)
        self.regression = regression
        self.max_rows = max_rows
        self.alpha = alpha
        self.min_gap = min_gap
        self.seed = seed

    def fit(self, reference: pd.DataFrame) -> "DomainClassifier":
        """Learn the encoding from the labelled reference and keep an encoded sample of it."""
        labelled = reference[reference[LABEL_COLUMN].notna()]
        self.columns_ = {
            name: _fit_column(labelled[name], kind == "numeric", NUMERIC_BINS)
            for name, kind in self.feature_types.items()
        }
        self.label_column_ = _fit_column(labelled[LABEL_COLUMN], self.regression, LABEL_BINS)
        self.reference_features_, self.reference_label_ = self._encode(self._sample(labelled, self.seed))
        return self

    def evaluate(self, current: pd.DataFrame) -> DomainClassifierResult:
        """Compare the out-of-fold AUCs of both models on reference + the window's labelled rows."""
        if not hasattr(self, "columns_"):
            raise NotFittedError("this DomainClassifier is not fitted: call fit(reference) first")
        labelled = current[current[LABEL_COLUMN].notna()]
        n_reference = self.reference_features_.shape[0]
        if min(len(labelled), n_reference) < MIN_ROWS_PER_SIDE:
            raise ValueError(
                f"the domain classifier needs at least {MIN_ROWS_PER_SIDE} labelled rows on each side, got "
                f"{n_reference} reference and {len(labelled)} window rows"
            )
        features, label = self._encode(self._sample(labelled, self.seed + 1))
        x_features = sparse.vstack([self.reference_features_, features]).tocsr()
        x_label = sparse.vstack([self.reference_label_, label]).tocsr()
        x_both = sparse.hstack([x_features, x_label, _interactions(x_features, x_label)]).tocsr()
        domain = np.r_[np.zeros(n_reference), np.ones(features.shape[0])]
        oof_features, oof_both = self._out_of_fold([x_features, x_both], domain)
        auc_features, auc_both, p_value = delong_one_sided(oof_features, oof_both, domain.astype(bool))
        gap = auc_both - auc_features
        return DomainClassifierResult(
            auc_features=auc_features, auc_features_label=auc_both, gap=gap, p_value=p_value,
            flagged=p_value < self.alpha and gap >= self.min_gap,
            n_reference=n_reference, n_current=features.shape[0],
        )

    def settings(self) -> dict[str, Any]:
        """The settings stored with each result, so a verdict can be reproduced."""
        return {"model": "LogisticRegression(C=1.0, liblinear)", "folds": N_SPLITS, "numeric_bins": NUMERIC_BINS,
                "max_rows_per_side": self.max_rows, "test": "delong", "min_gap": self.min_gap, "seed": self.seed}

    def _sample(self, frame: pd.DataFrame, seed: int) -> pd.DataFrame:
        if len(frame) <= self.max_rows:
            return frame
        rows = np.random.default_rng(seed).choice(len(frame), size=self.max_rows, replace=False)
        return frame.iloc[np.sort(rows)]

    def _encode(self, frame: pd.DataFrame) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
        blocks = [
            column.onehot(frame[name] if name in frame else pd.Series(np.nan, index=frame.index))
            for name, column in self.columns_.items()
        ]
        features = sparse.hstack(blocks).tocsr() if blocks else sparse.csr_matrix((len(frame), 0))
        return features, self.label_column_.onehot(frame[LABEL_COLUMN])[:, 1:]

    def _out_of_fold(self, designs: list[sparse.csr_matrix], domain: np.ndarray) -> list[np.ndarray]:
        sklearn_linear = require("sklearn.linear_model", "ml")
        sklearn_selection = require("sklearn.model_selection", "ml")
        sklearn_exceptions = require("sklearn.exceptions", "ml")
        folds = sklearn_selection.StratifiedKFold(n_splits=N_SPLITS, shuffle=True, random_state=self.seed)
        out = [np.zeros(domain.size) for _ in designs]
        with warnings.catch_warnings(), single_threaded_blas():
            warnings.simplefilter("ignore", sklearn_exceptions.ConvergenceWarning)
            for train, test in folds.split(np.zeros(domain.size), domain):
                for design, scores in zip(designs, out, strict=True):
                    model = sklearn_linear.LogisticRegression(C=1.0, solver="liblinear", random_state=self.seed)
                    scores[test] = model.fit(design[train], domain[train]).predict_proba(design[test])[:, 1]
        return out
