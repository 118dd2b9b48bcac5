"""The selection shared by every page (model, version, time range, feature, compared version).

It lives in ``st.session_state`` and is mirrored to ``st.query_params`` (``model``, ``version``,
``start``, ``end``, ``feature``, ``compare``, ``alert``, ``window``), so a link such as
``/version?model=credit-default&version=1.0&start=2026-01-01&end=2026-01-08`` opens the right page
and window, and the selection survives moving between pages. A value in the URL wins when it
changed since the app last wrote the URL (someone opened a link); otherwise the session's value is
kept. Times are UTC; ``end`` is exclusive; dates mean midnight UTC. ``alert`` is the id of the alert
whose windows every time chart highlights (an alert e-mail's link sets it); ``window`` is the start
of the monitor window the cards and the Feature page describe.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import streamlit as st

PARAMS = ("model", "version", "start", "end", "feature", "compare", "alert", "window")
_SEL = "sel."
_SEEN = "url."
_WIDGET = "w."
_OPENED = "opened.params"


@dataclass(frozen=True)
class Selection:
    """The current selection; any field may be None until chosen."""

    model: str | None
    version: str | None
    start: datetime | None
    end: datetime | None
    feature: str | None
    compare: str | None
    alert: int | None = None
    window: datetime | None = None


def parse_time(text: str | None) -> datetime | None:
    """A UTC datetime from ``YYYY-MM-DD`` or an ISO timestamp (naive means UTC); None when unreadable.

    Examples
    --------
    >>> parse_time("2026-01-05")
    datetime.datetime(2026, 1, 5, 0, 0, tzinfo=datetime.timezone.utc)
    >>> parse_time("2026-01-05T14:30:00+02:00")
    datetime.datetime(2026, 1, 5, 12, 30, tzinfo=datetime.timezone.utc)
    >>> parse_time("soon") is None
    True
    """
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.strip().replace(" ", "T"))
    except ValueError:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def format_time(value: datetime) -> str:
    """``YYYY-MM-DD`` at midnight UTC, else ``YYYY-MM-DDTHH:MMZ``.

    Examples
    --------
    >>> format_time(datetime(2026, 1, 5, tzinfo=UTC)), format_time(datetime(2026, 1, 5, 14, 30, tzinfo=UTC))
    ('2026-01-05', '2026-01-05T14:30Z')
    """
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%d") if value.time() == time(0) else value.strftime("%Y-%m-%dT%H:%MZ")


def sync_from_url() -> None:
    """Copy URL parameters that changed since the app last wrote the URL into the session.

    The names copied on this run are remembered for :func:`opened` (a link was just followed).
    """
    changed = []
    for name in PARAMS:
        value = st.query_params.get(name)
        if value is not None and st.session_state.get(_SEEN + name) != value:
            st.session_state[_SEL + name] = value
            st.session_state[_SEEN + name] = value
            changed.append(name)
    st.session_state[_OPENED] = tuple(changed)


def opened(name: str) -> bool:
    """True when this run took ``name`` from the URL (someone followed a link that set it)."""
    return name in st.session_state.get(_OPENED, ())


def write_url() -> None:
    """Mirror the session's selection into the URL (and remember what was written)."""
    for name in PARAMS:
        value = st.session_state.get(_SEL + name)
        if value:
            if st.query_params.get(name) != value:
                st.query_params[name] = value
        elif name in st.query_params:
            del st.query_params[name]
        st.session_state[_SEEN + name] = value


def get(name: str) -> str | None:
    """The raw selected value of ``name`` (one of :data:`PARAMS`)."""
    return st.session_state.get(_SEL + name) or None


def put(name: str, value: str | None) -> None:
    """Select ``value`` for ``name``; None clears it."""
    st.session_state[_SEL + name] = value or None


def put_range(start: datetime, end: datetime) -> None:
    """Select the time range ``[start, end)``."""
    put("start", format_time(start))
    put("end", format_time(end))


def current() -> Selection:
    """The typed selection."""
    alert = get("alert")
    return Selection(
        model=get("model"), version=get("version"), start=parse_time(get("start")), end=parse_time(get("end")),
        feature=get("feature"), compare=get("compare"), alert=int(alert) if alert and alert.isdigit() else None,
        window=parse_time(get("window")),
    )


def time_range(default_end: datetime, default_days: int = 30) -> tuple[datetime, datetime]:
    """The selected range, or ``default_days`` ending at ``default_end`` when none (or a reversed one) is set."""
    sel = current()
    end = sel.end or default_end
    start = sel.start or end - timedelta(days=default_days)
    if start >= end:
        start = end - timedelta(days=default_days)
    return start, end


def day_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """The range covering the UTC days ``first`` .. ``last`` inclusive.

    Examples
    --------
    >>> [format_time(t) for t in day_bounds(date(2026, 1, 1), date(2026, 1, 7))]
    ['2026-01-01', '2026-01-08']
    """
    start = datetime.combine(first, time(0), tzinfo=UTC)
    return start, datetime.combine(last, time(0), tzinfo=UTC) + timedelta(days=1)


def link_params(**overrides: str | None) -> dict[str, str]:
    """The selection as query parameters, with ``overrides`` applied (None drops a parameter)."""
    params = {name: get(name) for name in PARAMS}
    params.update(overrides)
    return {k: v for k, v in params.items() if v}


def choose(
    container: Any,
    name: str,
    label: str,
    options: Sequence[str],
    *,
    default: str | None = None,
    format_func: Callable[[str], str] = str,
    help: str | None = None,
) -> str | None:
    """A selectbox bound to the selection ``name``; an unknown selected value falls back to ``default``.

    The widget's own key is ``w.<name>``; its change callback updates the selection, so the value
    survives pages where the widget is not drawn.
    """
    if not options:
        put(name, None)
        return None
    chosen = get(name)
    if chosen not in options:
        chosen = default if default in options else options[0]
        put(name, chosen)
    key = _WIDGET + name
    if st.session_state.get(key) != chosen:
        st.session_state[key] = chosen
    container.selectbox(label, list(options), key=key, format_func=format_func, help=help,
                        on_change=_copy_widget, args=(name,))
    return chosen


def _copy_widget(name: str) -> None:
    put(name, st.session_state.get(_WIDGET + name))


def date_range(container: Any, start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """A UTC date-range picker for ``[start, end)``; returns the range to use on this run."""
    first, last = start.date(), (end - timedelta(microseconds=1)).date()
    key = f"{_WIDGET}range.{first}.{last}"
    container.date_input(
        "Time range (UTC days)", value=(first, last), key=key, on_change=_copy_range, args=(key,),
        format="YYYY-MM-DD", help="Charts and counts cover these days; links in alert e-mails set it for you.",
    )
    return start, end


def _copy_range(key: str) -> None:
    value = st.session_state.get(key)
    if isinstance(value, tuple | list) and len(value) == 2:
        put_range(*day_bounds(value[0], value[1]))
