"""``source_lag_above``: a stream source more than ``value`` seconds behind its topic, from the recorded lag.

Evaluated on each scheduler tick from the lag the source's newest collector run recorded per
partition (:func:`driftscope.storage.stream_offsets.latest_lag`); its seconds are an upper bound
(see :func:`driftscope.collectors.kafka.lag_seconds`). The alert belongs to the source's version,
or to each active version of its model when the version comes from a column.
"""

from collections.abc import Mapping
from datetime import UTC, datetime

import pandas as pd
from sqlalchemy.orm import Session

from driftscope.alerting.config import AlertSettings, RuleConfig
from driftscope.alerting.rules.checks import Finding
from driftscope.alerting.rules.evaluate import AlertChange, Window, apply_finding
from driftscope.storage.registry import list_versions
from driftscope.storage.stream_offsets import latest_lag


def source_lag_finding(rule: RuleConfig, lag: pd.DataFrame) -> Finding | None:
    """Fires when a partition is more than ``rule.value`` seconds behind; None before any lag was recorded.

    Examples
    --------
    >>> rule = RuleConfig(name="lag", when="source_lag_above", source="s", value="10m")
    >>> lag = pd.DataFrame({"partition": [0, 1], "lag_messages": [0, 42], "lag_seconds": [0.0, 900.0]})
    >>> source_lag_finding(rule, lag).title
    'source s is 900 s behind on partition 1 (42 messages; limit 600 s)'
    """
    if lag.empty:
        return None
    worst = lag.iloc[int(lag["lag_seconds"].to_numpy().argmax())]
    limit = float(rule.value or 0.0)
    evidence = {"limit_s": limit, "partitions": lag[["partition", "lag_messages", "lag_seconds"]].to_dict("records")}
    title = (f"source {rule.source} is {worst['lag_seconds']:.0f} s behind on partition {int(worst['partition'])} "
             f"({int(worst['lag_messages'])} messages; limit {limit:.0f} s)")
    return Finding(bool(worst["lag_seconds"] > limit), title, evidence)


def evaluate_source_lag(session: Session, config: AlertSettings, *, sources: Mapping[str, tuple[str, str | None]],
                        now: datetime | None = None) -> list[AlertChange]:
    """Evaluate every ``source_lag_above`` rule; ``sources`` maps a source to its (model, version or None)."""
    now = now or datetime.now(UTC)
    changes = []
    for rule in (r for r in config.alerts.rules if r.when == "source_lag_above"):
        model, version = sources[rule.source or ""]
        finding = source_lag_finding(rule, latest_lag(session, source=rule.source))
        for info in list_versions(session, model=model):
            if info.version != version and (version is not None or info.status != "active"):
                continue
            change = apply_finding(session, config, rule, info, finding, window=Window(now, now), now=now)
            if change is not None:
                changes.append(change)
    return changes
