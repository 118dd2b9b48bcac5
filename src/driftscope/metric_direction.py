"""Which way is better for each performance metric: shared by the monitors' registry and the dashboard.

The dashboard colours and words a change by it ("rose 12 % — worse") without importing the
monitors' numerical code; ``tests/test_dashboard_units.py`` checks it agrees with
:data:`driftscope.monitors.metrics.METRICS`.
"""

#: metrics where a smaller value is better (errors and losses); every other metric is higher-is-better
LOWER_IS_BETTER = frozenset({"mae", "rmse", "mape", "log_loss", "brier"})


def higher_is_better(metric: str) -> bool:
    """True when a rise of ``metric`` is an improvement.

    Examples
    --------
    >>> higher_is_better("roc_auc"), higher_is_better("mae")
    (True, False)
    """
    return metric not in LOWER_IS_BETTER
