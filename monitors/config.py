"""The ``monitors`` section, owned by the monitors: what is computed per model version and window.

Valid names come from the registries that implement them: drift methods from
:mod:`driftscope.monitors.stattests.registry`, detectors from :mod:`driftscope.monitors.concept_registry`,
estimable metrics from :mod:`driftscope.monitors.estimation.registry` (each lists names without
importing its implementations, so loading a config imports no scipy, scikit-learn or river) and
metric names from :mod:`driftscope.monitors.metric_registry`.
"""

from collections.abc import Sequence
from datetime import timedelta
from typing import Literal, Protocol

from pydantic import Field, field_validator, model_validator

from driftscope.modelspec import ModelConfig
from driftscope.monitors import concept_registry
from driftscope.monitors.estimation import registry as estimation
from driftscope.monitors.metric_registry import SPECS
from driftscope.monitors.stattests import registry as stattests
from driftscope.monitors.widths import check_width
from driftscope.sections import Period, Schedule, Strict


class ColumnTest(Strict):
    """Per-column override of the automatic statistical test."""

    method: str
    threshold: float | None = None

    @field_validator("method")
    @classmethod
    def _known_method(cls, value: str) -> str:
        if value not in stattests.names():
            raise ValueError(f"unknown method {value!r}; valid: {', '.join(stattests.names())}")
        return value


_KIND_KEYS: dict[str, set[str]] = {
    "data_drift": {"drift_share", "tests", "thresholds", "false_alarm_rate", "fdr", "path", "profile_above_rows"},
    "performance": {"metrics", "min_labels", "n_bootstrap", "thresholds", "false_alarm_rate", "path",
                    "profile_above_rows"},
    "concept_drift": {"detectors", "min_labels"},
    "estimated_performance": {"metrics", "min_labels"},
    "operational": {"latency_percentiles"},
}
DEFAULT_LATENCY_PERCENTILES = (50.0, 95.0, 99.0)
OPERATIONAL_METRICS = ("request_count", "request_rate", "error_rate", "timeout_rate", "outcome_share",
                       "model_age_days")
"""Metrics of every operational run, besides ``latency_p<P>`` per percentile and ``outcome:<name>`` per outcome."""


def latency_metric_name(percentile: float) -> str:
    """The stored metric of a latency percentile: ``latency_p95``, ``latency_p99.9``.

    Examples
    --------
    >>> latency_metric_name(95), latency_metric_name(99.9)
    ('latency_p95', 'latency_p99.9')
    """
    return f"latency_p{percentile:g}"


def operational_metric_names(percentiles: Sequence[float], outcomes: Sequence[str]) -> list[str]:
    """Every metric an operational monitor stores for these percentiles and outcome names.

    Examples
    --------
    >>> operational_metric_names([95], ["clicked"])[-2:]
    ['latency_p95', 'outcome:clicked']
    """
    return [*OPERATIONAL_METRICS, *map(latency_metric_name, percentiles), *(f"outcome:{o}" for o in outcomes)]


class MonitorConfig(Strict):
    """A monitor computed per model version over windows ending at each run."""

    name: str = Field(min_length=1)
    model: str
    kind: Literal["data_drift", "concept_drift", "performance", "estimated_performance", "operational"]
    versions: list[str] | None = None
    schedule: Schedule | None = None
    window: Period = timedelta(days=1)
    drift_share: float | None = Field(default=None, gt=0, le=1)
    tests: dict[str, ColumnTest] | None = None
    thresholds: Literal["fixed", "calibrated"] | None = None
    false_alarm_rate: float | None = Field(default=None, gt=0, lt=0.5)
    fdr: float | None = Field(default=None, gt=0, lt=1)
    metrics: list[str] | None = None
    min_labels: int | None = Field(default=None, ge=1)
    n_bootstrap: int | None = Field(default=None, ge=50, le=10_000)
    detectors: list[str] | None = None
    latency_percentiles: list[float] | None = Field(default=None, min_length=1)
    path: Literal["rows", "profile", "auto"] | None = None
    """Data drift and performance: compute from the raw rows, from stored profiles, or choose (auto; see
    :mod:`driftscope.monitors.profile_path`)."""
    profile_above_rows: int | None = Field(default=None, ge=1)
    """``path: auto``: use the profiles when the window holds more stored rows than this (default: never for size)."""

    @model_validator(mode="after")
    def _kind_options(self) -> "MonitorConfig":
        foreign = {k for keys in _KIND_KEYS.values() for k in keys} - _KIND_KEYS[self.kind]
        for key in sorted(foreign):
            if getattr(self, key) is not None:
                raise ValueError(f"'{key}' does not apply to a {self.kind} monitor")
        valid_metrics = estimation.names() if self.kind == "estimated_performance" else tuple(SPECS)
        for metric in self.metrics or []:
            if metric not in valid_metrics:
                raise ValueError(f"unknown metric {metric!r}; valid: {', '.join(valid_metrics)}")
        for detector in self.detectors or []:
            if detector not in concept_registry.names():
                raise ValueError(f"unknown detector {detector!r}; valid: {', '.join(concept_registry.names())}")
        for p in self.latency_percentiles or []:
            if not 0 < p <= 100:
                raise ValueError(f"latency_percentiles: {p:g} is not a percentile in (0, 100]")
        if self.latency_percentiles and len(set(self.latency_percentiles)) != len(self.latency_percentiles):
            raise ValueError("latency_percentiles: a percentile is listed twice")
        check_width(self.window)
        if self.profile_above_rows is not None and self.effective_path != "auto":
            raise ValueError(f"'profile_above_rows' needs 'path: auto' (path is {self.path!r})")
        if self.effective_thresholds == "fixed":
            for key in ("false_alarm_rate", "fdr"):
                if getattr(self, key) is not None:
                    raise ValueError(f"'{key}' needs 'thresholds: calibrated' (fixed thresholds have no p-value "
                                     "for every method)")
        return self

    @property
    def effective_path(self) -> str:
        """Data drift's and performance's path: ``auto`` unless set (see :mod:`driftscope.monitors.profile_path`)."""
        return self.path or "auto"

    @property
    def effective_thresholds(self) -> str:
        """``fixed`` (each method's threshold, the default) or ``calibrated`` (learned from the reference)."""
        return self.thresholds or "fixed"

    @property
    def effective_false_alarm_rate(self) -> float:
        """False alarm rate of calibrated thresholds (default 0.01): per feature for data drift, per
        window (Holm across metrics) for performance."""
        return 0.01 if self.false_alarm_rate is None else self.false_alarm_rate

    @property
    def effective_drift_share(self) -> float:
        """Share of drifted features that makes the dataset drifted.

        Evidently's default 0.5; with ``fdr`` the default is 0: any feature in the FDR-controlled set.
        """
        if self.drift_share is not None:
            return self.drift_share
        return 0.0 if self.fdr is not None else 0.5

    @property
    def effective_latency_percentiles(self) -> tuple[float, ...]:
        """Latency percentiles an operational monitor computes (default 50, 95, 99)."""
        return tuple(self.latency_percentiles or DEFAULT_LATENCY_PERCENTILES)

    @property
    def effective_min_labels(self) -> int:
        """Labelled rows below which no performance verdict is given (default 100)."""
        return 100 if self.min_labels is None else self.min_labels


class MonitorSettings(Protocol):
    """What the monitors read from the whole configuration (:class:`driftscope.config.Config` has it)."""

    @property
    def monitors(self) -> Sequence[MonitorConfig]: ...

    def monitor(self, name: str) -> MonitorConfig: ...

    def model(self, name: str) -> ModelConfig: ...
