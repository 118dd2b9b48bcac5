"""Serving keys of the config (issue #13): trained_at, latency/status/outcomes, operational monitors, serving rules."""

from copy import deepcopy
from datetime import UTC, datetime
from pathlib import Path

import pytest

from driftscope.config import parse_config
from driftscope.errors import ConfigError

DOCUMENT = {
    "models": [{
        "name": "ranker", "task": "binary_classification",
        "versions": [{"version": "7", "reference": "r.parquet", "trained_at": datetime(2026, 9, 1, tzinfo=UTC)},
                     {"version": "8", "reference": "r8.parquet", "trained_at": "2026-11-01T00:00:00Z"}],
        "schema": {"id": "request_id", "timestamp": "ts", "prediction": "predicted_click", "probability": "score",
                   "latency": "latency_ms", "status": "status", "features": {"price": "numeric"},
                   "outcomes": {"clicked": "binary", "revenue": "numeric"}},
    }],
    "monitors": [{"name": "ranker-ops", "model": "ranker", "kind": "operational", "window": "1h",
                  "latency_percentiles": [50, 95, 99]}],
    "alerts": {"rules": [
        {"name": "lat", "monitor": "ranker-ops", "when": "latency_above", "percentile": 95, "value": 250},
        {"name": "err", "monitor": "ranker-ops", "when": "error_rate_above", "value": 0.01},
        {"name": "stale", "model": "ranker", "when": "model_age_above", "days": 120},
        {"name": "ctr", "monitor": "ranker-ops", "when": "metric_below", "metric": "outcome:clicked", "value": 0.02},
    ]},
}


def test_serving_keys_are_accepted() -> None:
    config = parse_config(deepcopy(DOCUMENT), base_dir=Path("."), env={})
    model = config.model("ranker")
    assert model.versions[1].trained_at == datetime(2026, 11, 1, tzinfo=UTC)
    assert model.schema_.outcomes == {"clicked": "binary", "revenue": "numeric"}
    assert config.monitor("ranker-ops").effective_latency_percentiles == (50, 95, 99)
    assert config.alerts.rules[0].latency_metric == "latency_p95"


def _schema(d: dict) -> dict:
    return d["models"][0]["schema"]


def _rule(d: dict, i: int) -> dict:
    return d["alerts"]["rules"][i]


BROKEN = [
    (lambda d: d["models"][0]["versions"][0].update(trained_at=datetime(2026, 9, 1)), "has no time zone"),
    (lambda d: _schema(d).update(latency="score"), "columns used for two roles: score"),
    (lambda d: _schema(d)["outcomes"].update(ctr="ratio"), "models[0].schema.outcomes.ctr"),
    (lambda d: _schema(d)["outcomes"].update({"a b": "binary"}), "outcome names 'a b'"),
    (lambda d: d["monitors"][0].update(latency_percentiles=[0]), "not a percentile in (0, 100]"),
    (lambda d: d["monitors"][0].update(latency_percentiles=[95, 95]), "listed twice"),
    (lambda d: d["monitors"][0].update(kind="data_drift"), "'latency_percentiles' does not apply to a data_drift"),
    (lambda d: d["monitors"][0].update(metrics=["roc_auc"]), "'metrics' does not apply to a operational"),
    (lambda d: _schema(d).pop("latency"), "monitors[0].latency_percentiles: model 'ranker' logs no latency"),
    (lambda d: _schema(d).pop("status"), "alerts.rules[1].when: model 'ranker' logs no status"),
    (lambda d: _rule(d, 0).update(percentile=90), "alerts.rules[0].percentile: monitor 'ranker-ops' computes"),
    (lambda d: _rule(d, 0).pop("percentile"), "a latency_above rule needs 'percentile'"),
    (lambda d: _rule(d, 1).update(value=2), "a share in [0, 1)"),
    (lambda d: _rule(d, 1).update(percentile=95), "'percentile' applies to latency_above rules only"),
    (lambda d: _rule(d, 2).update(monitor="ranker-ops"), "names 'model:' (not 'monitor:')"),
    (lambda d: _rule(d, 2).pop("days"), "a model_age_above rule needs 'days'"),
    (lambda d: _rule(d, 2).update(value=3), "takes 'days', not 'value'"),
    (lambda d: [v.pop("trained_at") for v in d["models"][0]["versions"]], "alerts.rules[2].model: no version"),
    (lambda d: _rule(d, 3).update(metric="outcome:bought"), "does not compute 'outcome:bought'"),
    (lambda d: d["monitors"][0].update(kind="performance", latency_percentiles=None),
     "a latency_above rule needs a operational monitor"),
]


@pytest.mark.parametrize(("breaks", "expected"), BROKEN, ids=[e for _, e in BROKEN])
def test_refused_combinations_name_the_key(breaks, expected) -> None:
    document = deepcopy(DOCUMENT)
    breaks(document)
    with pytest.raises(ConfigError) as info:
        parse_config(document, base_dir=Path("."), env={})
    assert expected in str(info.value)
