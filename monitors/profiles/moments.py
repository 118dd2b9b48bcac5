"""Regression metrics of a window from its label profile's error moments, with normal resamples.

The moments are those of :mod:`driftscope.storage.profiles.labelled` (``e = y - y_hat``, ``n``
rows). Each metric's resampling distribution is normal around its value with the delta-method
standard error (seed ``seed``, ``n_bootstrap`` draws; the same standard normal draws serve every
metric):

* MAE ``sd(|e|) / sqrt(n)``, MAPE ``sd(ape) / sqrt(n)`` (population sd from the sums of squares);
* RMSE: MSE ± ``sd(e²) / sqrt(n)``, the square root of each draw (``≈ sd(e²) / (2 RMSE sqrt(n))``);
* R² ``= 1 - SSE / M2`` (``SSE = sum e²``, ``M2 = sum (y - ȳ)²``): :func:`r2_standard_error`.
"""

import numpy as np

from driftscope.storage.profiles.labelled import LEGACY_MOMENTS, MOMENTS

Scored = tuple[float, np.ndarray, float | None]
"""A metric's value, its resampled values and its error bound (None: exact)."""


def r2_standard_error(moments: np.ndarray) -> float:
    """Delta-method standard error of R² from the moments (NaN for legacy moments or a constant target).

    With ``u = e²``, ``v = (y - ȳ)²``, ``A = mean u``, ``B = mean v`` and ``r = A / B = 1 - R²``,
    the influence function of ``R² = 1 - A / B`` is ``-(u - r v) / B`` (estimating ȳ adds nothing
    to first order, as ``E[d v / d ȳ] = 0``), and ``E[u - r v] = 0``, so

    ``Var(R²) ≈ E[(u - r v)²] / (n B²) = (sum e⁴ - 2 r sum e² (y - ȳ)² + r² M4) / M2²``

    with ``M4 = sum (y - ȳ)⁴``: all three sums are stored in the profile and merge exactly.

    Examples
    --------
    >>> from driftscope.storage.profiles.labelled import profile_rows
    >>> import pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> y = rng.normal(0, 1, 1000)
    >>> frame = pd.DataFrame({"label": y.astype(str), "prediction": y + rng.normal(0, 0.5, 1000)})
    >>> round(r2_standard_error(profile_rows(frame, "regression").moments), 3)  # theory: sqrt(0.25 / 1000) = 0.016
    0.018
    """
    if moments.size < len(MOMENTS):
        return float("nan")
    sse, s_e4, m2_y, m4_y, c2 = (float(moments[i]) for i in (3, 4, 8, 10, 12))
    if m2_y <= 0:
        return float("nan")
    r = sse / m2_y
    return float(np.sqrt(max(s_e4 - 2.0 * r * c2 + r * r * m4_y, 0.0)) / m2_y)


def moment_scores(moments: np.ndarray, n_bootstrap: int, seed: int) -> dict[str, Scored]:
    """Regression metrics from error moments, with normal resamples at their delta-method standard errors.

    R² of legacy moments (:data:`~driftscope.storage.profiles.labelled.LEGACY_MOMENTS` values) has no resamples.
    """
    n, _, s_abs, s_sq, s_e4, s_ape, s_ape2, _, m2_y = (float(v) for v in moments[:LEGACY_MOMENTS])
    if n <= 0:
        return {}
    z = np.random.default_rng(seed).standard_normal(n_bootstrap)
    mae, mse, mape = s_abs / n, s_sq / n, s_ape / n
    se_mae = np.sqrt(max(mse - mae * mae, 0.0) / n)
    se_mse = np.sqrt(max(s_e4 / n - mse * mse, 0.0) / n)
    se_mape = np.sqrt(max(s_ape2 / n - mape * mape, 0.0) / n)
    r2 = 1.0 - s_sq / m2_y if m2_y > 0 else float("nan")
    se_r2 = r2_standard_error(moments)
    return {"mae": (mae, mae + se_mae * z, None),
            "rmse": (float(np.sqrt(mse)), np.sqrt(np.maximum(mse + se_mse * z, 0.0)), None),
            "mape": (mape, mape + se_mape * z, None),
            "r2": (r2, r2 + se_r2 * z if np.isfinite(se_r2) else np.empty(0), None)}
