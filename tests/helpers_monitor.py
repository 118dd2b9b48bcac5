"""Synthetic credit-scoring data with injectable drift, and a store built through driftscope's own API.

The true relation is ``P(y=1 | x) = sigmoid(1.5 (z_income - z_debt) + 0.6 [region = north] - 0.3)``
and the served model is that probability (a well-specified model), so each kind of drift has a
known cause:

* ``covariate``: income and debt_ratio move by +1 std together (their difference, the only thing
  the relation sees, keeps its distribution) and age moves too; ``P(y | x)``, the predictions and
  the performance are unchanged.
* ``concept``: inputs unchanged; the label now also depends on ``has_card`` (+/-1.5 on the logit).
* ``performance``: inputs and relation unchanged; the served probability of 45 % of rows is
  replaced by noise (a broken model push), so accuracy and AUC drop.
"""

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from driftscope.apply import apply_config
from driftscope.config import Config, parse_config
from driftscope.storage.db import transaction
from driftscope.storage.labels import write_labels
from driftscope.storage.predictions import write_predictions
from driftscope.storage.registry import get_version

FEATURES = {"income": "numeric", "age": "numeric", "debt_ratio": "numeric", "region": "categorical",
            "has_card": "binary"}
SCHEMA = {"id": "request_id", "timestamp": "ts", "prediction": "predicted_label", "probability": "score",
          "target": "defaulted", "positive_label": 1, "features": FEATURES}
KINDS = ("none", "covariate", "concept", "performance")


def credit_frame(n: int, *, kind: str = "none", seed: int = 0, start: datetime | None = None,
                 step: timedelta = timedelta(seconds=43), id_prefix: str = "r") -> pd.DataFrame:
    """``n`` canonical rows (``prediction_id``, ``ts``, ``prediction``, ``probability``, features, ``label``)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    rng = np.random.default_rng(seed)
    shift = 1.0 if kind == "covariate" else 0.0
    z_income, z_debt = rng.normal(shift, 1.0, n), rng.normal(shift, 1.0, n)
    age = rng.normal(45 + 12 * shift, 12, n).round()
    region = rng.choice(["north", "south", "east", "west"], n, p=[0.4, 0.3, 0.2, 0.1])
    has_card = rng.integers(0, 2, n)
    logit = 1.5 * (z_income - z_debt) + 0.6 * (region == "north") - 0.3
    truth = logit + (3.0 * (has_card - 0.5) if kind == "concept" else 0.0)
    label = (rng.uniform(size=n) < _sigmoid(truth)).astype(np.int64)
    probability = _sigmoid(logit)
    if kind == "performance":
        broken = rng.uniform(size=n) < 0.45
        probability = np.where(broken, rng.uniform(size=n), probability)
    frame = pd.DataFrame({
        "prediction_id": [f"{id_prefix}{i}" for i in range(n)],
        "ts": pd.date_range(start or datetime(2026, 1, 1), periods=n, freq=step, tz="UTC"),
        "prediction": (probability > 0.5).astype(np.int64),
        "probability": probability,
        "income": 50_000 + 12_000 * z_income,
        "age": age,
        "debt_ratio": 0.35 + 0.1 * z_debt,
        "region": region,
        "has_card": has_card,
        "label": label,
    })
    return frame


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def reference_file(path: Path, n: int = 4000, seed: int = 100) -> Path:
    """Write a reference parquet file in the configured (non-canonical) column names."""
    frame = credit_frame(n, seed=seed).drop(columns=["prediction_id", "ts"])
    frame = frame.rename(columns={"prediction": "predicted_label", "probability": "score", "label": "defaulted"})
    frame.to_parquet(path, index=False)
    return path


def config_document(tmp_path: Path, database_url: str, monitors: list[dict[str, Any]], **reference: Any) -> dict:
    """A ``driftscope.yaml`` document: one model (``credit``, version ``1.0``) and the given monitors."""
    ref = reference_file(tmp_path / "reference.parquet", **reference)
    return {
        "database_url": database_url,
        "models": [{"name": "credit", "task": "binary_classification",
                    "versions": [{"version": "1.0", "reference": str(ref)}], "schema": SCHEMA}],
        "monitors": monitors,
        "dashboard": {"reports_dir": str(tmp_path / "reports")},
    }


def make_config(tmp_path: Path, database_url: str, monitors: list[dict[str, Any]], **reference: Any) -> Config:
    """The validated :func:`config_document`."""
    return parse_config(config_document(tmp_path, database_url, monitors, **reference), base_dir=tmp_path)


def standard_monitors(window: str = "1d", detectors: list[str] | None = None) -> list[dict[str, Any]]:
    """One monitor of each kind on the ``credit`` model (concept detectors: all unless given)."""
    concept = {"name": "credit-concept", "model": "credit", "kind": "concept_drift", "window": window,
               "min_labels": 200}
    return [
        {"name": "credit-drift", "model": "credit", "kind": "data_drift", "window": window},
        {"name": "credit-performance", "model": "credit", "kind": "performance", "window": window,
         "metrics": ["accuracy", "roc_auc", "f1", "log_loss"], "min_labels": 200, "n_bootstrap": 300},
        concept | ({"detectors": detectors} if detectors else {}),
    ]


def store_rows(engine: Engine, config: Config, frame: pd.DataFrame, *, labels: bool = True,
               version: str = "1.0") -> None:
    """Write canonical rows (and their labels) of model ``credit`` through the storage API."""
    with transaction(engine) as session:
        info = get_version(session, "credit", version)
        write_predictions(session, model_version_id=info.id, frame=frame.drop(columns=["label"]), source="test")
        if labels:
            text = pd.DataFrame({"prediction_id": frame["prediction_id"], "label": frame["label"].astype(str),
                                 "ts": frame["ts"]})
            write_labels(session, model_id=info.model_id, frame=text, source="test")


def applied(engine: Engine, config: Config) -> Config:
    """Register the config's models, versions, references and monitors; return the config."""
    apply_config(config, engine)
    return config
