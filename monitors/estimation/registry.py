"""What label-free estimation can estimate: task -> estimator -> metric names, without importing how.

Validating a config needs these names, not scipy or scikit-learn (seconds to import): the
estimators (:class:`~driftscope.monitors.estimation.cbpe.CBPE`,
:class:`~driftscope.monitors.estimation.dle.DLE`) default to and accept the names listed here, and
the monitor (:mod:`~driftscope.monitors.estimation.monitor`) picks the estimator by task from
:data:`ESTIMATORS`.

Examples
--------
>>> from monitors.estimation import registry
>>> registry.ESTIMATORS["regression"], registry.metrics("regression")
('dle', ('mae', 'rmse'))
>>> registry.names()
('accuracy', 'precision', 'recall', 'f1', 'specificity', 'roc_auc', 'mae', 'rmse')
"""

from types import MappingProxyType

CBPE_METRICS = ("accuracy", "precision", "recall", "f1", "specificity", "roc_auc")
"""Metrics CBPE estimates for binary and multiclass classifiers."""

DLE_METRICS = ("mae", "rmse")
"""Metrics DLE estimates for regressors."""

ESTIMATOR_METRICS = MappingProxyType({"cbpe": CBPE_METRICS, "dle": DLE_METRICS})
"""Estimator name -> the metrics it estimates, in the order it reports them."""

ESTIMATORS = MappingProxyType({"binary_classification": "cbpe", "multiclass_classification": "cbpe",
                               "regression": "dle"})
"""Task -> the estimator an ``estimated_performance`` monitor runs for it."""


def metrics(task: str) -> tuple[str, ...]:
    """The metrics an ``estimated_performance`` monitor can estimate for ``task``."""
    return ESTIMATOR_METRICS[ESTIMATORS[task]]


def names() -> tuple[str, ...]:
    """Every estimable metric, each once, in estimator order."""
    return tuple(dict.fromkeys(m for estimator in ESTIMATOR_METRICS.values() for m in estimator))
