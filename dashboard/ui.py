"""Layout helpers shared by the pages: the page context, empty states, errors and number formats."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from driftscope.dashboard import fmt
from driftscope.dashboard import markdown as md
from driftscope.dashboard.auth import User
from driftscope.dashboard.charts import Frame
from driftscope.dashboard.data import IncidentWindows, Store, VersionInfo
from driftscope.dashboard.settings import Settings
from driftscope.errors import DriftscopeError

VIEWS = Path(__file__).resolve().parent / "views"
PAGES = {name: str(VIEWS / f"{name}.py") for name in ("overview", "version", "feature", "compare", "alerts", "runs")}
URL_PATHS = {  # the address of each page; alert e-mails link to /model_version?model=..&version=..&start=..&end=..
    "overview": "overview", "version": "model_version", "feature": "feature", "compare": "compare",
    "alerts": "alerts", "runs": "runs",
}
_CONTEXT_KEY = "driftscope.context"
TIME_COLUMNS = {
    name: st.column_config.DatetimeColumn(name.replace("_", " "), format="YYYY-MM-DD HH:mm")
    for name in ("detected_at", "first_seen", "last_seen", "created_at", "updated_at", "resolved_at", "window_end",
                 "window_start", "first_at", "last_at", "started_at", "finished_at", "data_start", "data_end")
}
ADD_MODEL_HINT = (
    "No models yet. Declare one under `models:` in driftscope.yaml (name, task, versions with their "
    "reference data, schema) and run `driftscope apply --config driftscope.yaml`; "
    "or run `driftscope demo` to explore a store with real drift."
)


@dataclass(frozen=True)
class PageState:
    """What every page needs: settings, store, user, time range and the selected model version."""

    settings: Settings
    store: Store
    user: User
    start: datetime
    end: datetime
    versions: list[VersionInfo] = field(default_factory=list)
    version: VersionInfo | None = None
    incident: IncidentWindows | None = None
    window: datetime | None = None

    @property
    def model_versions(self) -> list[VersionInfo]:
        """Versions of the selected model."""
        return [v for v in self.versions if self.version is not None and v.model == self.version.model]


def chart_frame(ctx: PageState) -> Frame:
    """The x range of every time chart and the alert's windows to shade on it."""
    incident = ctx.incident
    if incident is None:
        return Frame(start=ctx.start, end=ctx.end)
    label = "no data" if incident.kind == "no_data" else f"alert #{incident.alert_id}"
    return Frame(start=ctx.start, end=ctx.end, highlight=incident.windows, highlight_label=label)


def focus_row(ctx: PageState, rows: pd.DataFrame) -> pd.Series | None:
    """The row of the window the page describes: the selected window (``window`` in the URL, set by an
    alert's link or a heatmap click), else the newest row before it (e.g. labels not in yet), else the newest."""
    if rows.empty:
        return None
    rows = rows.sort_values("window_end")
    if ctx.window is not None:
        starts = pd.to_datetime(rows["window_start"], utc=True)
        before = rows[starts <= pd.Timestamp(ctx.window)]
        if not before.empty:
            return before.iloc[-1]
    return rows.iloc[-1]


def set_page_state(context: PageState) -> None:
    """Publish the context for the page about to run (called by ``app.py``)."""
    st.session_state[_CONTEXT_KEY] = context


def page_state() -> PageState:
    """The context ``app.py`` published for this run."""
    return st.session_state[_CONTEXT_KEY]


def need_version(ctx: PageState) -> VersionInfo | None:
    """The selected version, or None after showing what to do when there is none."""
    if not ctx.versions:
        st.info(ADD_MODEL_HINT)
        return None
    if ctx.version is None:
        st.info("Pick a model and a version in the sidebar.")
    return ctx.version


def one_shot_key(name: str) -> str:
    """A widget key for a selection that triggers navigation; :func:`consume` gives the widget a fresh one.

    Chart and table selections are read-only and would fire again on the next visit; a new key
    starts the widget with no selection.
    """
    return f"{name}.{st.session_state.get('oneshot.' + name, 0)}"


def consume(name: str) -> None:
    """Retire the current key of :func:`one_shot_key` (call before navigating away)."""
    st.session_state["oneshot." + name] = st.session_state.get("oneshot." + name, 0) + 1


def empty(what: str, next_step: str) -> None:
    """An empty state: what is missing and what to do next."""
    st.info(f"{what} {next_step}")


def show_error(exc: DriftscopeError) -> None:
    """A readable error box (no traceback)."""
    st.error(f"**{type(exc).__name__}**: {md.text(exc)}")


def attempt(action: Callable[[], Any], success: str) -> bool:
    """Run a write ``action``; show ``success`` or the error. True when it worked."""
    try:
        action()
    except DriftscopeError as exc:
        show_error(exc)
        return False
    st.session_state["driftscope.flash"] = success
    return True


def flash() -> None:
    """Show (once) the message left by the last successful action."""
    message = st.session_state.pop("driftscope.flash", None)
    if message:
        st.success(message)


def fmt_int(value: Any) -> str:
    """``12,345`` for a card (``-`` when missing)."""
    return fmt.integer(value) or "-"


def fmt_pct(value: Any, digits: int = 1) -> str:
    """``12.3%`` from a share, for a card (``-`` when missing)."""
    return fmt.pct(value, digits) or "-"


def fmt_num(value: Any) -> str:
    """Four significant digits with thousands separators, never scientific, for a card (``-`` when missing)."""
    return fmt.num(value) or "-"


def fmt_time(value: Any) -> str:
    """``2026-01-05 14:00 UTC`` (``-`` when missing)."""
    if value is None or pd.isna(value):
        return "-"
    return pd.Timestamp(value).tz_convert(UTC).strftime("%Y-%m-%d %H:%M UTC")


def ago(value: Any, now: datetime | None = None) -> str:
    """How long ago, in the largest sensible unit (``3 h ago``); ``never`` when missing."""
    if value is None or pd.isna(value):
        return "never"
    seconds = ((now or datetime.now(UTC)) - pd.Timestamp(value).to_pydatetime()).total_seconds()
    for unit, size in (("d", 86_400), ("h", 3_600), ("min", 60)):
        if abs(seconds) >= size:
            return f"{seconds / size:.0f} {unit} ago"
    return f"{seconds:.0f} s ago"


def version_label(info: VersionInfo) -> str:
    """``credit-default 2.0`` plus the status when not active."""
    suffix = "" if info.status == "active" else f" ({info.status})"
    return f"{info.model} {info.version}{suffix}"


def alerts_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Alert rows as the pages list them: data time as a span (the windows the incident began and was last
    seen in), the number of breaching windows."""
    columns = ["id", "severity", "status", "title", "model", "version", "rule", "fire_count"]
    shown = frame[columns].rename(columns={"fire_count": "windows"})
    data_time = [fmt.span(s, e) for s, e in zip(frame["data_start"], frame["data_end"], strict=True)]
    return shown.assign(data_time=data_time)[["id", "severity", "status", "title", "data_time", "model", "version",
                                              "rule", "windows"]]


def blanks(frame: pd.DataFrame) -> pd.DataFrame:
    """A table for display with missing cells empty (not ``None``): text columns filled with ``""``,
    numeric columns holding gaps as formatted text; datetime and boolean columns untouched."""
    shown = frame.copy()
    for column in shown.columns:
        values = shown[column]
        if values.dtype == object:
            shown[column] = values.astype(object).where(values.notna(), "")
        elif pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values) and values.isna().any():
            shown[column] = values.map(lambda v: "" if fmt.missing(v) else
                                       fmt.integer(v) if float(v).is_integer() else fmt.num(v))
    return shown
