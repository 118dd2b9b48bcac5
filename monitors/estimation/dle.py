"""Direct loss estimation (DLE): a regressor's MAE and RMSE without labels.

Two models of the loss are trained on the labelled reference, from the features and the
prediction: one of the absolute error ``|y - ŷ|`` and one of the squared error ``(y - ŷ)²``
(scikit-learn's ``HistGradientBoostingRegressor``; categorical features natively, the
:data:`MAX_CATEGORIES` - 1 most frequent reference values, others as missing). A window's
estimates are ``MAE = mean(â)`` and ``RMSE = sqrt(mean(ŝ))``.

**Loss models.** Poisson deviance with its log link (``loss="poisson"``), not squared error: a
loss is non-negative and its spread grows with its size (errors scale with the price of what is
predicted), which a log link fits multiplicatively and never predicts below 0; the Poisson
deviance, like squared error, is minimised by the conditional mean, so ``mean(â)`` still estimates
the MAE. A single row's loss is a very noisy target, so leaves hold at least
:data:`MIN_LEAF_ROWS` rows (fewer on small references: a twentieth of them, at least 20).
Measured on NannyML's regression dataset (``bench/estimation_bench.py``), squared-error boosting
with scikit-learn's defaults was behind NannyML's LightGBM (MAE of the MAE estimate 9.63 vs 9.53,
RMSE estimate 16.43 vs 14.68); this setting is ahead (see ``docs/statistics.md``). A reference
whose loss is 0 on every row gets a constant model of 0 (Poisson needs a positive total).

**Band.** The realized MAE differs from the estimate by the mean of the rows' residuals
``|e| - â``; their standard deviation ``sd_abs`` is measured on the reference *out of fold*
(two folds, each predicted by a model fitted on the other), so ``σ_MAE = sd_abs / sqrt(n)``;
likewise ``σ_MSE = sd_sq / sqrt(n)`` and, by the delta method, ``σ_RMSE = σ_MSE / (2 RMSE)``.
The loss models are learned from ``n_ref`` reference rows, which adds an error of the same order
at ``n_ref`` rows: each σ is multiplied by ``sqrt(1 + n / n_ref)``. The band is
``estimate ± band_z σ`` clipped at 0 (``band_z = 3``).
"""

from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from driftscope.errors import NotFittedError
from driftscope.extras import require
from driftscope.monitors.estimation.cbpe import Estimate
from driftscope.monitors.estimation.registry import DLE_METRICS

MAX_CATEGORIES = 255
MIN_LEAF_ROWS = 200
"""Fewest reference rows in a leaf of a loss model (references of 4,000 rows or more)."""


class DLE:
    """Estimate MAE and RMSE of a regressor from its inputs.

    Parameters
    ----------
    features : dict of str to str
        Feature name -> type (numeric, categorical, binary); the prediction is added.
    metrics : sequence of str
        Names from :data:`~driftscope.monitors.estimation.registry.DLE_METRICS`.
    band_z : float
        Half-width of the band in standard deviations.
    seed : int
        Seed of the fold split and of the boosting models.
    """

    def __init__(self, features: dict[str, str], metrics: tuple[str, ...] | list[str] = DLE_METRICS, *,
                 band_z: float = 3.0, seed: int = 0) -> None:
        self.features = features
        self.metrics = metrics
        self.band_z = band_z
        self.seed = seed

    def fit(self, reference: pd.DataFrame, target: np.ndarray) -> "DLE":
        """Train the loss models on ``reference`` (features and ``prediction``) and its ``target``.

        Boosting runs on one OpenMP thread: on a shared machine its spinning worker threads cost
        more than they bring (measured: 200 s instead of 6 s for a 20k-row reference on 2 busy cores).
        """
        with threadpool_limits(limits=1, user_api="openmp"):
            return self._fit(reference, target)

    def _fit(self, reference: pd.DataFrame, target: np.ndarray) -> "DLE":
        self.categories_ = {
            name: pd.Index(reference[name].astype(object).value_counts().index[:MAX_CATEGORIES - 1])
            for name, kind in self.features.items() if kind == "categorical"
        }
        x = self._matrix(reference)
        error = target - reference["prediction"].to_numpy(np.float64)
        losses = {"abs": np.abs(error), "sq": error**2}
        folds = np.array_split(np.random.default_rng(self.seed).permutation(len(x)), 2)
        leaf = min(MIN_LEAF_ROWS, max(20, len(x) // 20))
        self.residual_sd_: dict[str, float] = {}
        for name, loss in losses.items():
            oof = np.empty(len(x))
            for held, rest in ((folds[0], folds[1]), (folds[1], folds[0])):
                oof[held] = self._model(loss[rest], leaf).fit(x[rest], loss[rest]).predict(x[held])
            self.residual_sd_[name] = float(np.std(loss - oof, ddof=1))
        self.models_ = {name: self._model(loss, leaf).fit(x, loss) for name, loss in losses.items()}
        self.n_reference_ = len(x)
        return self

    def estimate(self, window: pd.DataFrame) -> list[Estimate]:
        """MAE and RMSE estimates of ``window`` (features and ``prediction``; rows without a prediction dropped)."""
        if not hasattr(self, "models_"):
            raise NotFittedError("this DLE is not fitted: call fit(reference) first")
        window = window[pd.to_numeric(window["prediction"], errors="coerce").notna().to_numpy()]
        n = len(window)
        if n == 0:
            return [Estimate(m, float("nan"), float("nan"), float("nan"), float("nan")) for m in self.metrics]
        x = self._matrix(window)
        with threadpool_limits(limits=1, user_api="openmp"):
            mae = float(self.models_["abs"].predict(x).mean())
            mse = float(self.models_["sq"].predict(x).mean())
        rmse = float(np.sqrt(mse))
        scale = np.sqrt(1.0 / n + 1.0 / self.n_reference_)
        sigmas = {"mae": self.residual_sd_["abs"] * scale,
                  "rmse": self.residual_sd_["sq"] * scale / max(2.0 * rmse, 1e-300)}
        values = {"mae": mae, "rmse": rmse}
        return [Estimate(m, values[m], float(sigmas[m]), float(max(0.0, values[m] - self.band_z * sigmas[m])),
                         float(values[m] + self.band_z * sigmas[m])) for m in self.metrics]

    def _model(self, loss: np.ndarray, min_samples_leaf: int) -> Any:
        """A loss model for the non-negative ``loss`` (Poisson; squared error when it is 0 everywhere)."""
        ensemble = require("sklearn.ensemble", "ml")
        mask = [kind == "categorical" for kind in self.features.values()] + [False]
        return ensemble.HistGradientBoostingRegressor(
            loss="poisson" if loss.sum() > 0 else "squared_error", min_samples_leaf=min_samples_leaf,
            categorical_features=mask, early_stopping=False, random_state=self.seed)

    def _matrix(self, frame: pd.DataFrame) -> np.ndarray:
        columns = []
        for name, kind in self.features.items():
            if kind == "categorical":
                codes = pd.Categorical(frame[name].astype(object), categories=self.categories_[name]).codes
                columns.append(np.where(codes >= 0, codes, np.nan))
            else:
                columns.append(pd.to_numeric(frame[name], errors="coerce").to_numpy(np.float64))
        columns.append(pd.to_numeric(frame["prediction"], errors="coerce").to_numpy(np.float64))
        return np.column_stack(columns)
