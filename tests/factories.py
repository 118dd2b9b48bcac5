"""Test data built through storage functions (never raw SQL)."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from driftscope.storage.db import transaction
from driftscope.storage.registry import VersionInfo, ensure_model, ensure_version, get_version_by_id

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


def write_project(directory: Path, database_url: str, *, n_reference: int = 500) -> Path:
    """Write a small ``driftscope.yaml`` with a credit model (two versions) and its reference files."""

    import yaml

    root = Path(directory)
    (root / "data").mkdir(parents=True, exist_ok=True)
    reference = canonical_predictions(n_reference, seed=1).rename(columns={
        "prediction_id": "request_id", "prediction": "predicted_label", "probability": "score"})
    reference["defaulted"] = (reference["score"] > 0.6).astype(int)
    reference.to_parquet(root / "data" / "credit_reference.parquet")
    reference.to_csv(root / "data" / "credit_reference_v2.csv", index=False)
    config = {
        "database_url": database_url,
        "models": [{
            "name": "credit-default", "task": "binary_classification",
            "versions": [{"version": "1.0", "reference": "data/credit_reference.parquet"},
                         {"version": "2.0", "reference": "data/credit_reference_v2.csv", "status": "shadow"}],
            "schema": CREDIT_SCHEMA,
        }],
        "monitors": [
            {"name": "credit-drift", "model": "credit-default", "kind": "data_drift", "window": "1d",
             "schedule": "15 * * * *", "tests": {"income": {"method": "psi", "threshold": 0.2}}},
            {"name": "credit-performance", "model": "credit-default", "kind": "performance", "window": "7d",
             "metrics": ["roc_auc", "accuracy"], "min_labels": 50},
        ],
    }
    path = root / "driftscope.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path
