"""Multiclass probability metrics of a window from its label profile's per-class scores.

The profile part is :class:`~driftscope.storage.profiles.class_scores.ClassScores`; labels and
classes are read like the reference target (:func:`~driftscope.monitors.windows.as_like`), and a
label is paired with the class equal to it, as :func:`driftscope.monitors.metrics.classification_data`
pairs them on the rows path.

* ``roc_auc`` (one-vs-rest, macro) and ``roc_auc_weighted``: class ``k``'s AUC from the
  histograms of ``p_k`` of its positives (label ``k``) and negatives, pairs in one bin counting
  1/2, so ``|AUC_k - exact_k| <= b_k = sum_bins pos·neg / (2 P N)``; the macro average is within
  ``mean_k b_k`` of the exact one, the weighted within ``sum_k w_k b_k / sum_k w_k`` (the error
  bound), both over the classes with positives and negatives, as the rows path averages them. A
  labelled class without a probability column scores 0 on every row (the rows path's zero
  column): its AUC is 1/2, exactly.
* ``log_loss`` ``-mean ln p_y`` and ``brier`` ``mean (q - 2 p_y + 1)`` (``q = sum_k p_k²``, ``p_y = 0``
  for a label without a column), exact from the sums, over the rows whose probabilities are all finite.

Resampling: the AUCs draw the label counts ``M ~ Multinomial(n, counts / n)`` once per resample and,
for each class ``k`` and label ``l``, the bins of ``p_k`` among the ``M_l`` rows from
``Multinomial(M_l, histogram_kl / count_l)``. Each class's AUC so has the row bootstrap's
distribution, but the dependence of one row's ``p_k`` across classes is not in the profile, and
left out it made the interval of the average too narrow (0.75 of the rows path's width, measured).
So the classes are coupled comonotonically: each class's resampled AUCs are sorted and the
``b``-th resample averages the ``b``-th smallest of every class. Its spread is
``mean_k sd_k >= sd(mean_k AUC_k)`` (the standard deviation of a sum is at most the sum of the
standard deviations), so the interval is conservative: 1.5 times the rows path's width on 4 classes
(``docs/statistics.md``), and a drop is called less often than on the rows path, never more by this.
Log loss and Brier are normal with the delta-method standard error ``sd / sqrt(n)`` (sd from the
sums of squares).
"""

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from driftscope.monitors.profiles.moments import Scored
from driftscope.monitors.windows import as_like
from driftscope.storage.profiles.class_scores import EPS, SCORE_BINS, ClassScores

CLASS_METRICS = frozenset({"roc_auc", "roc_auc_weighted", "log_loss", "brier"})


def class_metric_scores(scores: ClassScores, label_counts: Mapping[str, float], like: pd.Series | None,
                        names: set[str], n_bootstrap: int, seed: int) -> dict[str, Scored]:
    """Value, resamples and error bound of each named multiclass probability metric.

    ``label_counts``: labelled rows per stored label text (the profile's cells summed over
    predictions and bins).
    """
    rng = np.random.default_rng(seed)
    out: dict[str, Scored] = {}
    if names & {"roc_auc", "roc_auc_weighted"}:
        out |= _auc_scores(scores, label_counts, like, names, n_bootstrap, rng)
    if names & {"log_loss", "brier"}:
        out |= {k: v for k, v in _loss_scores(scores, like, n_bootstrap, rng).items() if k in names}
    return out


def _converted(texts: list[str], like: pd.Series | None) -> list[Any]:
    """``texts`` read like the reference target (None where unreadable)."""
    values = as_like(pd.Series(texts, dtype=object), like)
    return [None if missing else v for v, missing in zip(values.tolist(), values.isna().tolist(), strict=True)]


def _auc_scores(scores: ClassScores, label_counts: Mapping[str, float], like: pd.Series | None, names: set[str],
                n_bootstrap: int, rng: np.random.Generator) -> dict[str, Scored]:
    texts = sorted(label_counts)
    as_label = dict(zip(texts, _converted(texts, like), strict=True))
    labels = sorted({v for v in as_label.values() if v is not None}, key=str)
    index = {v: i for i, v in enumerate(labels)}
    counts = np.zeros(len(labels))
    for text, count in label_counts.items():
        if as_label[text] in index:
            counts[index[as_label[text]]] += count
    class_texts = sorted({k[1] for k in scores.ovr} | {k[1] for k in scores.pairs})
    as_class = dict(zip(class_texts, _converted(class_texts, like), strict=True))
    columns = sorted({v for v in as_class.values() if v is not None}, key=str)
    hist = np.zeros((len(columns), len(labels), SCORE_BINS + 1))  # last bin: rows without a finite p_k
    column_index = {v: i for i, v in enumerate(columns)}
    for (label, cls, b), n in scores.ovr.items():
        if as_label.get(label) in index and as_class[cls] in column_index:
            hist[column_index[as_class[cls]], index[as_label[label]], b] += n
    hist[:, :, -1] = np.maximum(counts[None, :] - hist[:, :, :-1].sum(axis=2), 0.0)
    positive = [index.get(c, -1) for c in columns]
    tied = [i for i, v in enumerate(labels) if v not in column_index]  # classes without a column: all p_k = 0
    aucs, support = _class_aucs(hist[None], counts[None], positive, tied)
    bounds = np.array([_bound(hist[k], positive[k]) for k in range(len(columns))] + [0.0] * len(tied))
    samples = [_class_aucs(*_resampled(hist, counts, size, rng), positive, tied)
               for size in _blocks(n_bootstrap, len(columns) * len(labels))]
    drawn_aucs = np.concatenate([a for a, _ in samples]) if samples else np.empty((0, aucs.shape[1]))
    drawn_support = np.concatenate([w for _, w in samples]) if samples else np.empty((0, aucs.shape[1]))
    out: dict[str, Scored] = {}
    for name, weighted in (("roc_auc", False), ("roc_auc_weighted", True)):
        if name in names:
            value = _average(aucs, support, weighted)[0]
            finite = np.isfinite(aucs[0])
            w = support[0] * finite if weighted else finite.astype(np.float64)
            bound = float((w * bounds).sum() / w.sum()) if w.sum() > 0 else 0.0
            drawn = _average(np.sort(drawn_aucs, axis=0), drawn_support, weighted)
            out[name] = (float(value), drawn, bound)
    return out


def _class_aucs(hist: np.ndarray, counts: np.ndarray, positive: list[int], tied: list[int]
                ) -> tuple[np.ndarray, np.ndarray]:
    """Per resample (axis 0) the AUC and support of each class: column classes, then label-only ones.

    ``hist``: ``(B, K, L, bins + 1)`` counts; ``counts``: ``(B, L)`` rows per label.
    """
    n = counts.sum(axis=1)
    aucs, support = [], []
    for k, pos_label in enumerate(positive):
        scored = hist[:, k, :, :-1]
        pos = scored[:, pos_label] if pos_label >= 0 else np.zeros_like(scored[:, 0])
        neg = scored.sum(axis=1) - pos
        aucs.append(binned_auc(pos, neg))
        support.append(counts[:, pos_label] if pos_label >= 0 else np.zeros(counts.shape[0]))
    for label in tied:
        own = counts[:, label]
        aucs.append(np.where((own > 0) & (own < n), 0.5, np.nan))
        support.append(own)
    empty = np.zeros((counts.shape[0], 0))
    return (np.stack(aucs, axis=1) if aucs else empty), (np.stack(support, axis=1) if support else empty)


def binned_auc(pos: np.ndarray, neg: np.ndarray) -> np.ndarray:
    """AUC per row from histograms ``(B, bins)`` of positives and negatives over ordered bins, ties 1/2.

    Examples
    --------
    >>> binned_auc(np.array([[0.0, 1.0, 1.0]]), np.array([[1.0, 1.0, 0.0]]))
    array([0.875])
    """
    below = np.cumsum(neg, axis=1) - neg
    wins = (pos * (below + 0.5 * neg)).sum(axis=1)
    pairs = pos.sum(axis=1) * neg.sum(axis=1)
    return np.where(pairs > 0, wins / np.where(pairs > 0, pairs, 1.0), np.nan)


def _bound(hist: np.ndarray, pos_label: int) -> float:
    """``sum_b pos_b neg_b / (2 P N)`` of one class (``hist``: ``(L, bins + 1)``)."""
    if pos_label < 0:
        return 0.0
    scored = hist[:, :-1]
    pos = scored[pos_label]
    neg = scored.sum(axis=0) - pos
    pairs = pos.sum() * neg.sum()
    return float((pos * neg).sum() / (2.0 * pairs)) if pairs > 0 else 0.0


def _average(aucs: np.ndarray, support: np.ndarray, weighted: bool) -> np.ndarray:
    """Per row the mean of the finite AUCs (weighted by support when ``weighted``); NaN when none."""
    finite = np.isfinite(aucs)
    w = np.where(finite, support if weighted else 1.0, 0.0)
    total = w.sum(axis=1)
    summed = (np.where(finite, aucs, 0.0) * w).sum(axis=1)
    return np.where(total > 0, summed / np.where(total > 0, total, 1.0), np.nan)


def _blocks(n_resamples: int, cells: int) -> list[int]:
    per_block = max(1, 200_000 // max(cells * (SCORE_BINS + 1), 1))
    return [min(per_block, n_resamples - done) for done in range(0, n_resamples, per_block)]


def _resampled(hist: np.ndarray, counts: np.ndarray, size: int, rng: np.random.Generator
               ) -> tuple[np.ndarray, np.ndarray]:
    """``size`` resamples: label counts from the multinomial, each (class, label)'s bins given them."""
    n = round(float(counts.sum()))
    drawn_counts = rng.multinomial(n, counts / counts.sum(), size=size).astype(np.float64)
    drawn = np.zeros((size, *hist.shape))
    for k in range(hist.shape[0]):
        for label in np.flatnonzero(counts > 0):
            p = np.clip(hist[k, label], 0.0, None)
            drawn[:, k, label] = rng.multinomial(drawn_counts[:, label].astype(np.int64), p / p.sum())
    return drawn, drawn_counts


def _loss_scores(scores: ClassScores, like: pd.Series | None, n_bootstrap: int, rng: np.random.Generator
                 ) -> dict[str, Scored]:
    """Log loss and Brier from the sums of the label's own class, with normal resamples."""
    n, sum_q, sum_q2 = np.sum(list(scores.rows.values()), axis=0) if scores.rows else np.zeros(3)
    if round(float(n)) <= 0:
        return {}
    pairs = list(scores.pairs)
    own = np.array([a == b and a is not None for a, b in zip(_converted([k[0] for k in pairs], like),
                                                               _converted([k[1] for k in pairs], like), strict=True)])
    matched = (np.array([scores.pairs[k] for k in pairs])[own].sum(axis=0) if own.any() else np.zeros(6))
    n_own, s_ln, s_ln2, s_p, s_p2, s_pq = matched
    ln_eps = np.log(EPS)  # a label without a probability column: p_y = 0, clipped to EPS
    n_none = n - n_own
    log_loss = -(s_ln + n_none * ln_eps) / n
    log_loss2 = (s_ln2 + n_none * ln_eps * ln_eps) / n
    brier = (sum_q + n - 2.0 * s_p) / n
    brier2 = (sum_q2 + 2.0 * sum_q + n - 4.0 * s_pq - 4.0 * s_p + 4.0 * s_p2) / n
    z = rng.standard_normal(n_bootstrap)
    se_ll = np.sqrt(max(log_loss2 - log_loss * log_loss, 0.0) / n)
    se_brier = np.sqrt(max(brier2 - brier * brier, 0.0) / n)
    return {"log_loss": (float(log_loss), log_loss + se_ll * z, None),
            "brier": (float(brier), brier + se_brier * z, None)}
