"""Evidently HTML reports of a window: where ``driftscope report`` writes them and the command that does.

The dashboard does not compute reports (it reads the store only): it offers the file when one exists
in ``dashboard.reports_dir`` and otherwise shows the exact command that writes it there.
"""

import re
import shlex
from datetime import UTC, datetime
from pathlib import Path

from dashboard.settings import Settings

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def report_filename(model: str, version: str, start: datetime, end: datetime) -> str:
    """``<model>_<version>_<start>_<end>.html`` with times as ``YYYYmmddTHHMMZ`` (UTC).

    Examples
    --------
    >>> report_filename("credit-default", "1.0", datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC))
    'credit-default_1.0_20260101T0000Z_20260102T0000Z.html'
    """
    stamp = "%Y%m%dT%H%MZ"
    parts = [_UNSAFE.sub("-", model), _UNSAFE.sub("-", version), start.astimezone(UTC).strftime(stamp),
             end.astimezone(UTC).strftime(stamp)]
    return "_".join(parts) + ".html"


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
