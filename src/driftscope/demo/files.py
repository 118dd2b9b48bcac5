"""Write the demo's world to disk: reference files, daily prediction logs, a label database, config.

Prediction logs are real files as a serving stack would write them: the credit model's as daily
Parquet files (both versions, with a ``model_version`` column), the house model's as daily CSV.
Credit requests carry their latency and status; their conversions (the business outcome, last
three weeks) sit in a SQLite table, each within an hour of its request. A few malformed rows are planted (a missing id,
an unknown version, an unparseable timestamp, a word where a number belongs) and must end in
quarantine. Labels sit in a SQLite table and arrive
three days late for part of the rows only.
"""

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from driftscope.demo.generate import CREDIT_FEATURES, DemoData, label_arrivals
from driftscope.demo.scenario import CREDIT_LABEL_SHARE, HOUSE_LABEL_SHARE, LABEL_DELAY

CREDIT_LOG_COLUMNS = ["request_id", "ts", "model_version", *CREDIT_FEATURES, "score", "predicted_label", "latency_ms",
                      "status"]
CONVERSION_DELAY_S = 3600
CONVERSION_DAYS = 21
"""Conversions are logged for the last three weeks only (the canary's two and one before): enough for the
experiment and the serving KPIs, at a third of the ingest time of all 60 days."""
HOUSE_LOG_COLUMNS = ["id", "ts", "sqft", "rooms", "city", "price_pred"]


@dataclass(frozen=True)
class PlantedRows:
    """How many malformed rows were planted per source (the demo checks they reached quarantine)."""

    credit: int
    house: int


def write_world(root: Path, data: DemoData, now: datetime, seed: int = 11) -> PlantedRows:
    """Write every data file under ``root/data``; return the number of planted malformed rows."""
    rng = np.random.default_rng(seed)
    data_dir = root / "data"
    (data_dir / "predictions").mkdir(parents=True, exist_ok=True)
    (data_dir / "house").mkdir(parents=True, exist_ok=True)
    data.credit_reference_v1.to_parquet(data_dir / "credit_reference_v1.parquet", index=False)
    data.credit_reference_v2.to_parquet(data_dir / "credit_reference_v2.parquet", index=False)
    data.house_reference.to_csv(data_dir / "house_reference.csv", index=False)
    credit = _write_credit_logs(data_dir / "predictions", data.credit_log, rng)
    house = _write_house_logs(data_dir / "house", data.house_log, rng)
    _write_labels(data_dir / "labels.db", data, now, rng)
    return PlantedRows(credit=credit, house=house)


def _daily_groups(frame: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    days = frame["ts"].dt.strftime("%Y-%m-%d")
    return [(str(day), group) for day, group in frame.groupby(days, sort=True)]


def _write_credit_logs(folder: Path, log: pd.DataFrame, rng: np.random.Generator) -> int:
    planted = 0
    groups = _daily_groups(log[CREDIT_LOG_COLUMNS])
    bad_days = set(rng.choice(len(groups), size=3, replace=False).tolist())
    for i, (day, group) in enumerate(groups):
        group = group.copy()
        if i in bad_days:
            rows = rng.choice(len(group), size=2, replace=False)
            group.loc[group.index[rows[0]], "request_id"] = None
            group.loc[group.index[rows[1]], "model_version"] = "9.9"
            planted += 2
        group.to_parquet(folder / f"credit-{day}.parquet", index=False)
    return planted


def _write_house_logs(folder: Path, log: pd.DataFrame, rng: np.random.Generator) -> int:
    planted = 0
    groups = _daily_groups(log[HOUSE_LOG_COLUMNS])
    bad_days = set(rng.choice(len(groups), size=3, replace=False).tolist())
    for i, (day, group) in enumerate(groups):
        out = group.assign(ts=group["ts"].dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")).astype({"sqft": object})
        if i in bad_days:
            rows = rng.choice(len(out), size=2, replace=False)
            out.loc[out.index[rows[0]], "ts"] = "yesterday-ish"
            out.loc[out.index[rows[1]], "sqft"] = "twelve hundred"
            planted += 2
        out.to_csv(folder / f"house-{day}.csv", index=False)
    return planted


def _write_labels(path: Path, data: DemoData, now: datetime, rng: np.random.Generator) -> None:
    path.unlink(missing_ok=True)
    credit_arrival = label_arrivals(rng, data.credit_log["ts"], CREDIT_LABEL_SHARE, LABEL_DELAY, now)
    house_arrival = label_arrivals(rng, data.house_log["ts"], HOUSE_LABEL_SHARE, LABEL_DELAY, now)
    credit = pd.DataFrame({"request_id": data.credit_log["request_id"], "is_default": data.credit_log["defaulted"],
                           "updated_at": credit_arrival})
    house = pd.DataFrame({"id": data.house_log["id"], "sold_price": data.house_log["price"],
                          "updated_at": house_arrival})
    log = data.credit_log
    recent = log["ts"] >= log["ts"].max().normalize() - pd.Timedelta(days=CONVERSION_DAYS - 1)
    served = log.loc[(log["status"].eq("ok") & recent).to_numpy()]
    converted_at = served["ts"] + pd.to_timedelta(rng.uniform(0, CONVERSION_DELAY_S, len(served)), unit="s")
    conversions = pd.DataFrame({"request_id": served["request_id"], "converted": served["converted"],
                                "updated_at": np.where(converted_at <= pd.Timestamp(now), converted_at.to_numpy(),
                                                       np.datetime64("NaT"))})
    with sqlite3.connect(path) as conn:
        for name, frame in (("credit_outcomes", credit), ("house_sales", house), ("credit_conversions", conversions)):
            arrived = frame.dropna(subset=["updated_at"]).sort_values("updated_at")
            arrived = arrived.assign(updated_at=pd.to_datetime(arrived["updated_at"], utc=True)
                                     .dt.strftime("%Y-%m-%d %H:%M:%S.%f"))
            arrived.to_sql(name, conn, index=False)
    conn.close()


def write_config(root: Path, *, smtp_port: int, webhook_url: str, dashboard_url: str) -> Path:
    """Write the demo's ``driftscope.yaml`` (paths relative to it) and return its path."""
    path = root / "driftscope.yaml"
    path.write_text(yaml.safe_dump(demo_config(smtp_port, webhook_url, dashboard_url), sort_keys=False))
    return path


def demo_config(smtp_port: int, webhook_url: str, dashboard_url: str) -> dict:
    """The demo's configuration document."""
    credit_schema = {
        "id": "request_id", "timestamp": "ts", "prediction": "predicted_label", "probability": "score",
        "target": "defaulted", "latency": "latency_ms", "status": "status", "outcomes": {"converted": "binary"},
        "features": {"income": "numeric", "age": "numeric", "debt_ratio": "numeric", "region": "categorical",
                     "has_card": "binary"},
    }
    house_schema = {"id": "id", "timestamp": "ts", "prediction": "price_pred", "target": "price",
                    "features": {"sqft": "numeric", "rooms": "numeric", "city": "categorical"}}
    both = ["oncall-email", "ops-webhook"]
    return {
        "database_url": "sqlite:///driftscope.db",
        "dashboard_url": dashboard_url,
        "models": [
            {"name": "credit-default", "task": "binary_classification", "retrain_webhook": "retrain-hook",
             "versions": [{"version": "1.0", "reference": "data/credit_reference_v1.parquet"},
                          {"version": "2.0", "reference": "data/credit_reference_v2.parquet", "status": "active"}],
             "schema": credit_schema},
            {"name": "house-price", "task": "regression",
             "versions": [{"version": "3.1", "reference": "data/house_reference.csv"}], "schema": house_schema},
        ],
        "sources": [
            {"name": "credit-predictions", "kind": "files", "model": "credit-default", "records": "predictions",
             "version_column": "model_version", "url": "data/predictions/*.parquet", "schedule": "5m"},
            {"name": "credit-labels", "kind": "sql", "model": "credit-default", "records": "ground_truth",
             "url": "sqlite:///data/labels.db", "table": "credit_outcomes", "watermark": "updated_at",
             "columns": {"defaulted": "is_default"}, "schedule": "1h"},
            {"name": "credit-conversions", "kind": "sql", "model": "credit-default", "records": "outcomes",
             "url": "sqlite:///data/labels.db", "table": "credit_conversions", "watermark": "updated_at",
             "schedule": "5m"},
            {"name": "house-predictions", "kind": "files", "model": "house-price", "records": "predictions",
             "version": "3.1", "url": "data/house/*.csv", "schedule": "5m"},
            {"name": "house-labels", "kind": "sql", "model": "house-price", "records": "ground_truth",
             "url": "sqlite:///data/labels.db", "table": "house_sales", "watermark": "updated_at",
             "columns": {"price": "sold_price"}, "schedule": "1h"},
        ],
        "monitors": [
            # Calibrated thresholds everywhere. fdr 0.01, not the 0.05 we recommend: a day holds ~1,150 rows of
            # 5 features and the demo's 18 quiet days x 2 models would show a false feature-drift warning or
            # two at 0.05 (income q = 0.015 on day 15, sqft q = 0.018 on day 13); every incident has q <= 0.003.
            {"name": "credit-data-drift", "model": "credit-default", "kind": "data_drift", "window": "1d",
             "schedule": "15 * * * *", "drift_share": 0.4,
             "thresholds": "calibrated", "false_alarm_rate": 0.01, "fdr": 0.01},
            {"name": "credit-performance", "model": "credit-default", "kind": "performance", "window": "1d",
             "schedule": "30 * * * *", "metrics": ["roc_auc", "accuracy", "f1", "brier"], "min_labels": 200,
             "thresholds": "calibrated"},
            {"name": "credit-concept", "model": "credit-default", "kind": "concept_drift", "window": "1d",
             "schedule": "45 * * * *",
             "detectors": ["label_drift", "calibration_drift", "adwin", "domain_classifier"]},
            {"name": "credit-serving", "model": "credit-default", "kind": "operational", "window": "1d",
             "schedule": "20 * * * *", "latency_percentiles": [50, 95, 99]},
            {"name": "house-data-drift", "model": "house-price", "kind": "data_drift", "window": "1d",
             "schedule": "15 * * * *", "thresholds": "calibrated", "false_alarm_rate": 0.01, "fdr": 0.01},
            {"name": "house-performance", "model": "house-price", "kind": "performance", "window": "1d",
             "schedule": "30 * * * *", "metrics": ["mae", "rmse", "r2"], "min_labels": 100,
             "thresholds": "calibrated"},
        ],
        "experiments": [
            # The 2.0 canary against 1.0: conversions decide, latency is a guardrail. A daily window holds
            # ~380 canary requests, so a 25 % p95 tolerance stays clear of chance (the p95 of one day
            # moves by ~5 %) and catches the scripted 60 % slowdown in its first day.
            {"name": "credit-v2-canary", "model": "credit-default", "control": "1.0", "treatment": "2.0",
             "primary": {"outcome": "converted", "direction": "increase"},
             "guardrails": [{"operational": "latency_p95", "max_increase": 0.25}],
             "alpha": 0.05, "minimum_effect": 0.1, "window": "1d"},
        ],
        "alerts": {
            "rules": [
                {"name": "credit-feature-drift", "monitor": "credit-data-drift", "when": "feature_drift",
                 "severity": "warning", "channels": both},
                {"name": "credit-dataset-drift", "monitor": "credit-data-drift", "when": "dataset_drift",
                 "severity": "warning", "channels": both},
                {"name": "credit-auc-drop", "monitor": "credit-performance", "when": "metric_drop",
                 "metric": "roc_auc", "severity": "critical", "channels": both, "retrain": True},
                {"name": "credit-auc-floor", "monitor": "credit-performance", "when": "metric_below",
                 "metric": "roc_auc", "value": 0.65, "severity": "critical", "channels": both},
                {"name": "credit-concept-drift", "monitor": "credit-concept", "when": "detector_fired",
                 "severity": "critical", "channels": both},
                {"name": "credit-silent", "model": "credit-default", "when": "no_data", "hours": 5,
                 "severity": "critical", "channels": ["oncall-email"]},
                {"name": "credit-canary-decided", "experiment": "credit-v2-canary", "when": "experiment_decided",
                 "severity": "critical", "channels": both},
                {"name": "house-feature-drift", "monitor": "house-data-drift", "when": "feature_drift",
                 "severity": "warning", "channels": ["ops-webhook"]},
                {"name": "house-missing-values", "monitor": "house-data-drift", "when": "missing_values",
                 "value": 0.1, "severity": "warning", "channels": ["oncall-email", "ops-webhook"]},
                {"name": "house-mae-drop", "monitor": "house-performance", "when": "metric_drop", "metric": "mae",
                 "severity": "warning", "channels": ["ops-webhook"]},
            ],
            "cooldown": "3d",
            "resolve_after": 2,
        },
        "channels": [
            {"name": "oncall-email", "kind": "email", "to": ["oncall@example.com"], "from": "driftscope@example.com",
             "smtp_host": "127.0.0.1", "smtp_port": smtp_port},
            {"name": "ops-webhook", "kind": "webhook", "url": f"{webhook_url}/alerts",
             "secret": "${DRIFTSCOPE_DEMO_WEBHOOK_SECRET:-demo-secret}", "format": "json"},
            {"name": "retrain-hook", "kind": "webhook", "url": f"{webhook_url}/retrain",
             "secret": "${DRIFTSCOPE_DEMO_WEBHOOK_SECRET:-demo-secret}"},
        ],
        "retraining": {"min_interval": "7d"},
    }
