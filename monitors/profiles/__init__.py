"""Data drift from stored profiles instead of raw rows (see ``docs/statistics.md``, "The profile path").

:mod:`.histogram` runs the count-based tests on a profile's cells; :mod:`.sketch` runs KS and
Wasserstein against a window's KLL sketch and carries the sketch's rank error into the verdict;
:mod:`.monitor` is the fit/evaluate monitor the runner uses when a window is read from profiles.
"""

from driftscope.monitors.profiles.monitor import ProfileDriftMonitor

__all__ = ["ProfileDriftMonitor"]
