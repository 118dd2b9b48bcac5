"""An alert as an incident in data time: the windows it fired on, when it began and how far it reached.

Alerts carry their incident's data time (``data_start``: start of the first breaching window,
``data_end``: end of the newest); the windows are the version's monitor-run windows inside that
span. Alerts stored before those columns existed have them empty: their windows are derived from
the alert's firings (its ``opened`` and ``fired`` events), each matched with the newest run window
that had ended by then. A ``no_data`` alert's window is the gap itself (last prediction seen, time of
the last check). The dashboard reads incidents only through :func:`alert_windows`.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from driftscope.storage.alerts import get_alert
from driftscope.storage.models import AlertEvent, MonitorRun

#: how far before its first firing an alert's first window may have started
LOOKBACK = timedelta(days=31)


@dataclass(frozen=True)
class IncidentWindows:
    """An alert's data-time windows (UTC, half-open ``[start, end)``), oldest first.

    ``began`` is the start of the first window it fired on, ``reached`` the end of the newest;
    ``width`` is the width of its windows (the gap's length for ``no_data``).
    """

    alert_id: int
    model: str
    version: str
    model_version_id: int
    rule: str
    kind: str
    status: str
    severity: str
    title: str
    resolved_at: datetime | None
    windows: tuple[tuple[datetime, datetime], ...]

    @property
    def began(self) -> datetime | None:
        """Start of the first window the alert fired on."""
        return self.windows[0][0] if self.windows else None

    @property
    def reached(self) -> datetime | None:
        """End of the newest window the alert fired on."""
        return self.windows[-1][1] if self.windows else None

    @property
    def width(self) -> timedelta | None:
        """Width of the alert's newest window."""
        return self.windows[-1][1] - self.windows[-1][0] if self.windows else None


def alert_windows(session: Session, *, alert_id: int) -> IncidentWindows:
    """The windows alert ``alert_id`` fired on (raises NotFoundError for an unknown id)."""
    alert = get_alert(session, alert_id=alert_id)
    latest = _window(alert["window_start"], alert["window_end"])
    if alert["kind"] == "no_data":
        windows = [latest] if latest else []
    elif _window(alert.get("data_start"), alert.get("data_end")) is not None:
        windows = _runs_within(session, alert["model_version_id"], alert["data_start"], alert["data_end"])
    else:
        windows = _firing_windows(session, alert)
        if latest and latest not in windows:
            windows.append(latest)
    return IncidentWindows(
        alert_id=int(alert["id"]), model=alert["model"], version=alert["version"],
        model_version_id=int(alert["model_version_id"]), rule=alert["rule"], kind=alert["kind"],
        status=alert["status"], severity=alert["severity"], title=alert["title"],
        resolved_at=_utc(alert["resolved_at"]), windows=tuple(sorted(set(windows))),
    )


def _runs_within(session: Session, model_version_id: int, start: Any, end: Any) -> list[tuple[datetime, datetime]]:
    rows = session.execute(
        select(MonitorRun.window_start, MonitorRun.window_end)
        .where(MonitorRun.model_version_id == model_version_id, MonitorRun.window_start >= start,
               MonitorRun.window_end <= end)
        .distinct()
    ).all()
    windows = (_window(a, b) for a, b in rows)
    return [w for w in windows if w is not None]


def _firing_windows(session: Session, alert: dict[str, Any]) -> list[tuple[datetime, datetime]]:
    fired = session.scalars(
        select(AlertEvent.created_at)
        .where(AlertEvent.alert_id == alert["id"], AlertEvent.action.in_(("opened", "fired")))
    ).all()
    if not fired:
        return []
    runs = session.execute(
        select(MonitorRun.window_start, MonitorRun.window_end)
        .where(MonitorRun.model_version_id == alert["model_version_id"],
               MonitorRun.window_end > min(fired) - LOOKBACK, MonitorRun.window_end <= max(fired))
        .distinct()
        .order_by(MonitorRun.window_end, MonitorRun.window_start.desc())
    ).all()
    if not runs:
        return []
    ends = pd.to_datetime([r[1] for r in runs], utc=True).to_numpy()
    at = np.searchsorted(ends, pd.to_datetime(list(fired), utc=True).to_numpy(), side="right") - 1
    windows = (_window(runs[i][0], runs[i][1]) for i in sorted(set(at[at >= 0].tolist())))
    return [w for w in windows if w is not None]


def _window(start: Any, end: Any) -> tuple[datetime, datetime] | None:
    if start is None or end is None or pd.isna(start) or pd.isna(end):
        return None
    return _utc(start), _utc(end)  # type: ignore[return-value]


def _utc(value: Any) -> datetime | None:
    if value is None or pd.isna(value):
        return None
    stamp = pd.Timestamp(value)
    return (stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")).to_pydatetime()
