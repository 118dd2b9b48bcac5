"""pydantic models of ``driftscope.yaml``; unknown keys are errors, secrets are ``SecretStr``.

Cross-references (a source's model, a rule's channels...) are checked in
:mod:`driftscope.config.references`; this module checks each section on its own.
"""

from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

from driftscope.config.durations import parse_duration, validate_schedule
from driftscope.errors import NotFoundError

Task = Literal["binary_classification", "multiclass_classification", "regression"]
FeatureType = Literal["numeric", "categorical", "binary"]
VersionStatus = Literal["active", "shadow", "retired"]
Severity = Literal["info", "warning", "critical"]
RuleKind = Literal[
    "dataset_drift", "feature_drift", "metric_below", "metric_drop", "detector_fired", "missing_values", "no_data",
    "run_failed",
]

STAT_METHODS: tuple[str, ...] = (
    "ks", "chisquare", "ztest", "psi", "wasserstein", "jensenshannon",
    "kl_div", "hellinger", "tvd", "anderson", "cramer_von_mises", "energy",
)
CLASSIFICATION_METRICS: tuple[str, ...] = (
    "accuracy", "precision", "recall", "f1", "f1_macro", "roc_auc", "log_loss", "brier",
)
REGRESSION_METRICS: tuple[str, ...] = ("mae", "rmse", "mape", "r2")
DETECTORS: tuple[str, ...] = (
    "label_drift", "calibration_drift", "adwin", "page_hinkley", "ddm", "domain_classifier",
)


def _blank_to_none(value: Any) -> Any:
    """Treat ``""`` (an unset ``${VAR:-}``) as absent."""
    return None if isinstance(value, str) and value.strip() == "" else value


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
OptionalStr = Annotated[str | None, BeforeValidator(_blank_to_none)]
OptionalSecret = Annotated[SecretStr | None, BeforeValidator(_blank_to_none)]
Schedule = Annotated[str, BeforeValidator(validate_schedule)]


class Strict(BaseModel):
    """Base of every section: unknown keys are refused, instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class SchemaConfig(Strict):
    """Column roles and types of a model's logged rows."""

    id: str
    timestamp: str
    prediction: str
    probability: OptionalStr = None
    target: OptionalStr = None
    positive_label: Any = Field(default=1, description="class counted as positive (binary tasks)")
    features: dict[str, FeatureType] = Field(min_length=1)

    @model_validator(mode="after")
    def _roles_distinct(self) -> "SchemaConfig":
        roles = [self.id, self.timestamp, self.prediction, self.probability, self.target]
        named = [r for r in roles if r is not None] + list(self.features)
        clashes = sorted({c for c in named if named.count(c) > 1})
        if clashes:
            raise ValueError(f"columns used for two roles: {', '.join(clashes)}")
        return self


class VersionConfig(Strict):
    """One version of a model and the reference data it was validated on."""

    version: str
    reference: str
    status: VersionStatus = "active"
    schema_: SchemaConfig | None = Field(default=None, alias="schema")

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, value: Any) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            raise ValueError(f'quote the version ("{value}") so YAML keeps it as text')
        return value


class ModelConfig(Strict):
    """A model, its versions and the schema they share unless a version overrides it."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    task: Task
    retrain_webhook: OptionalStr = None
    versions: list[VersionConfig] = Field(min_length=1)
    schema_: SchemaConfig = Field(alias="schema")

    def schema_for(self, version: str) -> SchemaConfig:
        """Return the schema of ``version`` (its override, or the model's)."""
        for v in self.versions:
            if v.version == version:
                return v.schema_ or self.schema_
        valid = ", ".join(v.version for v in self.versions)
        raise NotFoundError(f"model {self.name!r} has no version {version!r}; configured: {valid}")

    @model_validator(mode="after")
    def _unique_versions(self) -> "ModelConfig":
        seen = [v.version for v in self.versions]
        dupes = sorted({v for v in seen if seen.count(v) > 1})
        if dupes:
            raise ValueError(f"version listed twice: {', '.join(dupes)}")
        return self


class SourceConfig(Strict):
    """Where prediction logs or ground truth are pulled from."""

    name: str = Field(min_length=1)
    kind: Literal["files", "sql", "http"]
    model: str
    records: Literal["predictions", "ground_truth"]
    url: str
    version: OptionalStr = None
    version_column: OptionalStr = None
    schedule: Schedule | None = None
    columns: dict[str, str] = Field(default_factory=dict, description="store name: source name")
    format: Literal["csv", "jsonl", "parquet"] | None = None
    table: OptionalStr = None
    query: OptionalStr = None
    watermark: OptionalStr = None
    page_size: int = Field(default=50_000, gt=0)
    token: OptionalSecret = None
    timeout: Duration = timedelta(seconds=30)
    retries: int = Field(default=5, ge=0, le=20)

    @model_validator(mode="after")
    def _kind_options(self) -> "SourceConfig":
        if self.kind == "sql":
            if (self.table is None) == (self.query is None):
                raise ValueError("a sql source needs exactly one of 'table' or 'query'")
            if self.watermark is None:
                raise ValueError("a sql source needs 'watermark' (a timestamp or increasing id column)")
        else:
            for key in ("table", "query", "watermark"):
                if getattr(self, key) is not None:
                    raise ValueError(f"'{key}' applies to sql sources only, not {self.kind}")
        if self.kind != "http" and self.token is not None:
            raise ValueError("'token' applies to http sources only")
        if self.kind != "files" and self.format is not None:
            raise ValueError("'format' applies to files sources only")
        if self.records == "predictions" and self.version is None and self.version_column is None:
            raise ValueError("a predictions source needs 'version' or 'version_column'")
        return self


class ColumnTest(Strict):
    """Per-column override of the automatic statistical test."""

    method: str
    threshold: float | None = None

    @field_validator("method")
    @classmethod
    def _known_method(cls, value: str) -> str:
        if value not in STAT_METHODS:
            raise ValueError(f"unknown method {value!r}; valid: {', '.join(STAT_METHODS)}")
        return value


_KIND_KEYS: dict[str, set[str]] = {
    "data_drift": {"drift_share", "tests"},
    "performance": {"metrics", "min_labels", "n_bootstrap"},
    "concept_drift": {"detectors", "min_labels"},
}


class MonitorConfig(Strict):
    """A monitor computed per model version over windows ending at each run."""

    name: str = Field(min_length=1)
    model: str
    kind: Literal["data_drift", "concept_drift", "performance"]
    versions: list[str] | None = None
    schedule: Schedule | None = None
    window: Duration = timedelta(days=1)
    drift_share: float | None = Field(default=None, gt=0, le=1)
    tests: dict[str, ColumnTest] | None = None
    metrics: list[str] | None = None
    min_labels: int | None = Field(default=None, ge=1)
    n_bootstrap: int | None = Field(default=None, ge=50, le=10_000)
    detectors: list[str] | None = None

    @model_validator(mode="after")
    def _kind_options(self) -> "MonitorConfig":
        foreign = {k for keys in _KIND_KEYS.values() for k in keys} - _KIND_KEYS[self.kind]
        for key in sorted(foreign):
            if getattr(self, key) is not None:
                raise ValueError(f"'{key}' does not apply to a {self.kind} monitor")
        valid_metrics = CLASSIFICATION_METRICS + REGRESSION_METRICS
        for metric in self.metrics or []:
            if metric not in valid_metrics:
                raise ValueError(f"unknown metric {metric!r}; valid: {', '.join(valid_metrics)}")
        for detector in self.detectors or []:
            if detector not in DETECTORS:
                raise ValueError(f"unknown detector {detector!r}; valid: {', '.join(DETECTORS)}")
        return self

    @property
    def effective_drift_share(self) -> float:
        """Share of drifted features that makes the dataset drifted (Evidently's default 0.5)."""
        return 0.5 if self.drift_share is None else self.drift_share

    @property
    def effective_min_labels(self) -> int:
        """Labelled rows below which no performance verdict is given (default 100)."""
        return 100 if self.min_labels is None else self.min_labels


class RuleConfig(Strict):
    """An alert rule evaluated after each monitor run."""

    name: str = Field(min_length=1)
    when: RuleKind
    severity: Severity = "warning"
    channels: list[str] = Field(default_factory=list)
    monitor: OptionalStr = None
    model: OptionalStr = None
    metric: OptionalStr = None
    value: float | None = None
    feature: OptionalStr = None
    detector: OptionalStr = None
    hours: float | None = Field(default=None, gt=0)
    retrain: bool = False

    @model_validator(mode="after")
    def _rule_options(self) -> "RuleConfig":
        if self.monitor is None and self.model is None:
            raise ValueError("a rule needs 'monitor' or 'model'")
        if self.when == "no_data":
            if self.hours is None:
                raise ValueError("a no_data rule needs 'hours'")
        elif self.monitor is None:
            raise ValueError(f"a {self.when} rule needs 'monitor'")
        if self.when in ("metric_below", "metric_drop") and self.metric is None:
            raise ValueError(f"a {self.when} rule needs 'metric'")
        if self.when == "metric_below" and self.value is None:
            raise ValueError("a metric_below rule needs 'value' (the floor)")
        return self


class AlertsConfig(Strict):
    """Alert rules and the deduplication policy."""

    rules: list[RuleConfig] = Field(default_factory=list)
    cooldown: Duration = timedelta(hours=1)
    resolve_after: int = Field(default=3, ge=1)


class EmailChannel(Strict):
    """An SMTP channel: plain, STARTTLS or SSL, optional login."""

    name: str
    kind: Literal["email"]
    to: list[str] = Field(min_length=1)
    from_: str = Field(alias="from")
    smtp_host: str = "localhost"
    smtp_port: int = Field(default=587, gt=0, lt=65536)
    smtp_user: OptionalStr = None
    smtp_password: OptionalSecret = None
    starttls: bool = False
    ssl: bool = False
    timeout: Duration = timedelta(seconds=10)
    max_attempts: int = Field(default=8, ge=1, le=50)

    @model_validator(mode="after")
    def _tls_mode(self) -> "EmailChannel":
        if self.starttls and self.ssl:
            raise ValueError("choose one of 'starttls' and 'ssl'")
        return self


class WebhookChannel(Strict):
    """A JSON POST channel signed with HMAC-SHA256 when a secret is set."""

    name: str
    kind: Literal["webhook"]
    url: str
    secret: OptionalSecret = None
    format: Literal["json", "slack"] = "json"
    timeout: Duration = timedelta(seconds=10)
    max_attempts: int = Field(default=8, ge=1, le=50)


ChannelConfig = Annotated[EmailChannel | WebhookChannel, Field(discriminator="kind")]


class RetrainingConfig(Strict):
    """Policy for automatic retraining requests."""

    min_interval: Duration = timedelta(days=7)


class UserConfig(Strict):
    """A dashboard user; ``password_hash`` is ``pbkdf2_sha256$iterations$salt$hash``."""

    username: str
    password_hash: SecretStr
    role: Literal["viewer", "operator"] = "viewer"


class AuthConfig(Strict):
    """Optional dashboard login: local users, or Streamlit's OIDC ``st.login``."""

    enabled: bool = False
    users: list[UserConfig] = Field(default_factory=list)
    oidc: bool = False
    operators: list[str] = Field(default_factory=list, description="OIDC e-mails given the operator role")


class DashboardConfig(Strict):
    """Dashboard settings."""

    auth: AuthConfig = AuthConfig()
    reports_dir: str = "reports"


class SchedulerConfig(Strict):
    """Scheduler settings."""

    misfire_grace_time: Duration = timedelta(days=1)
    lease_ttl: Duration = timedelta(minutes=10)
    tick: Duration = timedelta(seconds=30)


class Config(Strict):
    """The whole ``driftscope.yaml``."""

    database_url: str = "sqlite:///driftscope.db"
    dashboard_url: str = "http://localhost:8501"
    models: list[ModelConfig] = Field(default_factory=list)
    sources: list[SourceConfig] = Field(default_factory=list)
    monitors: list[MonitorConfig] = Field(default_factory=list)
    alerts: AlertsConfig = AlertsConfig()
    channels: list[ChannelConfig] = Field(default_factory=list)
    retraining: RetrainingConfig = RetrainingConfig()
    dashboard: DashboardConfig = DashboardConfig()
    scheduler: SchedulerConfig = SchedulerConfig()

    def model(self, name: str) -> ModelConfig:
        """Return the model named ``name``."""
        return _by_name(self.models, name, "model")

    def source(self, name: str) -> SourceConfig:
        """Return the source named ``name``."""
        return _by_name(self.sources, name, "source")

    def monitor(self, name: str) -> MonitorConfig:
        """Return the monitor named ``name``."""
        return _by_name(self.monitors, name, "monitor")

    def channel(self, name: str) -> EmailChannel | WebhookChannel:
        """Return the channel named ``name``."""
        return _by_name(self.channels, name, "channel")


def _by_name(items: list[Any], name: str, what: str) -> Any:
    for item in items:
        if item.name == name:
            return item
    valid = ", ".join(i.name for i in items) or "none configured"
    raise NotFoundError(f"no {what} named {name!r}; configured: {valid}")
