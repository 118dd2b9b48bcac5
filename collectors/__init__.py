"""Collectors: pull prediction logs and ground truth into the store, incrementally and idempotently.

* :func:`collect` runs the configured sources (files, sql, http) once each.
* :func:`log_predictions` / :func:`log_ground_truth` / :func:`log_outcomes` write from serving code.
* :func:`replay_quarantine` re-ingests quarantined rows after a schema or mapping fix.

Every batch is one transaction holding its rows, its quarantined rows and the source's new
position, so a run killed at any point and started again stores every row exactly once.
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from driftscope.collectors.base import SourceSummary
    from driftscope.collectors.python_api import log_ground_truth, log_outcomes, log_predictions
    from driftscope.collectors.replay import replay_quarantine
    from driftscope.collectors.run import collect

_HOMES = {"SourceSummary": "base", "collect": "run", "log_ground_truth": "python_api", "log_outcomes": "python_api",
          "log_predictions": "python_api", "replay_quarantine": "replay"}
"""Public name -> the module defining it, imported on first access (PEP 562): loading a config reads
:mod:`driftscope.collectors.config` without importing SQLAlchemy, pandas or requests."""

__all__ = ["SourceSummary", "collect", "log_ground_truth", "log_outcomes", "log_predictions", "replay_quarantine"]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
