"""Test data built through storage functions (never raw SQL)."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from storage.db import transaction
from storage.registry import VersionInfo, ensure_model, ensure_version, get_version_by_id

CREDIT_SCHEMA = {
    "id": "request_id",
    "timestamp": "ts",
    "prediction": "predicted_label",
    "probability": "score",
    "target": "defaulted",
    "positive_label": 1,
    "features": {"income": "numeric", "age": "numeric", "region": "categorical", "has_card": "binary"},
}
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def register_version(
    engine: Engine, model: str = "credit-default", version: str = "1.0", schema: dict | None = None
) -> VersionInfo:
    """Register a binary-classification model version and return it."""
    with transaction(engine) as session:
        model_id, _ = ensure_model(session, name=model, task="binary_classification", retrain_webhook=None)
        version_id, _ = ensure_version(
            session, model_id=model_id, version=version, column_schema=schema or CREDIT_SCHEMA, status="active"
        )
        return get_version_by_id(session, version_id)


def canonical_predictions(n: int, *, start: datetime = T0, step: timedelta = timedelta(minutes=1),
                          seed: int = 0, id_prefix: str = "p") -> pd.DataFrame:
    """``n`` canonical prediction rows, one per ``step`` from ``start``."""
    rng = np.random.default_rng(seed)
    probability = rng.uniform(size=n)
    return pd.DataFrame({
        "prediction_id": [f"{id_prefix}{i}" for i in range(n)],
        "ts": pd.date_range(start, periods=n, freq=step, tz="UTC"),
        "prediction": (probability > 0.5).astype(np.int64),
        "probability": probability,
        "income": rng.normal(50_000, 10_000, n),
        "age": rng.integers(18, 90, n).astype(float),
        "region": rng.choice(["north", "south", "east"], n),
        "has_card": rng.integers(0, 2, n),
    })
