"""The demo's serving story: latency, status and a conversion outcome for every credit request.

Drawn from their own seeded generator after the traffic, so the traffic (and every monitor's
result on it) is the same with or without them. From the ``canary_regression`` day on, version 2.0
serves :data:`~driftscope.demo.scenario.LATENCY_SLOWDOWN` times slower and converts at
:data:`~driftscope.demo.scenario.CONVERSION_AFTER` instead of
:data:`~driftscope.demo.scenario.CONVERSION`; a failed request (error or timeout) converts never.
"""

from datetime import datetime

import numpy as np
import pandas as pd

from driftscope.demo.scenario import (
    CONVERSION,
    CONVERSION_AFTER,
    ERROR_RATE,
    LATENCY_MEDIAN_MS,
    LATENCY_SLOWDOWN,
    TIMEOUT_RATE,
    event,
)

SERVING_SEED = 2026


def add_serving(log: pd.DataFrame, start: datetime, seed: int = SERVING_SEED) -> pd.DataFrame:
    """``log`` (the credit log, ``ts`` and ``model_version``) with ``latency_ms``, ``status`` and ``converted``."""
    rng = np.random.default_rng(seed)
    n = len(log)
    day = ((log["ts"] - pd.Timestamp(start)).dt.total_seconds() // 86400).to_numpy().astype(int)
    regressed = (log["model_version"].to_numpy() == "2.0") & (day >= event("canary_regression").start_day)
    latency = rng.lognormal(np.log(LATENCY_MEDIAN_MS), 0.35, size=n) * np.where(regressed, LATENCY_SLOWDOWN, 1.0)
    draw = rng.uniform(size=n)
    status = np.where(draw < ERROR_RATE, "error", np.where(draw < ERROR_RATE + TIMEOUT_RATE, "timeout", "ok"))
    converted = (rng.uniform(size=n) < np.where(regressed, CONVERSION_AFTER, CONVERSION)) & (status == "ok")
    return log.assign(latency_ms=latency.round(1), status=status, converted=converted.astype(int))
