"""Evidently HTML reports of a window: where ``driftscope report`` writes them and the command that does.

The dashboard does not compute reports (it reads the store only): it offers the file when one exists
in ``dashboard.reports_dir`` and otherwise shows the exact command that writes it there.
"""

import shlex
from datetime import UTC, datetime
from pathlib import Path

from driftscope.dashboard.settings import Settings
from driftscope.naming import report_filename


def find_report(settings: Settings, model: str, version: str, start: datetime, end: datetime) -> Path | None:
    """The report file of the window in the reports folder, or None."""
    path = settings.reports_dir / report_filename(model, version, start, end)
    return path if path.is_file() else None


def report_command(settings: Settings, model: str, version: str, start: datetime, end: datetime) -> str:
    """The shell command that writes the window's report into the reports folder."""
    output = settings.reports_dir / report_filename(model, version, start, end)
    args = ["driftscope", "report"]
    if settings.config_path:
        args += ["--config", settings.config_path]
    args += ["--model", model, "--version", version, "--start", start.astimezone(UTC).isoformat(),
             "--end", end.astimezone(UTC).isoformat(), "--output", str(output)]
    return shlex.join(args)
