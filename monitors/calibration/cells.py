"""Reference cells: the fixed partition every calibrated statistic and effect size is computed on.

The reference and the window are both reduced to counts over the same cells, so the observed
statistic and its null draws are one function of counts (:mod:`~driftscope.monitors.calibration.statistics`).
Cells (conventions):

* categorical and binary columns: the reference categories in profile order, plus one last
  "unseen" cell (reference count 0) for categories the reference never had;
* numeric columns with at most 20 distinct reference values: one cell per value; a window value
  goes to the cell of the nearest reference value (edges at the midpoints);
* other numeric columns, for the CDF methods (ks, wasserstein, energy) and the effect size:
  :data:`QUANTILE_CELLS` (256) cells of equal reference mass (edges at reference quantiles; ties
  merge cells), each located at the mean reference value in it;
* other numeric columns, for the histogram methods (psi, jensenshannon, kl_div, hellinger,
  chisquare, ztest): Sturges bins over the reference range for ``n_reference + n_window`` values,
  as Evidently's pooled-data histogram would have for a window inside the reference range.

Numeric window values below the first or above the last edge go to the end cells; how far they
lie outside is reported by the out-of-range share and added to the effect size.
"""

from dataclasses import dataclass

import numpy as np

from driftscope.monitors.stattests.binning import histogram_edges
from driftscope.monitors.stattests.columns import MAX_UNIQUE_AS_CATEGORIES, CategoricalReference, NumericReference

QUANTILE_CELLS = 256
CDF_METHODS = frozenset({"ks", "wasserstein", "energy"})


@dataclass(frozen=True, eq=False)
class Cells:
    """A partition of a column's values and the reference counts over it.

    Attributes
    ----------
    edges : ndarray or None
        Interior edges of numeric cells (cell ``i`` holds ``edges[i-1] < v <= edges[i]``);
        None for categorical cells.
    centres : ndarray
        Location of each cell (reference mean in it) for the CDF distances; empty for categorical.
    reference : ndarray of int64
        Reference count per cell.
    first : int
        The cell the z-test compares with the rest (the smallest reference value or category).
    scale : float
        Reference standard deviation (``ddof=0``), floored at 0.001; 1.0 for categorical cells.
    """

    edges: np.ndarray | None
    centres: np.ndarray
    reference: np.ndarray
    first: int
    scale: float

    @property
    def n_reference(self) -> int:
        """Reference values over all cells."""
        return int(self.reference.sum())


def numeric_cells(column: NumericReference, method: str, n_window: int) -> Cells:
    """Cells of a numeric reference column for ``method`` at window size ``n_window``.

    Examples
    --------
    >>> from driftscope.monitors.stattests.columns import fit_column
    >>> cells = numeric_cells(fit_column([1.0, 1.0, 2.0, 5.0], "numeric"), "ks", 10)
    >>> cells.edges.tolist(), cells.reference.tolist()
    ([1.5, 3.5], [2, 1, 1])
    """
    values = column.values
    if column.n_unique <= MAX_UNIQUE_AS_CATEGORIES:
        keys = column.uniques.astype(np.float64)
        edges = (keys[1:] + keys[:-1]) / 2.0
    elif method in CDF_METHODS:
        probabilities = np.arange(1, QUANTILE_CELLS) / QUANTILE_CELLS
        edges = np.unique(np.quantile(values, probabilities, method="inverted_cdf"))
    else:
        full = histogram_edges(float(values[0]), float(values[-1]), values.size + n_window, "sturges", column.integer)
        edges = full[1:-1]
    cumulative = np.concatenate(([0], np.searchsorted(values, edges, side="right"), [values.size]))
    counts = np.diff(cumulative)
    sums = np.diff(np.concatenate(([0.0], np.cumsum(values)))[cumulative])
    centres = sums / np.maximum(counts, 1)
    return Cells(edges, centres, counts.astype(np.int64), 0, max(column.std, 0.001))


def categorical_cells(column: CategoricalReference) -> Cells:
    """Cells of a categorical reference column: its categories, then the unseen cell.

    Examples
    --------
    >>> from driftscope.monitors.stattests.columns import fit_column
    >>> cells = categorical_cells(fit_column(["b", "a", "b"], "categorical"))
    >>> cells.reference.tolist(), cells.first
    ([2, 1, 0], 1)
    """
    categories = column.categories
    order = sorted(range(len(categories)), key=lambda i: str(categories[i]))
    first = order[0] if order else 0
    reference = np.concatenate((column.counts, [0])).astype(np.int64)
    return Cells(None, np.empty(0), reference, first, 1.0)


def cells_for(column: NumericReference | CategoricalReference, method: str, n_window: int) -> Cells:
    """The cells ``method`` is calibrated on for a window of ``n_window`` values."""
    if isinstance(column, NumericReference):
        return numeric_cells(column, method, n_window)
    return categorical_cells(column)


def numeric_counts(cells: Cells, values: np.ndarray) -> np.ndarray:
    """Counts of finite numeric ``values`` per cell."""
    if cells.edges is None:
        raise ValueError("numeric_counts needs numeric cells; these are categorical")
    return np.bincount(np.searchsorted(cells.edges, values, side="left"), minlength=cells.reference.size)


def categorical_counts(
    cells: Cells, column: CategoricalReference, uniques: np.ndarray, codes: np.ndarray
) -> np.ndarray:
    """Counts per cell of a window coded as ``codes`` into ``uniques`` (unseen categories pooled)."""
    position = column.categories.get_indexer(uniques)
    position[position < 0] = cells.reference.size - 1
    per_unique = np.bincount(codes, minlength=uniques.size)
    return np.bincount(position, weights=per_unique, minlength=cells.reference.size).astype(np.int64)
