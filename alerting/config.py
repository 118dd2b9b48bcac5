"""The ``alerts``, ``channels`` and ``retraining`` sections, owned by alerting."""

from collections.abc import Sequence
from datetime import timedelta
from typing import Annotated, Any, Literal, Protocol

from pydantic import BeforeValidator, Field, model_validator

from driftscope.durations import parse_duration
from driftscope.monitors.config import MonitorConfig
from driftscope.sections import Duration, OptionalSecret, OptionalStr, Strict

Severity = Literal["info", "warning", "critical"]
RuleKind = Literal[
    "dataset_drift", "feature_drift", "metric_below", "metric_drop", "detector_fired", "missing_values", "no_data",
    "run_failed", "source_lag_above",
]


def _number_or_duration(value: Any) -> Any:
    """A rule's ``value``: a number, or a duration (``10m``) taken as seconds (for ``source_lag_above``)."""
    if isinstance(value, str) and value.strip() and not value.strip().lstrip("-").replace(".", "", 1).isdigit():
        return parse_duration(value).total_seconds()
    return value


class RuleConfig(Strict):
    """An alert rule evaluated after each monitor run."""

    name: str = Field(min_length=1)
    when: RuleKind
    severity: Severity = "warning"
    channels: list[str] = Field(default_factory=list)
    monitor: OptionalStr = None
    model: OptionalStr = None
    metric: OptionalStr = None
    value: Annotated[float | None, BeforeValidator(_number_or_duration)] = None
    source: OptionalStr = None
    feature: OptionalStr = None
    detector: OptionalStr = None
    hours: float | None = Field(default=None, gt=0)
    retrain: bool = False

    @model_validator(mode="after")
    def _rule_options(self) -> "RuleConfig":
        if self.when == "source_lag_above":
            if self.source is None or self.value is None:
                raise ValueError("a source_lag_above rule needs 'source' and 'value' (a duration such as 10m)")
            return self
        if self.source is not None:
            raise ValueError("'source' applies to source_lag_above rules only")
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


class AlertSettings(Protocol):
    """What rules and notifications read from the whole configuration (:class:`driftscope.config.Config`)."""

    @property
    def alerts(self) -> AlertsConfig: ...

    @property
    def channels(self) -> Sequence[EmailChannel | WebhookChannel]: ...

    @property
    def retraining(self) -> RetrainingConfig: ...

    @property
    def dashboard_url(self) -> str: ...

    def monitor(self, name: str) -> MonitorConfig: ...

    def channel(self, name: str) -> EmailChannel | WebhookChannel: ...
