"""The declarative config: the shared example is accepted, broken files name the bad key."""

from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from driftscope.config import load_config, parse_config
from driftscope.config.env import interpolate
from driftscope.durations import parse_duration
from driftscope.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "driftscope.yaml"
SHARED_EXAMPLE = Path(__file__).resolve().parent.parent.parent / "shared" / "examples" / "driftscope.yaml"


def example_document() -> dict:
    return yaml.safe_load(EXAMPLE.read_text())


def test_example_is_accepted_as_is() -> None:
    config = load_config(EXAMPLE, env={})
    assert [m.name for m in config.models] == ["credit-default", "house-price"]
    assert config.model("credit-default").schema_for("2.0").features["region"] == "categorical"
    assert config.monitor("credit-data-drift").tests["income"].method == "psi"
    assert config.alerts.cooldown.total_seconds() == 3600
    assert config.retraining.min_interval.days == 7
    assert config.channel("oncall-email").smtp_port == 587


@pytest.mark.skipif(not SHARED_EXAMPLE.exists(), reason="shared/ is not beside the project")
def test_project_copy_matches_the_shared_contract() -> None:
    assert EXAMPLE.read_text() == SHARED_EXAMPLE.read_text()
    load_config(SHARED_EXAMPLE, env={})


PRODUCTION = EXAMPLE.parent / "production.yaml"
SHARED_PRODUCTION = SHARED_EXAMPLE.parent / "production.yaml"


@pytest.mark.skipif(not SHARED_PRODUCTION.exists(), reason="shared/ is not beside the project")
def test_production_copy_matches_the_shared_contract() -> None:
    assert PRODUCTION.read_text() == SHARED_PRODUCTION.read_text()


def test_production_contract_is_accepted_as_is() -> None:
    config = load_config(PRODUCTION, env={})
    assert [e.name for e in config.experiments] == ["ranker-v8-canary"]
    assert {s.kind for s in config.sources} == {"kafka", "sql", "lake"}
    assert config.metrics_endpoint is not None and config.metrics_endpoint.port == 9464


def test_relative_paths_resolve_against_the_file() -> None:
    config = load_config(EXAMPLE, env={})
    base = EXAMPLE.parent.resolve()
    assert config.models[0].versions[0].reference == str(base / "data/credit_reference.parquet")
    assert config.source("credit-labels").url == f"sqlite:///{base / 'data/labels.db'}"
    assert config.source("house-predictions").url == "http://127.0.0.1:9100/predictions"


def test_environment_overrides_defaults_and_secrets_stay_hidden() -> None:
    env = {"OPS_WEBHOOK_SECRET": "s3cr3t-value", "SMTP_PORT": "2525", "DRIFTSCOPE_DATABASE_URL": "postgresql://h/db"}
    config = load_config(EXAMPLE, env=env)
    hook = config.channel("ops-webhook")
    assert hook.secret.get_secret_value() == "s3cr3t-value"
    assert "s3cr3t-value" not in repr(config) and "s3cr3t-value" not in str(config.model_dump())
    assert config.channel("oncall-email").smtp_port == 2525
    assert config.database_url == "postgresql://h/db"


def kafka_with_security(**secrets: str) -> dict:
    """A kafka source of the example's first model with SASL/TLS settings."""
    security = {"protocol": "sasl_ssl", "sasl_mechanism": "PLAIN", "username": "svc", **secrets}
    return {"name": "stream", "kind": "kafka", "model": "credit-default", "version": "1.0", "records": "predictions",
            "bootstrap_servers": "127.0.0.1:9092", "topic": "predictions", "security": security}


def test_nested_kafka_secrets_come_from_the_environment() -> None:
    document = example_document()
    document["sources"].append(kafka_with_security(password="${KAFKA_PW}", key_password="${KAFKA_KEY_PW:-}"))
    config = parse_config(document, base_dir=EXAMPLE.parent, env={"KAFKA_PW": "kafka-pw-5521"})
    security = config.source("stream").security
    assert security.password is not None and security.password.get_secret_value() == "kafka-pw-5521"
    assert security.key_password is None


BROKEN = [
    (lambda d: d["models"][0]["schema"]["features"].update(age="numerc"), "models[0].schema.features.age"),
    (lambda d: d["monitors"][0].update(windw="1d"), "monitors[0].windw: unknown key"),
    (lambda d: d["monitors"][0]["tests"]["income"].update(method="psy"), "valid: anderson, chisquare"),
    (lambda d: d["monitors"][0].update(schedule="every hour"), "monitors[0].schedule"),
    (lambda d: d["sources"][0].update(model="nope"), "sources[0].model: no model named 'nope'"),
    (lambda d: d["alerts"]["rules"][0].update(channels=["pager"]), "alerts.rules[0].channels: no channel named"),
    (lambda d: d["alerts"]["rules"][1].update(metric="mae"), "alerts.rules[1].metric"),
    (lambda d: d["alerts"]["rules"][1].update(monitor="credit-data-drift"),
     "needs a performance or estimated_performance or operational monitor"),
    (lambda d: d["channels"][1].update(secret="literal"), "channels[1].secret"),
    (lambda d: d["sources"].append(kafka_with_security(password="literal-pw")), "sources[3].security.password"),
    (lambda d: d["sources"].append(kafka_with_security(key_password="literal-pw")),
     "sources[3].security.key_password"),
    (lambda d: d["channels"][0].update(smtp_port="${SMTP_PORT:-x}"), "channels[0].smtp_port"),
    (lambda d: d["models"][0]["versions"][0].update(version=1.0), "quote the version"),
    (lambda d: d["sources"][1].pop("watermark"), "sources[1]: Value error, a sql source needs 'watermark'"),
    (lambda d: d["models"][1].update(task="ranking"), "models[1].task"),
    (lambda d: d.update(database_url="${UNSET_VARIABLE_FOR_TEST}"), "database_url: environment variable"),
]


@pytest.mark.parametrize(("breaks", "expected"), BROKEN, ids=[e for _, e in BROKEN])
def test_broken_config_names_the_key(breaks, expected) -> None:
    document = example_document()
    breaks(document)
    with pytest.raises(ConfigError) as info:
        parse_config(document, base_dir=EXAMPLE.parent, env={})
    assert expected in str(info.value)


def test_unreadable_and_non_mapping_files(tmp_path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_config(bad)
    bad.write_text("models: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)


@given(st.text(alphabet=st.characters(blacklist_characters="${}"), max_size=30))
def test_text_without_variables_is_unchanged(text) -> None:
    assert interpolate({"k": [text]}, env={}) == {"k": [text]}


@pytest.mark.parametrize(("text", "seconds"), [("30s", 30), ("15m", 900), ("6h", 21600), ("1d", 86400),
                                               ("2w", 1209600), ("1.5h", 5400), (45, 45)])
def test_durations(text, seconds) -> None:
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["", "10", "1y", "-5m", "h"])
def test_bad_durations(text) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)
