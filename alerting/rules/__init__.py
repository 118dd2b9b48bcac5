"""Alert rules: what a monitor run (or a silent model) means for alerts, notifications and retraining.

:mod:`driftscope.alerting.rules.checks` holds one pure check per rule kind; :mod:`driftscope.alerting.rules.evaluate`
applies their findings to the store (open, update and resolve alerts; queue notifications; request
retraining).
"""

from driftscope.alerting.rules.checks import CHECKS, Finding, RunResults
from driftscope.alerting.rules.evaluate import (
    AlertChange,
    apply_finding,
    evaluate_no_data,
    evaluate_pending,
    evaluate_run,
)

__all__ = [
    "CHECKS", "AlertChange", "Finding", "RunResults", "apply_finding", "evaluate_no_data", "evaluate_pending",
    "evaluate_run",
]
