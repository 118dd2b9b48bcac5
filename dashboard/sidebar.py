"""The sidebar shared by every page: model, version and time range, and who is signed in."""

from datetime import UTC, datetime, timedelta

import pandas as pd
import streamlit as st

from driftscope.dashboard import auth, data, state
from driftscope.dashboard import markdown as md
from driftscope.dashboard.auth import User
from driftscope.dashboard.data import Store, VersionInfo
from driftscope.dashboard.settings import Settings
from driftscope.dashboard.ui import PageState

DEFAULT_DAYS = 30


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


def render(settings: Settings, store: Store, user: User) -> PageState:
    """Draw the sidebar and return the page context it selects."""
    versions = data.versions(store)
    start, end = state.time_range(default_end(store), DEFAULT_DAYS)
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
    _user_box(user)
    return PageState(settings=settings, store=store, user=user, start=start, end=end, versions=versions,
                   version=chosen)


def _user_box(user: User) -> None:
    bar = st.sidebar
    bar.divider()
    if user.method == "none":
        bar.caption("Login is off (local mode): everyone here is an operator. See docs/dashboard.md to turn it on.")
        return
    bar.caption(f"Signed in as **{md.text(user.name)}** ({user.role})")
    if bar.button("Sign out", key="auth.signout"):
        auth.logout(user)
