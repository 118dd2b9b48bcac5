"""Names shared by every layer: the store's default URL, the file name of a window's report, and the
alert statuses and severities (the store's vocabulary, which the CLI offers as choices)."""

import re
from datetime import UTC, datetime

#: the store used when neither the config nor ``$DRIFTSCOPE_DATABASE_URL`` names one
DEFAULT_DATABASE_URL = "sqlite:///driftscope.db"
#: where Evidently reports go when ``dashboard.reports_dir`` is not set (relative to the config file)
DEFAULT_REPORTS_DIR = "reports"
#: an alert's life: open -> acknowledged -> resolved ("active" means open or acknowledged)
ALERT_STATUSES = ("open", "acknowledged", "resolved")
#: alert severities, least to most severe
SEVERITIES = ("info", "warning", "critical")
#: the file ``driftscope demo`` leaves in its folder (next to its config): the store holds replayed history
DEMO_MARKER = ".driftscope-demo"

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def report_filename(model: str, version: str, start: datetime, end: datetime) -> str:
    """``<model>_<version>_<start>_<end>.html`` with times as ``YYYYmmddTHHMMZ`` (UTC).

    Characters other than letters, digits, ``.``, ``_`` and ``-`` become ``-``.

    Examples
    --------
    >>> report_filename("credit default", "1.0", datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC))
    'credit-default_1.0_20260101T0000Z_20260102T0000Z.html'
    """
    stamp = "%Y%m%dT%H%MZ"
    parts = [_UNSAFE.sub("-", model), _UNSAFE.sub("-", version), start.astimezone(UTC).strftime(stamp),
             end.astimezone(UTC).strftime(stamp)]
    return "_".join(parts) + ".html"
