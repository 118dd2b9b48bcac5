"""Evidently's own data-drift report of one window against the reference, as HTML for deep dives.

The report is a view, never the storage format: driftscope's results live in the store; this
file is written on request (``driftscope report``) and linked from the dashboard. It uses the
same columns (features, plus ``prediction`` and ``probability`` when both sides have them), the
same column types, the same per-column methods and thresholds and the same ``drift_share`` as the
window's data-drift monitor, so both verdicts can be compared. Evidently is imported lazily: it
takes seconds to import and only this command needs it.
"""

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from driftscope.errors import ConfigError, NotFoundError
from driftscope.extras import require
from driftscope.monitors.config import MonitorConfig, MonitorSettings
from driftscope.monitors.data_drift import DEFAULT_DRIFT_SHARE
from driftscope.monitors.windows import Window, tile_ending
from driftscope.naming import DEFAULT_REPORTS_DIR, report_filename
from driftscope.storage.db import read_transaction
from driftscope.storage.predictions import read_window
from driftscope.storage.registry import get_version, load_reference

DEFAULT_WINDOW = timedelta(days=1)
EVIDENTLY_METHODS = {"ztest": "z", "tvd": "TVD", "energy": "ed"}
OUTPUT_COLUMNS = ("prediction", "probability")


def report_monitor(config: MonitorSettings, model: str, monitor: str | None) -> MonitorConfig | None:
    """The data-drift monitor whose settings the report follows: ``monitor``, else the model's first."""
    if monitor is not None:
        chosen = config.monitor(monitor)
        if chosen.model != model or chosen.kind != "data_drift":
            raise ConfigError(f"monitor {monitor!r} is not a data_drift monitor of model {model!r}")
        return chosen
    config.model(model)
    return next((m for m in config.monitors if m.model == model and m.kind == "data_drift"), None)


def build_report(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    column_types: Mapping[str, str],
    *,
    methods: Mapping[str, str] | None = None,
    thresholds: Mapping[str, float] | None = None,
    drift_share: float = DEFAULT_DRIFT_SHARE,
) -> Any:
    """Run Evidently's ``DataDriftPreset`` on the columns of ``column_types`` present on both sides.

    ``column_types`` maps columns to ``numeric``, ``categorical`` or ``binary`` (binary is
    categorical for Evidently); ``methods`` uses driftscope's method names. Returns Evidently's
    snapshot (``save_html``, ``dict``).
    """
    evidently = require("evidently", "report")
    DataDefinition, Dataset, Report = evidently.DataDefinition, evidently.Dataset, evidently.Report
    DataDriftPreset = require("evidently.presets", "report").DataDriftPreset

    columns = [c for c in column_types if c in reference.columns and c in current.columns]
    numeric = [c for c in columns if column_types[c] == "numeric"]
    categorical = [c for c in columns if column_types[c] != "numeric"]
    definition = DataDefinition(numerical_columns=numeric, categorical_columns=categorical)
    preset = DataDriftPreset(
        columns=columns, drift_share=drift_share,
        per_column_method={c: EVIDENTLY_METHODS.get(m, m) for c, m in (methods or {}).items() if c in columns}
        or None,
        per_column_threshold={c: t for c, t in (thresholds or {}).items() if c in columns} or None,
    )
    datasets = [
        Dataset.from_pandas(_plain(frame[columns], categorical), data_definition=definition)
        for frame in (current, reference)
    ]
    return Report([preset]).run(*datasets)


def _plain(frame: pd.DataFrame, categorical: list[str]) -> pd.DataFrame:
    """Categorical columns as text (missing stays missing), so both sides compare label to label."""
    out = frame.reset_index(drop=True).copy()
    for column in categorical:
        values = out[column].astype(object)
        out[column] = values.where(values.isna(), values.astype(str))
    return out


def write_report(
    engine: Engine,
    config: MonitorSettings,
    *,
    model: str,
    version: str,
    window_end: datetime,
    window_start: datetime | None = None,
    path: str | Path | None = None,
    monitor: str | None = None,
    window: timedelta | None = None,
    reports_dir: Path = Path(DEFAULT_REPORTS_DIR),
) -> Path:
    """Write Evidently's drift report of one window.

    The window is ``[window_start, window_end)`` when a start is given (e.g. a stored run's
    window), else the tile ending at ``window_end`` (tiled like the monitors) whose width is
    ``window``, else the data-drift monitor's, else one day. The file goes to ``path``, else to
    ``reports_dir`` under :func:`driftscope.naming.report_filename`, the name the dashboard looks for.

    Raises
    ------
    NotFoundError
        No such model or version in the store, or no prediction in the window.
    """
    drift = report_monitor(config, model, monitor)
    if window_start is not None:
        if window_start >= window_end:
            raise ConfigError(f"the window start {window_start} must be before its end {window_end}")
        tile = Window(window_start.astimezone(UTC), window_end.astimezone(UTC))
    else:
        tile = tile_ending(window_end, window or (drift.window if drift else DEFAULT_WINDOW))
    with read_transaction(engine) as session:
        info = get_version(session, model, version)
        reference = load_reference(session, model_version_id=info.id)
        current = read_window(session, model_version_id=info.id, start=tile.start, end=tile.end)
    if current.empty:
        raise NotFoundError(
            f"model {model!r} version {version!r} has no prediction in window {tile}; pick another --window-end"
        )
    outputs = {"prediction": "numeric" if info.task == "regression" else "categorical", "probability": "numeric"}
    tests = (drift.tests or {}) if drift else {}
    snapshot = build_report(
        reference, current, {**info.features, **outputs},
        methods={c: t.method for c, t in tests.items()},
        thresholds={c: t.threshold for c, t in tests.items() if t.threshold is not None},
        drift_share=drift.effective_drift_share if drift else DEFAULT_DRIFT_SHARE,
    )
    target = Path(path) if path is not None else reports_dir / report_filename(model, version, tile.start, tile.end)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(escape_embedded_data(snapshot.get_html_str(as_iframe=False)), encoding="utf-8")
    return target


_DATA_START = "<script>\n    var metric_"
_DATA_END = ";\n</script>"


def escape_embedded_data(html: str) -> str:
    r"""Evidently's standalone report with every ``<`` in its embedded JSON written as ``\u003c``.

    Evidently embeds the report data as ``json.dumps`` output inside an inline ``<script>``; a value
    such as ``</script><script>alert(1)</script>`` (a category from the data) would end that script
    and run. ``json.dumps`` escapes newlines, so the block's end (``;``, a newline, ``</script>``)
    cannot occur inside the data, and ``<`` can only occur inside JSON strings, where ``\u003c``
    reads back as the same character. That removes every ``</script`` and ``<!--`` from the data.

    Raises
    ------
    RuntimeError
        The data block is not where Evidently puts it (a changed template): no unsafe file is written.

    Examples
    --------
    >>> page = '<script>\n    var metric_1 = {"v": "</script><b>"};\n</script><script>go()</script>'
    >>> print(escape_embedded_data(page))
    <script>
        var metric_1 = {"v": "\u003c/script>\u003cb>"};
    </script><script>go()</script>
    """
    start = html.find(_DATA_START)
    end = html.find(_DATA_END, start + 1)
    if start < 0 or end < 0:
        raise RuntimeError("Evidently's report HTML has no data block where expected; refusing to write a report "
                           "whose data may not be escaped (check the installed evidently version)")
    body = start + len("<script>")
    return html[:body] + html[body:end].replace("<", "\\u003c") + html[end:]

