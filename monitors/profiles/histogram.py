"""Count-based drift tests on a profile's cells: the registry's formulas, the profile's bins.

Cells are the column's histogram cells (numeric: quantile bins of the reference plus under- and
overflow) or its categories (reference categories, then each kept new category, then "other").
Each function takes aligned ``reference`` and ``current`` count vectors and applies the same
formula, zero filling and log base as the registry method of the same name
(:mod:`driftscope.monitors.stattests`); only the bins differ for numeric columns (the exact path
uses Sturges edges over the pooled values). On categorical columns with at most ``TOP_NEW`` new
categories the cells are the exact path's categories, so the results are identical.
"""

from collections.abc import Callable

import numpy as np
from scipy.spatial.distance import jensenshannon as scipy_jensenshannon
from scipy.stats import chisquare as scipy_chisquare
from scipy.stats import entropy, norm

from driftscope.monitors.stattests.base import Score
from driftscope.monitors.stattests.binning import fill_zeroes

CountTest = Callable[[np.ndarray, np.ndarray], Score]


def _shares(reference: np.ndarray, current: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return reference / reference.sum(), current / current.sum()


def psi(reference: np.ndarray, current: np.ndarray) -> Score:
    """PSI ``sum((r - c) ln(r / c))`` with the registry's zero filling."""
    r, c = (fill_zeroes(s) for s in _shares(reference, current))
    return Score(float(np.sum((r - c) * np.log(r / c))))


def kl_div(reference: np.ndarray, current: np.ndarray) -> Score:
    """``KL(reference || current)``, natural log, zero filling as PSI."""
    r, c = (fill_zeroes(s) for s in _shares(reference, current))
    return Score(float(entropy(r, c)))


def jensenshannon(reference: np.ndarray, current: np.ndarray) -> Score:
    """Jensen-Shannon distance (natural log), no zero filling."""
    return Score(float(scipy_jensenshannon(*_shares(reference, current))))


def hellinger(reference: np.ndarray, current: np.ndarray) -> Score:
    """Hellinger distance ``sqrt(1 - sum(sqrt(r c)))`` of the cell shares (numeric columns too)."""
    r, c = _shares(reference, current)
    return Score(float(np.sqrt(1 - np.clip(np.sum(np.sqrt(r * c)), 0, 1))))


def chisquare(reference: np.ndarray, current: np.ndarray) -> Score:
    """Chi-square of current counts against reference counts scaled to the current size (empty cells dropped)."""
    used = (reference + current) > 0
    reference, current = reference[used], current[used]
    if reference.size <= 1:
        return Score(0.0, 1.0)
    expected = reference * (current.sum() / reference.sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        result = scipy_chisquare(current, expected)
    return Score(float(result.statistic), float(result.pvalue))


def ztest(reference: np.ndarray, current: np.ndarray) -> Score:
    """Two-proportion z-test of "not the first cell" (the first category in sorted order)."""
    used = np.flatnonzero((reference + current) > 0)
    if used.size <= 1:
        return Score(0.0, 1.0)
    first = used[0]
    n1, n2 = float(reference.sum()), float(current.sum())
    p1, p2 = (n1 - reference[first]) / n1, (n2 - current[first]) / n2
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1.0 / n1 + 1.0 / n2))
    return Score(float(z), float(2 * (1 - norm.cdf(np.abs(z)))))


def tvd(reference: np.ndarray, current: np.ndarray, *, n_permutations: int = 1000, seed: int = 0) -> Score:
    """Total variation distance with a permutation p-value drawn from the counts alone.

    A random split of the pooled rows into samples of the original sizes has, per cell, a
    multivariate hypergeometric count on the reference side; ``numpy``'s
    ``Generator.multivariate_hypergeometric`` draws those directly, so the p-value has the exact
    path's distribution (not its random stream).
    """
    n_ref, n_cur = int(reference.sum()), int(current.sum())
    total = (reference + current).astype(np.int64)
    observed = np.abs(reference * n_cur - current * n_ref).sum()
    drawn = np.random.default_rng(seed).multivariate_hypergeometric(total, n_ref, size=n_permutations)
    distances = np.abs(drawn * n_cur - (total - drawn) * n_ref).sum(axis=1)
    statistic = 0.5 * np.sum(np.abs(reference / n_ref - current / n_cur))
    return Score(float(statistic), float(np.mean(observed <= distances)))


COUNT_TESTS: dict[str, CountTest] = {
    "psi": psi, "kl_div": kl_div, "jensenshannon": jensenshannon, "hellinger": hellinger,
    "chisquare": chisquare, "ztest": ztest, "tvd": tvd,
}
"""Registry methods the profile path computes exactly on its cells."""
