"""The whole ``driftscope.yaml``: the application composes the sections each layer owns.

Unknown keys are errors and secrets are ``SecretStr``. Cross-references (a source's model, a rule's
channels...) are checked in :mod:`driftscope.config.references`; each section checks itself.
"""

from datetime import timedelta
from typing import Literal

from pydantic import Field, SecretStr

from driftscope.alerting.config import (
    AlertsConfig,
    ChannelConfig,
    EmailChannel,
    RetrainingConfig,
    RuleConfig,
    WebhookChannel,
)
from driftscope.collectors.config import SourceConfig
from driftscope.modelspec import ModelConfig, SchemaConfig, VersionConfig
from driftscope.monitors.config import MonitorConfig
from driftscope.monitors.experiment_config import ExperimentConfig
from driftscope.naming import DEFAULT_DATABASE_URL, DEFAULT_REPORTS_DIR
from driftscope.sections import Duration, Strict, by_name
from driftscope.storage.config import RetentionConfig

__all__ = [
    "AlertsConfig", "AuthConfig", "ChannelConfig", "Config", "DashboardConfig", "EmailChannel", "ExperimentConfig",
    "MetricsEndpointConfig", "ModelConfig", "MonitorConfig", "RetentionConfig",
    "RetrainingConfig", "RuleConfig", "SchedulerConfig", "SchemaConfig", "SourceConfig",
    "UserConfig", "VersionConfig", "WebhookChannel",
]


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
    reports_dir: str = DEFAULT_REPORTS_DIR


class SchedulerConfig(Strict):
    """Scheduler settings."""

    misfire_grace_time: Duration = timedelta(days=1)
    lease_ttl: Duration = timedelta(minutes=10)
    tick: Duration = timedelta(seconds=30)


class MetricsEndpointConfig(Strict):
    """``metrics_endpoint``: where Prometheus scrapes each version's newest figures (:mod:`driftscope.exporter`).

    Served by ``driftscope exporter`` and by ``driftscope scheduler``. ``host`` defaults to the
    loopback interface, so nothing is exposed beyond the machine unless asked: set ``0.0.0.0`` when
    Prometheus scrapes from another host or container. 9464 is the port OpenTelemetry's Prometheus
    exporter uses by default.
    """

    host: str = Field(default="127.0.0.1", min_length=1)
    port: int = Field(default=9464, ge=1, le=65535)


class Config(Strict):
    """The whole ``driftscope.yaml``."""

    database_url: str = DEFAULT_DATABASE_URL
    dashboard_url: str = "http://localhost:8501"
    models: list[ModelConfig] = Field(default_factory=list)
    sources: list[SourceConfig] = Field(default_factory=list)
    monitors: list[MonitorConfig] = Field(default_factory=list)
    experiments: list[ExperimentConfig] = Field(default_factory=list)
    alerts: AlertsConfig = AlertsConfig()
    channels: list[ChannelConfig] = Field(default_factory=list)
    retraining: RetrainingConfig = RetrainingConfig()
    dashboard: DashboardConfig = DashboardConfig()
    scheduler: SchedulerConfig = SchedulerConfig()
    retention: RetentionConfig | None = None
    metrics_endpoint: MetricsEndpointConfig | None = None

    def model(self, name: str) -> ModelConfig:
        """Return the model named ``name``."""
        return by_name(self.models, name, "model")

    def source(self, name: str) -> SourceConfig:
        """Return the source named ``name``."""
        return by_name(self.sources, name, "source")

    def monitor(self, name: str) -> MonitorConfig:
        """Return the monitor named ``name``."""
        return by_name(self.monitors, name, "monitor")

    def experiment(self, name: str) -> ExperimentConfig:
        """Return the experiment named ``name``."""
        return by_name(self.experiments, name, "experiment")

    def channel(self, name: str) -> EmailChannel | WebhookChannel:
        """Return the channel named ``name``."""
        return by_name(self.channels, name, "channel")

