"""A one-line progress report on stderr for long collector runs."""

import sys
import time
from typing import TextIO

from driftscope.collectors.ingest import Counts


class Progress:
    """Rows read, stored, duplicate and quarantined so far, with the rate.

    Shown only when enabled and only once the run has lasted ``delay_s`` (short runs stay quiet),
    then refreshed in place at most every ``interval_s``.
    """

    def __init__(self, source: str, *, enabled: bool, stream: TextIO | None = None, delay_s: float = 2.0,
                 interval_s: float = 0.5) -> None:
        self.source = source
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.delay_s, self.interval_s = delay_s, interval_s
        self.counts = Counts()
        self._start = time.monotonic()
        self._last = 0.0
        self._shown = False

    def add(self, counts: Counts) -> None:
        """Count one more batch and refresh the line when due."""
        self.counts += counts
        now = time.monotonic()
        if not self.enabled or now - self._start < self.delay_s or now - self._last < self.interval_s:
            return
        self._last, self._shown = now, True
        c = self.counts
        rate = c.read / max(now - self._start, 1e-9)
        self.stream.write(f"\r{self.source}: {c.read:,} rows read, {c.stored:,} stored, {c.duplicate:,} duplicate, "
                          f"{c.quarantined:,} quarantined ({rate:,.0f} rows/s)")
        self.stream.flush()

    def close(self) -> None:
        """End the progress line, if one was shown."""
        if self._shown:
            self.stream.write("\n")
            self.stream.flush()
