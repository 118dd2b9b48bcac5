"""The sidebar shared by every page: model, version and time range, and who is signed in."""

from datetime import UTC, datetime, timedelta

import pandas as pd
import streamlit as st

from driftscope.dashboard import auth, data, fmt, state
from driftscope.dashboard import markdown as md
from driftscope.dashboard.auth import User
from driftscope.dashboard.data import IncidentWindows, Store, VersionInfo
from driftscope.dashboard.settings import Settings
from driftscope.dashboard.ui import PageState

DEFAULT_DAYS = 30
#: an alert's link opens its page this many windows before the alert began
CONTEXT_WINDOWS = 5


def _ceil_day(value: datetime) -> datetime:
    return pd.Timestamp(value).tz_convert(UTC).ceil("D").to_pydatetime()


def default_end(store: Store) -> datetime:
    """The end of the default range: midnight after the newest stored data (or after now, when empty)."""
    _, last = data.extent(store)
    return _ceil_day((last or datetime.now(UTC)) + timedelta(seconds=1))


def default_version(versions: list[VersionInfo]) -> str:
    """The newest active version (the newest of any status when none is active)."""
    active = [v for v in versions if v.status == "active"] or versions
    return max(active, key=lambda v: v.id).version


def incident_range(incident: IncidentWindows, latest: datetime) -> tuple[datetime, datetime]:
    """The range an alert's link opens: a few windows before it began, to now (or just past its resolution).

    A ``no_data`` alert's gap gets a day of volume on either side; an alert still active reaches
    ``latest`` (the end of the newest stored data).
    """
    assert incident.began is not None and incident.reached is not None and incident.width is not None
    if incident.kind == "no_data":
        pad = max(incident.width, timedelta(days=1))
        start, end = incident.began - pad, incident.reached + pad
    else:
        start = incident.began - incident.width * CONTEXT_WINDOWS
        end = incident.reached + incident.width if incident.status == "resolved" else latest
    return _floor_hour(start), _ceil_hour(max(min(end, latest), incident.reached))


def _floor_hour(value: datetime) -> datetime:
    return pd.Timestamp(value).tz_convert(UTC).floor("h").to_pydatetime()


def _ceil_hour(value: datetime) -> datetime:
    return pd.Timestamp(value).tz_convert(UTC).ceil("h").to_pydatetime()


def _incident(store: Store, latest: datetime) -> IncidentWindows | None:
    """The alert named in the URL; following its link selects its model version and range."""
    alert_id = state.current().alert
    incident = data.incident(store, alert_id=alert_id) if alert_id is not None else None
    if incident is None or not incident.windows:
        return incident
    if state.opened("alert"):
        state.put("model", incident.model)
        state.put("version", incident.version)
        state.put_range(*incident_range(incident, latest))
        state.put("window", state.format_time(incident.windows[-1][0]))
    return incident


def render(settings: Settings, store: Store, user: User) -> PageState:
    """Draw the sidebar and return the page context it selects."""
    versions = data.versions(store)
    latest = default_end(store)
    incident = _incident(store, latest)
    start, end = state.time_range(latest, DEFAULT_DAYS)
    chosen: VersionInfo | None = None
    bar = st.sidebar
    if versions:
        models = list(dict.fromkeys(v.model for v in versions))
        model = state.choose(bar, "model", "Model", models)
        of_model = [v for v in versions if v.model == model]
        labels = {v.version: v.version if v.status == "active" else f"{v.version} ({v.status})" for v in of_model}
        version = state.choose(bar, "version", "Version", list(labels), default=default_version(of_model),
                               format_func=labels.__getitem__)
        chosen = next(v for v in of_model if v.version == version)
    state.put_range(start, end)
    state.date_range(bar, start, end)
    if incident is not None:
        _incident_box(incident)
    _user_box(user)
    if incident is not None and chosen is not None and incident.model_version_id != chosen.id:
        incident = None
    return PageState(settings=settings, store=store, user=user, start=start, end=end, versions=versions,
                   version=chosen, incident=incident, window=state.current().window)


def _incident_box(incident: IncidentWindows) -> None:
    bar = st.sidebar
    status = "resolved" if incident.status == "resolved" else incident.status
    bar.markdown(f"**Alert #{incident.alert_id}** ({incident.severity}, {status}): {incident.title}")
    if incident.windows:
        bar.caption(f"Shaded red on every time chart: {fmt.span(*incident.windows[0])}"
                    + (f" to {fmt.span(*incident.windows[-1])}" if len(incident.windows) > 1 else ""))
    if bar.button("Stop highlighting this alert", key="incident.clear"):
        state.put("alert", None)
        st.rerun()


def _user_box(user: User) -> None:
    bar = st.sidebar
    bar.divider()
    if user.method == "none":
        bar.caption("Login is off (local mode): everyone here is an operator. See docs/dashboard.md to turn it on.")
        return
    bar.caption(f"Signed in as **{md.text(user.name)}** ({user.role})")
    if bar.button("Sign out", key="auth.signout"):
        auth.logout(user)
