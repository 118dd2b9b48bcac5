"""The ``alerts``, ``channels`` and ``retraining`` sections, owned by alerting."""

from collections.abc import Sequence
from datetime import timedelta
from typing import Annotated, Any, Literal, Protocol

from pydantic import BeforeValidator, Field, model_validator

from driftscope.durations import parse_duration
from driftscope.monitors.config import MonitorConfig, latency_metric_name
from driftscope.redact import SecretInPath
from driftscope.sections import Duration, OptionalSecret, OptionalStr, Strict

Severity = Literal["info", "warning", "critical"]
RuleKind = Literal[
    "dataset_drift", "feature_drift", "metric_below", "metric_drop", "detector_fired", "missing_values", "no_data",
    "run_failed", "source_lag_above", "latency_above", "error_rate_above", "model_age_above", "experiment_decided",
]


def _number_or_duration(value: Any) -> Any:
    """A rule's ``value``: a number, or a duration (``10m``) taken as seconds (for ``source_lag_above``)."""
    if isinstance(value, str) and value.strip() and not value.strip().lstrip("-").replace(".", "", 1).isdigit():
        return parse_duration(value).total_seconds()
    return value


def parse_persistence(value: object) -> object:
    """``for:`` as ``(k, n)``: ``"2 of 3"``, a mapping ``{k: 2, n: 3}``, or a count ``k`` (``k of k``).

    Examples
    --------
    >>> parse_persistence("2 of 3"), parse_persistence(2), parse_persistence({"k": 1, "n": 4})
    ((2, 3), (2, 2), (1, 4))
    """
    if isinstance(value, bool):
        raise ValueError(f"'for' must be 'K of N' (e.g. '2 of 3') or a count, got {value!r}")
    if isinstance(value, int):
        return (value, value)
    if isinstance(value, dict) and set(value) == {"k", "n"}:
        return (value["k"], value["n"])
    if isinstance(value, str):
        parts = value.split()
        if len(parts) == 3 and parts[1] == "of" and parts[0].isdigit() and parts[2].isdigit():
            return (int(parts[0]), int(parts[2]))
        if len(parts) == 1 and parts[0].isdigit():
            return (int(parts[0]), int(parts[0]))
    if isinstance(value, tuple | list) and len(value) == 2:
        return tuple(value)
    raise ValueError(f"'for' must be 'K of N' (e.g. '2 of 3') or a count, got {value!r}")


Persistence = Annotated[tuple[int, int], BeforeValidator(parse_persistence)]


class RuleConfig(Strict):
    """An alert rule, judged on every window of its monitor that has a verdict.

    ``persistence`` (``for:`` in YAML, ``K of N``): the alert opens when K of the last N windows
    with a verdict breach. ``hysteresis``: once open, a window counts as clean only when its value
    is back past the threshold by this share of the threshold (default ``alerts.hysteresis``).
    ``escalate``: severity by effect size, ``{critical: 0.1}`` makes the alert critical while the
    effect (see ``docs/configuration.md``) is at least 0.1.
    """

    name: str = Field(min_length=1)
    when: RuleKind
    severity: Severity = "warning"
    channels: list[str] = Field(default_factory=list)
    monitor: OptionalStr = None
    model: OptionalStr = None
    metric: OptionalStr = None
    value: Annotated[float | None, BeforeValidator(_number_or_duration)] = None
    source: OptionalStr = None
    experiment: OptionalStr = None
    feature: OptionalStr = None
    detector: OptionalStr = None
    hours: float | None = Field(default=None, gt=0)
    percentile: float | None = Field(default=None, gt=0, le=100)
    days: float | None = Field(default=None, gt=0)
    retrain: bool = False
    persistence: Persistence = Field(default=(1, 1), alias="for")
    hysteresis: float | None = Field(default=None, ge=0, lt=1)
    escalate: dict[Severity, float] = Field(default_factory=dict)

    @property
    def retrain_after(self) -> int:
        """Breaching windows an incident needs before it asks for retraining: ``max(2, K)``, never one."""
        return max(2, self.persistence[0])

    @model_validator(mode="after")
    def _rule_options(self) -> "RuleConfig":
        k, n = self.persistence
        if not 1 <= k <= n:
            raise ValueError(f"'for: {k} of {n}' needs 1 <= K <= N")
        if self.when == "no_data" and (self.persistence != (1, 1) or self.retrain):
            raise ValueError("a no_data rule counts hours of silence itself: drop 'for' and 'retrain'")
        if self.when == "experiment_decided" or self.experiment is not None:
            self._experiment_options()
            return self
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
        elif self.when == "model_age_above":
            self._model_age_options()
        elif self.monitor is None:
            raise ValueError(f"a {self.when} rule needs 'monitor'")
        self._serving_options()
        if self.when in ("metric_below", "metric_drop") and self.metric is None:
            raise ValueError(f"a {self.when} rule needs 'metric'")
        if self.when == "metric_below" and self.value is None:
            raise ValueError("a metric_below rule needs 'value' (the floor)")
        return self

    def _experiment_options(self) -> None:
        """An experiment_decided rule names its experiment and nothing else to watch; it fires once per decision."""
        if self.when != "experiment_decided":
            raise ValueError(f"'experiment' applies to experiment_decided rules only, not {self.when}")
        if self.experiment is None:
            raise ValueError("an experiment_decided rule needs 'experiment' (the name under 'experiments')")
        others = [k for k in ("monitor", "model", "source", "metric", "value", "feature", "detector", "hours",
                              "percentile", "days") if getattr(self, k) is not None]
        if others or self.persistence != (1, 1):
            shown = ", ".join(others + (["for"] if self.persistence != (1, 1) else []))
            raise ValueError(f"an experiment_decided rule takes 'experiment', not {shown}: the experiment's "
                             "model, versions and KPIs are in its entry under 'experiments'")

    def _model_age_options(self) -> None:
        if self.model is None or self.monitor is not None:
            raise ValueError("a model_age_above rule names 'model:' (not 'monitor:'): the age is the model version's")
        if self.days is None:
            raise ValueError("a model_age_above rule needs 'days' (the age limit since trained_at)")

    def _serving_options(self) -> None:
        """Keys of the serving rules: ``percentile`` (latency_above), ``days`` (model_age_above), values in range."""
        if self.percentile is not None and self.when != "latency_above":
            raise ValueError(f"'percentile' applies to latency_above rules only, not {self.when}")
        if self.days is not None and self.when != "model_age_above":
            raise ValueError(f"'days' applies to model_age_above rules only, not {self.when}")
        if self.when == "latency_above" and (self.percentile is None or self.value is None or self.value < 0):
            raise ValueError("a latency_above rule needs 'percentile' (e.g. 95) and 'value' (milliseconds, >= 0)")
        if self.when == "error_rate_above" and (self.value is None or not 0 <= self.value < 1):
            raise ValueError("an error_rate_above rule needs 'value', a share in [0, 1) (e.g. 0.01 for 1 %)")
        if self.when == "model_age_above" and (self.value is not None or self.persistence != (1, 1)):
            raise ValueError("a model_age_above rule takes 'days', not 'value' or 'for'")

    @property
    def latency_metric(self) -> str:
        """The metric a latency_above rule reads: ``latency_p95`` for ``percentile: 95``."""
        return latency_metric_name(self.percentile or 0.0)


class AlertsConfig(Strict):
    """Alert rules and the deduplication policy."""

    rules: list[RuleConfig] = Field(default_factory=list)
    cooldown: Duration = timedelta(hours=1)
    resolve_after: int = Field(default=3, ge=1)
    hysteresis: float = Field(default=0.0, ge=0, lt=1)

    def hysteresis_of(self, rule: RuleConfig) -> float:
        """The rule's hysteresis, else this section's default."""
        return self.hysteresis if rule.hysteresis is None else rule.hysteresis


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
    """A JSON POST channel signed with HMAC-SHA256 when a secret is set.

    A token in the URL's path or query (Slack's ``/services/T.../B.../<token>``) is scrubbed like
    any secret from stored and logged text (:class:`~driftscope.redact.SecretInPath`).
    """

    name: str
    kind: Literal["webhook"]
    url: Annotated[str, SecretInPath()]
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
