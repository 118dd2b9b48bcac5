"""Evidently HTML reports of a window: where ``driftscope report`` and the dashboard's deep dive write them.

The file of a window is ``dashboard.reports_dir/<model>_<version>_<start>_<end>.html``; the deep dive
(:mod:`driftscope.dashboard.deep_dive`) shows it when it exists and otherwise offers to generate it.
"""

from datetime import datetime
from pathlib import Path

from driftscope.dashboard.settings import Settings
from driftscope.naming import report_filename


def find_report(settings: Settings, model: str, version: str, start: datetime, end: datetime) -> Path | None:
    """The report file of the window in the reports folder, or None."""
    path = settings.reports_dir / report_filename(model, version, start, end)
    return path if path.is_file() else None

