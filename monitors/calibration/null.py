"""The null distribution of a calibrated statistic, its threshold and Monte Carlo p-values.

Null draws (convention): a two-sample bootstrap under "no drift" from the reference's empirical
distribution over its cells (Efron & Tibshirani 1993, ch. 16): each draw is a pseudo-reference of
``n_reference`` counts ~ Multinomial(n_reference, p_ref) and an independent pseudo-window of
``n_window`` counts ~ Multinomial(n_window, p_ref), and the statistic compares them as the real
test compares the reference with a window. This mirrors the real comparison at its exact sizes,
whatever the window's size: a split of the reference (subsample against the rest) cannot reach
windows larger than half the reference and compares against a smaller pseudo-reference. The
bootstrap treats the reference's cell proportions as the truth, which at the reference sizes we
serve (thousands of rows and more) costs little.

Threshold: with ``B`` sorted draws ``s_1 <= ... <= s_B`` and ``K = floor(rate * (B + 1)) - 1``, a
statistic is a false-alarm candidate when it exceeds ``s_(B-K)``; this is exactly
``p <= rate`` for the Monte Carlo p-value ``p = (1 + #{draws >= observed}) / (B + 1)``, whose false
alarm rate under the null is at most ``rate`` (Davison & Hinkley 1997, §4.2). With
``rate * (B + 1) < 1`` no threshold exists (infinite).
"""

from dataclasses import dataclass

import numpy as np

from driftscope.monitors.calibration.cells import Cells
from driftscope.monitors.calibration.statistics import CALIBRATED

DEFAULT_DRAWS = 1000
DEFAULT_SEED = 0
_BLOCK_CELLS = 2_000_000


@dataclass(frozen=True, eq=False)
class NullDistribution:
    """Sorted null draws of one statistic for one column, method and size band.

    Attributes
    ----------
    method : str
        Registry name of the statistic.
    band : int
        Size band (:func:`~driftscope.monitors.calibration.bands.size_band`).
    n_window, n_reference : int
        Sizes the draws were made at.
    draws : ndarray of float64
        The null statistics, sorted ascending (``inf`` allowed).
    """

    method: str
    band: int
    n_window: int
    n_reference: int
    draws: np.ndarray

    def p_value(self, observed: float) -> float:
        """Monte Carlo p-value ``(1 + #{draws >= observed}) / (B + 1)``.

        Examples
        --------
        >>> null = NullDistribution("ks", 0, 1, 1, np.arange(99.0))
        >>> null.p_value(98.0), null.p_value(98.5), null.p_value(-1.0)
        (0.02, 0.01, 1.0)
        """
        at_least = self.draws.size - int(np.searchsorted(self.draws, observed, side="left"))
        return (1 + at_least) / (self.draws.size + 1)

    def threshold(self, rate: float) -> float:
        """The statistic above which ``p_value <= rate`` (``inf`` when no draw count allows it).

        Examples
        --------
        >>> null = NullDistribution("ks", 0, 1, 1, np.arange(1.0, 100.0))
        >>> null.threshold(0.05), null.p_value(95.0), null.p_value(95.5)
        (95.0, 0.06, 0.05)
        """
        exceed = int(np.floor(rate * (self.draws.size + 1) + 1e-9)) - 1
        if exceed < 0:
            return float("inf")
        return float(self.draws[self.draws.size - 1 - exceed])


def draw_null(
    cells: Cells, method: str, n_window: int, band: int, *, n_draws: int = DEFAULT_DRAWS, seed: int = DEFAULT_SEED,
) -> NullDistribution:
    """Draw the null distribution of ``method`` on ``cells`` at window size ``n_window``.

    Examples
    --------
    >>> from driftscope.monitors.calibration.cells import Cells
    >>> cells = Cells(None, np.empty(0), np.array([500, 500, 0]), 0, 1.0)
    >>> null = draw_null(cells, "tvd", 100, 26, n_draws=200)
    >>> null.draws.size, bool(0.0 <= null.draws[0] <= null.draws[-1] < 0.5)
    (200, True)
    """
    statistic = CALIBRATED[method]
    n_reference = cells.n_reference
    probabilities = cells.reference / max(n_reference, 1)
    rng = np.random.default_rng(seed)
    per_block = max(1, _BLOCK_CELLS // max(cells.reference.size, 1))
    parts = []
    done = 0
    while done < n_draws:
        size = min(per_block, n_draws - done)
        reference = multinomial_rows(rng, n_reference, probabilities, size)
        window = multinomial_rows(rng, n_window, probabilities, size)
        parts.append(statistic(reference, window, cells))
        done += size
    draws = np.sort(np.concatenate(parts)) if parts else np.empty(0)
    return NullDistribution(method, band, n_window, n_reference, draws)


def multinomial_rows(rng: np.random.Generator, n: int, probabilities: np.ndarray, size: int) -> np.ndarray:
    """``size`` rows of Multinomial(n, probabilities) counts, by conditional binomials per cell.

    Same distribution as ``rng.multinomial(n, probabilities, size)``, drawn one cell at a time for
    all rows together (``X_j ~ Binomial(n - X_1 - ... - X_(j-1), p_j / (1 - p_1 - ... - p_(j-1)))``),
    which is several times faster than numpy's row-by-row loop for hundreds of cells.

    Examples
    --------
    >>> rows = multinomial_rows(np.random.default_rng(0), 50, np.array([0.2, 0.3, 0.5, 0.0]), 4)
    >>> rows.sum(axis=1).tolist(), rows[:, 3].tolist()
    ([50, 50, 50, 50], [0, 0, 0, 0])
    """
    counts = np.zeros((size, probabilities.size), dtype=np.int64)
    remaining = np.full(size, n, dtype=np.int64)
    mass_left = 1.0
    last = int(np.flatnonzero(probabilities)[-1]) if np.any(probabilities > 0) else -1
    for j in range(last + 1):
        p = probabilities[j]
        if p <= 0:
            continue
        if j == last:
            counts[:, j] = remaining
            break
        share = min(1.0, p / mass_left) if mass_left > 0 else 1.0
        counts[:, j] = rng.binomial(remaining, share)
        remaining -= counts[:, j]
        mass_left -= p
    return counts
