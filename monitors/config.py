"""The ``monitors`` section, owned by the monitors: what is computed per model version and window.

Valid method, metric and detector names come from the registries themselves
(:func:`driftscope.monitors.stattests.registry.names`, :data:`driftscope.monitors.metrics.METRICS`,
:data:`driftscope.monitors.concept_drift.DETECTORS`), so config validation cannot drift from them.
"""

from collections.abc import Sequence
from datetime import timedelta
from typing import Literal, Protocol

from pydantic import Field, field_validator, model_validator

from driftscope.modelspec import ModelConfig
from driftscope.monitors.concept_drift import DETECTORS
from driftscope.monitors.estimation.monitor import ESTIMATED_METRICS
from driftscope.monitors.metrics import METRICS
from driftscope.monitors.stattests.registry import names as stattest_names
from driftscope.sections import Duration, Schedule, Strict


class ColumnTest(Strict):
    """Per-column override of the automatic statistical test."""

    method: str
    threshold: float | None = None

    @field_validator("method")
    @classmethod
    def _known_method(cls, value: str) -> str:
        if value not in stattest_names():
            raise ValueError(f"unknown method {value!r}; valid: {', '.join(stattest_names())}")
        return value


_KIND_KEYS: dict[str, set[str]] = {
    "data_drift": {"drift_share", "tests"},
    "performance": {"metrics", "min_labels", "n_bootstrap"},
    "concept_drift": {"detectors", "min_labels"},
    "estimated_performance": {"metrics", "min_labels"},
}
_ESTIMABLE = tuple(dict.fromkeys(m for names in ESTIMATED_METRICS.values() for m in names))


class MonitorConfig(Strict):
    """A monitor computed per model version over windows ending at each run."""

    name: str = Field(min_length=1)
    model: str
    kind: Literal["data_drift", "concept_drift", "performance", "estimated_performance"]
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
        valid_metrics = _ESTIMABLE if self.kind == "estimated_performance" else tuple(METRICS)
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


class MonitorSettings(Protocol):
    """What the monitors read from the whole configuration (:class:`driftscope.config.Config` has it)."""

    @property
    def monitors(self) -> Sequence[MonitorConfig]: ...

    def monitor(self, name: str) -> MonitorConfig: ...

    def model(self, name: str) -> ModelConfig: ...
