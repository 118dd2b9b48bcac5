"""Collectors: pull prediction logs and ground truth into the store, incrementally and idempotently.

* :func:`collect` runs the configured sources (files, sql, http) once each.
* :func:`log_predictions` / :func:`log_ground_truth` / :func:`log_outcomes` write from serving code.
* :func:`replay_quarantine` re-ingests quarantined rows after a schema or mapping fix.

Every batch is one transaction holding its rows, its quarantined rows and the source's new
position, so a run killed at any point and started again stores every row exactly once.
"""

from driftscope.collectors.base import SourceSummary
from driftscope.collectors.python_api import log_ground_truth, log_outcomes, log_predictions
from driftscope.collectors.replay import replay_quarantine
from driftscope.collectors.run import collect

__all__ = ["SourceSummary", "collect", "log_ground_truth", "log_outcomes", "log_predictions", "replay_quarantine"]
