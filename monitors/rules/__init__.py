"""Alert rules: what a monitor run (or a silent model) means for alerts, notifications and retraining.

:mod:`monitors.rules.checks` holds one pure check per rule kind; :mod:`monitors.rules.evaluate`
applies their findings to the store (open, update and resolve alerts; queue notifications; request
retraining).
"""

from monitors.rules.checks import CHECKS, Finding, RunResults
from monitors.rules.evaluate import AlertChange, apply_finding, evaluate_no_data, evaluate_run

__all__ = ["CHECKS", "AlertChange", "Finding", "RunResults", "apply_finding", "evaluate_no_data", "evaluate_run"]
