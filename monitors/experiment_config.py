"""The ``experiments`` section, owned by the monitors: canary and A/B comparisons of two model versions.

An experiment names a model, its ``control`` and ``treatment`` versions, the ``primary`` KPI that
decides (a binary or numeric ``outcome``, or a per-row model ``metric``) with its desired
``direction``, and ``guardrails``: operational metrics (``latency_p95``, ``error_rate``...) or
model metrics (``roc_auc``...) the treatment may not worsen by more than ``max_increase`` /
``max_decrease`` in any one window. Statistics: :mod:`driftscope.monitors.experiments`.

Guardrail tolerances are relative to the control's value for latencies and request rates (units
that scale: ``0.10`` is 10 % slower) and absolute for shares and model metrics (``0.002`` is 0.2
percentage point of error rate); ``relative: true|false`` overrides the default.
"""

from datetime import timedelta
from typing import TYPE_CHECKING, Literal

from pydantic import Field, model_validator

from driftscope.monitors.metric_registry import SPECS
from driftscope.monitors.widths import check_width
from driftscope.sections import OptionalStr, Period, Strict

if TYPE_CHECKING:
    from driftscope.monitors.experiments import Guardrail

#: per-row metrics a primary KPI may be: the mean over labelled rows of a per-row loss or hit
UNIT_METRICS = ("accuracy", "mae")
#: operational guardrails besides ``latency_p<P>`` and ``outcome:<name>``
GUARDRAIL_OPERATIONAL = ("error_rate", "timeout_rate", "request_rate")
_RELATIVE_BY_DEFAULT = ("latency_p", "request_rate")


class PrimaryConfig(Strict):
    """The KPI that decides: one of ``outcome`` (a declared outcome) or ``metric`` (a per-row metric)."""

    outcome: OptionalStr = None
    metric: OptionalStr = None
    direction: Literal["increase", "decrease"]
    """Which way is better; mypy checks it against :data:`driftscope.monitors.experiments.Direction` where used."""

    @model_validator(mode="after")
    def _one_kpi(self) -> "PrimaryConfig":
        if (self.outcome is None) == (self.metric is None):
            raise ValueError("primary names one of 'outcome' (e.g. clicked) or 'metric' (e.g. accuracy)")
        if self.metric is not None and self.metric not in UNIT_METRICS:
            raise ValueError(f"primary metric {self.metric!r} is not a per-row metric; valid: {', '.join(UNIT_METRICS)}"
                             " (guardrails take any metric)")
        return self

    @property
    def name(self) -> str:
        """``outcome:<name>`` or the metric's name."""
        return f"outcome:{self.outcome}" if self.outcome is not None else str(self.metric)


class GuardrailConfig(Strict):
    """A limit on how much worse the treatment may be than the control in any one window."""

    operational: OptionalStr = None
    metric: OptionalStr = None
    max_increase: float | None = Field(default=None, ge=0)
    max_decrease: float | None = Field(default=None, ge=0)
    relative: bool | None = None

    @model_validator(mode="after")
    def _one_limit(self) -> "GuardrailConfig":
        if (self.operational is None) == (self.metric is None):
            raise ValueError("a guardrail names one of 'operational' (e.g. latency_p95) or 'metric' (e.g. roc_auc)")
        if (self.max_increase is None) == (self.max_decrease is None):
            raise ValueError("a guardrail sets one of 'max_increase' and 'max_decrease'")
        if self.metric is not None and self.metric not in SPECS:
            raise ValueError(f"unknown metric {self.metric!r}; valid: {', '.join(SPECS)}")
        if self.operational is not None and not is_guardrail_operational(self.operational):
            raise ValueError(f"unknown operational metric {self.operational!r}; valid: "
                             f"{', '.join(GUARDRAIL_OPERATIONAL)}, latency_p<P> (e.g. latency_p95), outcome:<name>")
        return self

    @property
    def name(self) -> str:
        """The guarded metric: ``latency_p95``, ``error_rate``, ``roc_auc``..."""
        return str(self.operational or self.metric)

    @property
    def percentile(self) -> float | None:
        """The percentile of a ``latency_p<P>`` guardrail, else None."""
        return float(self.name[len("latency_p"):]) if self.name.startswith("latency_p") else None

    def guardrail(self) -> "Guardrail":
        """The statistics core's :class:`~driftscope.monitors.experiments.Guardrail`."""
        from driftscope.monitors.experiments import Guardrail  # numpy and pandas: not at config load

        relative = self.relative if self.relative is not None else self.name.startswith(_RELATIVE_BY_DEFAULT)
        if self.max_increase is not None:
            return Guardrail(self.name, "increase", self.max_increase, relative)
        return Guardrail(self.name, "decrease", float(self.max_decrease or 0.0), relative)


def is_guardrail_operational(name: str) -> bool:
    """Whether ``name`` is an operational metric a guardrail can watch.

    Examples
    --------
    >>> [is_guardrail_operational(n) for n in ("latency_p95", "error_rate", "outcome:clicked", "latency_pX")]
    [True, True, True, False]
    """
    if name in GUARDRAIL_OPERATIONAL or (name.startswith("outcome:") and len(name) > len("outcome:")):
        return True
    if name.startswith("latency_p"):
        try:
            return 0 < float(name[len("latency_p"):]) <= 100
        except ValueError:
            return False
    return False


class ExperimentConfig(Strict):
    """A canary or A/B experiment: ``treatment`` against ``control``, evaluated after every ``window``."""

    name: str = Field(min_length=1)
    model: str
    control: str
    treatment: str
    primary: PrimaryConfig
    guardrails: list[GuardrailConfig] = Field(default_factory=list)
    alpha: float = Field(default=0.05, gt=0, lt=0.5)
    minimum_effect: float = Field(default=0.01, gt=0)
    window: Period = timedelta(hours=1)

    @model_validator(mode="after")
    def _arms(self) -> "ExperimentConfig":
        if self.control == self.treatment:
            raise ValueError(f"control and treatment are both version {self.control!r}; name two versions")
        names = [g.name for g in self.guardrails]
        if len(set(names)) != len(names):
            raise ValueError("a guardrail metric is listed twice")
        check_width(self.window)
        return self

    def guardrail_rules(self) -> list["Guardrail"]:
        """The guardrails as the statistics core reads them."""
        return [g.guardrail() for g in self.guardrails]
