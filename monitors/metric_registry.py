"""Name -> what each performance metric is: the tasks it applies to, its direction, its inputs.

What configuration checks read (names, tasks, whether probabilities are needed), without numpy or
pandas; the functions that compute the metrics are :data:`driftscope.monitors.metrics.METRICS`,
built from these records.

Examples
--------
>>> from monitors.metric_registry import SPECS, default_metrics
>>> SPECS["log_loss"].higher_is_better, SPECS["log_loss"].needs_probability
(False, True)
>>> default_metrics("regression", False)
('mae', 'rmse', 'mape', 'r2')
>>> default_metrics("binary_classification", False)
('accuracy', 'precision', 'recall', 'f1', 'f1_macro')
"""

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

Task = Literal["binary_classification", "multiclass_classification", "regression"]
CLASSIFICATION = frozenset({"binary_classification", "multiclass_classification"})
REGRESSION = frozenset({"regression"})
_MULTICLASS = frozenset({"multiclass_classification"})


@dataclass(frozen=True)
class MetricSpec:
    """Registry record of one metric: the tasks it applies to and which direction is better."""

    name: str
    tasks: frozenset[str]
    higher_is_better: bool
    needs_probability: bool
    default: bool = True


SPECS: Mapping[str, MetricSpec] = MappingProxyType({
    m.name: m for m in (
        MetricSpec("accuracy", CLASSIFICATION, True, False),
        MetricSpec("precision", CLASSIFICATION, True, False),
        MetricSpec("recall", CLASSIFICATION, True, False),
        MetricSpec("f1", CLASSIFICATION, True, False),
        MetricSpec("f1_macro", CLASSIFICATION, True, False),
        MetricSpec("specificity", CLASSIFICATION, True, False, default=False),
        MetricSpec("roc_auc", CLASSIFICATION, True, True),
        MetricSpec("roc_auc_weighted", _MULTICLASS, True, True),
        MetricSpec("log_loss", CLASSIFICATION, False, True),
        MetricSpec("brier", CLASSIFICATION, False, True),
        MetricSpec("mae", REGRESSION, False, False),
        MetricSpec("rmse", REGRESSION, False, False),
        MetricSpec("mape", REGRESSION, False, False),
        MetricSpec("r2", REGRESSION, True, False),
    )
})
"""Metric name -> its record, in the order runs report them."""


def default_metrics(task: str, has_probability: bool) -> tuple[str, ...]:
    """Every default metric that applies to ``task`` given whether probabilities are logged."""
    return tuple(
        m.name for m in SPECS.values()
        if m.default and task in m.tasks and (has_probability or not m.needs_probability)
    )
