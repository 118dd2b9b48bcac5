"""Vectorised bootstrap: resampling as count weights, percentile intervals and a one-sided drop test.

Resampling ``n`` rows with replacement is the same as giving row ``i`` the weight ``W[b, i]`` = the
number of times it was drawn in resample ``b`` (a multinomial count vector summing to ``n``). Every
metric in :mod:`driftscope.monitors.metrics` is a weighted statistic, so ``B`` resamples cost a few matrix
products instead of ``B`` Python calls. Weights come in blocks of at most :data:`BLOCK_CELLS`
cells to bound memory on large windows.

Conventions: ``n_resamples`` resamples (default :data:`DEFAULT_RESAMPLES`), a seeded
:class:`numpy.random.Generator` (PCG64) so the same data always gives the same interval, and the
percentile interval (the ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` quantiles of the
finite resampled values, linear interpolation).

BLAS runs single-threaded here: the products are thin (``B x n`` by ``n x k``) and multi-threaded
BLAS on a busy machine was measured 20x slower from thread oversubscription.
"""

import functools
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np
from threadpoolctl import ThreadpoolController

DEFAULT_RESAMPLES = 1000
DEFAULT_CONFIDENCE = 0.95
DEFAULT_SEED = 0
BLOCK_CELLS = 4_000_000


@functools.cache
def _blas_controller() -> ThreadpoolController:
    return ThreadpoolController()


def single_threaded_blas() -> Any:
    """A context manager limiting BLAS to one thread (libraries are looked up once, on first use)."""
    return _blas_controller().limit(limits=1, user_api="blas")


def weight_blocks(n: int, n_resamples: int, seed: int, size_drawn: int | None = None) -> Iterator[np.ndarray]:
    """Yield ``(block, n)`` float arrays of bootstrap count weights, ``n_resamples`` rows in all.

    Each row counts ``size_drawn`` draws with replacement from the ``n`` rows (default ``n``: the
    ordinary bootstrap; fewer or more: an ``m``-out-of-``n`` bootstrap at another sample size).

    Examples
    --------
    >>> blocks = list(weight_blocks(4, 3, seed=0))
    >>> np.vstack(blocks).sum(axis=1).tolist()
    [4.0, 4.0, 4.0]
    >>> np.vstack(list(weight_blocks(4, 2, seed=0, size_drawn=10))).sum(axis=1).tolist()
    [10.0, 10.0]
    """
    rng = np.random.default_rng(seed)
    m = n if size_drawn is None else size_drawn
    per_block = max(1, BLOCK_CELLS // max(n, m, 1))
    done = 0
    while done < n_resamples:
        size = min(per_block, n_resamples - done)
        draws = rng.integers(0, n, size=(size, m)) if n else np.zeros((size, 0), dtype=np.int64)
        flat = (draws + n * np.arange(size)[:, None]).ravel()
        yield np.bincount(flat, minlength=size * n).reshape(size, n).astype(np.float64)
        done += size


def resample(
    statistics: Mapping[str, Callable[[np.ndarray], np.ndarray]], n: int, n_resamples: int, seed: int,
    size_drawn: int | None = None,
) -> dict[str, np.ndarray]:
    """Bootstrap distributions of weighted statistics ``f(weights) -> (block,)`` over ``n`` rows.

    ``size_drawn`` rows are drawn per resample (default ``n``; see :func:`weight_blocks`).

    All statistics see the same resamples (common random numbers), so their distributions can be
    compared resample by resample.

    Examples
    --------
    >>> values = np.array([1.0, 2.0, 3.0, 4.0])
    >>> out = resample({"mean": lambda w: w @ values / w.sum(axis=1)}, 4, 200, seed=1)
    >>> out["mean"].shape, bool(1.0 <= out["mean"].min() and out["mean"].max() <= 4.0)
    ((200,), True)
    """
    parts: dict[str, list[np.ndarray]] = {name: [] for name in statistics}
    with single_threaded_blas():
        for block in weight_blocks(n, n_resamples, seed, size_drawn) if n_resamples > 0 else ():
            for name, statistic in statistics.items():
                parts[name].append(statistic(block))
    return {name: np.concatenate(chunks) if chunks else np.empty(0) for name, chunks in parts.items()}


def percentile_interval(samples: np.ndarray, confidence: float = DEFAULT_CONFIDENCE) -> tuple[float, float] | None:
    """Percentile bootstrap interval of the finite ``samples``; None when there are none.

    Examples
    --------
    >>> percentile_interval(np.arange(101.0), 0.5)
    (25.0, 75.0)
    """
    finite = samples[np.isfinite(samples)]
    if finite.size == 0:
        return None
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(finite, [tail, 1.0 - tail])
    return float(low), float(high)


def drop_p_value(current: np.ndarray, reference: np.ndarray, *, higher_is_better: bool) -> float | None:
    """One-sided bootstrap p-value of "current is no worse than reference".

    With independent bootstrap distributions of the current and the reference statistic, paired
    by resample index, ``d_b = current_b - reference_b`` (sign flipped when lower is better, so a
    negative ``d`` is a drop) and ``p = (1 + #{d_b >= 0}) / (1 + B)`` over the ``B`` pairs where
    both are finite. A small p means the drop is larger than resampling noise. None without pairs.

    Examples
    --------
    >>> drop_p_value(np.full(99, 0.7), np.full(99, 0.8), higher_is_better=True)
    0.01
    >>> drop_p_value(np.full(99, 0.9), np.full(99, 0.8), higher_is_better=True)
    1.0
    """
    size = min(current.size, reference.size)
    diff = current[:size] - reference[:size]
    diff = diff[np.isfinite(diff)]
    if diff.size == 0:
        return None
    if not higher_is_better:
        diff = -diff
    return float((1 + np.count_nonzero(diff >= 0)) / (1 + diff.size))
