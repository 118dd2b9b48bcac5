"""The deep dive in place: Evidently's report of one window, generated on demand, shown inline and downloadable.

The report is written by :func:`driftscope.dashboard.data.write_report` (Evidently's own drift
preset through ``driftscope.monitors.report``) into ``dashboard.reports_dir``, where ``driftscope
report`` puts it too. Evidently checks more columns than driftscope's data-drift monitor (the model's
prediction and probability besides the features) and picks its own tests for columns the monitor
config does not name, so its counts and verdicts can differ; the page says how.
"""

from datetime import datetime
from typing import Any

import pandas as pd
import streamlit as st
import streamlit.components.v1 as components

from driftscope.dashboard import data, fmt, reports, ui
from driftscope.dashboard import markdown as md
from driftscope.dashboard.data import VersionInfo
from driftscope.errors import DriftscopeError

REPORT_HEIGHT = 900


def report_section(ctx: ui.PageState, version: VersionInfo, start: Any, end: Any, *, key: str) -> None:
    """Offer, generate and show Evidently's report of ``[start, end)`` for ``version``."""
    window = (pd.Timestamp(start).to_pydatetime(), pd.Timestamp(end).to_pydatetime())
    st.markdown(f"Evidently's data-drift report of **{fmt.span(*window)}** against the reference.")
    if not data.report_available():
        st.info("Evidently is not installed here. Install the report extra and restart the dashboard: "
                "`pip install 'driftscope[report]'`")
        return
    path = reports.find_report(ctx.settings, version.model, version.version, *window)
    if path is None and st.button("Generate the report", key=f"{key}.report.make", type="primary",
                                  disabled=ctx.settings.config_path is None,
                                  help=None if ctx.settings.config_path else "Needs the dashboard's config file"):
        path = _generate(ctx, version, window)
    if path is None:
        st.caption("Generating takes a few seconds per 10,000 rows; the file is kept in the reports folder "
                   f"({ctx.settings.reports_dir}) for the next reader.")
        return
    _explain(ctx, version, window)
    html = path.read_bytes()
    st.download_button(f"Download {path.name}", data=html, file_name=path.name, mime="text/html",
                       key=f"{key}.report.download")
    components.html(html.decode("utf-8", errors="replace"), height=REPORT_HEIGHT, scrolling=True)


def _generate(ctx: ui.PageState, version: VersionInfo, window: tuple[datetime, datetime]) -> Any:
    with st.status(f"Generating Evidently's report for {fmt.span(*window)}…", expanded=True) as status:
        status.write("Reading the window's predictions and the reference, then running Evidently's drift preset…")
        try:
            path = data.write_report(ctx.store, ctx.settings, model=version.model, version=version.version,
                                     start=window[0], end=window[1])
        except DriftscopeError as exc:
            status.update(label="The report could not be generated", state="error")
            ui.show_error(exc)
            return None
        status.update(label=f"Report written to {path.name}", state="complete", expanded=False)
    return path


def _explain(ctx: ui.PageState, version: VersionInfo, window: tuple[datetime, datetime]) -> None:
    """Why Evidently's column count and verdicts may differ from driftscope's for this window."""
    matrix = data.drift_matrix(ctx.store, version_id=version.id, start=window[0], end=window[1])
    rows = matrix[pd.to_datetime(matrix["window_start"], utc=True) == pd.Timestamp(window[0])]
    features = rows[rows["role"] == "feature"]
    outputs = sorted(set(rows.loc[rows["role"] != "feature", "feature"])) or ["prediction", "probability"]
    drifted = sorted(set(features.loc[features["drifted"].fillna(False).astype(bool), "feature"]))
    names = ", ".join(md.code(c) for c in outputs)
    st.caption(
        f"driftscope's dataset-drift share counts the {features['feature'].nunique()} features "
        f"(drifted: {', '.join(md.code(c) for c in drifted) or 'none'}); it tests the model outputs ({names}) too but "
        f"leaves them out of the share. Evidently's report counts every column it checks, features and outputs "
        f"({features['feature'].nunique() + len(outputs)} here; never the id or timestamp columns), so its column "
        "count and its share of drifted columns differ. For columns whose test the monitor's config does not name, "
        "Evidently picks its own default test and threshold, so a verdict near the threshold can differ too."
    )
