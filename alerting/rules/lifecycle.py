"""A rule's incidents as a pure function of its verdicts in window order (data time).

The walk (:func:`incidents`) reads one verdict per window, oldest first, and knows nothing of wall
clocks, so walking the same verdicts twice gives the same incidents. Its rules:

* a window without a verdict (``none``: no data, too few labels, a failed run) is skipped: it
  neither breaches nor counts as clean, and it does not break a streak;
* **persistence** (``for: K of N``): while no incident is open, one opens when K of the last N
  windows *with a verdict* breach; it began at the first of those breaching windows;
* **hysteresis**: while an incident is open, a window counts as clean only when its clearance
  (how far the value is back on the clean side of the threshold, as a share of the threshold) is
  at least ``hysteresis``; a window that neither breaches nor clears that margin breaks the clean
  streak;
* ``resolve_after`` clean windows in a row resolve the incident at the last of them; the next
  incident again needs K of N fresh breaches;
* a **reset** (an alert resolved by hand, at the data time it covered) closes an open incident
  and forgets the history before it.
"""

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

VERDICTS = ("breach", "clean", "none")


@dataclass(frozen=True)
class Verdict:
    """One rule's conclusion on one window: ``breach``, ``clean`` or ``none`` (no verdict)."""

    window_start: datetime
    window_end: datetime
    verdict: str
    clearance: float | None = None
    effect: float | None = None


@dataclass
class Incident:
    """An incident: indexes (into the walked verdicts) of its breaching windows and how it ended.

    ``resolved_at`` is the index of the window that completed the clean streak; ``reset`` is True
    when a reset closed it; both unset while it is open. ``clean_streak`` counts the clean windows
    since its newest breach.
    """

    breaches: list[int] = field(default_factory=list)
    resolved_at: int | None = None
    reset: bool = False
    clean_streak: int = 0

    @property
    def is_open(self) -> bool:
        """True while neither a clean streak nor a reset closed it."""
        return self.resolved_at is None and not self.reset


def incidents(
    verdicts: Sequence[Verdict],
    *,
    k: int = 1,
    n: int = 1,
    resolve_after: int = 1,
    hysteresis: float = 0.0,
    resets: Sequence[datetime] = (),
) -> list[Incident]:
    """Walk ``verdicts`` (sorted by window) and return the incidents they imply, oldest first.

    Examples
    --------
    >>> from datetime import UTC, datetime, timedelta
    >>> day = lambda d: datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=d)
    >>> walk = lambda marks, **kw: incidents(
    ...     [Verdict(day(i), day(i + 1), {"B": "breach", "c": "clean", "-": "none"}[m]) for i, m in enumerate(marks)],
    ...     **kw)
    >>> [(i.breaches, i.resolved_at) for i in walk("Bc-cB", k=2, n=3)]  # an isolated breach stays quiet
    []
    >>> [(i.breaches, i.resolved_at) for i in walk("BcB", k=2, n=3)]  # the second breach fires
    [([0, 2], None)]
    >>> [(i.breaches, i.resolved_at) for i in walk("B--c-c", resolve_after=2)]  # no verdict never resolves
    [([0], 5)]
    """
    found: list[Incident] = []
    recent: deque[tuple[int, bool]] = deque(maxlen=n)
    current: Incident | None = None
    pending_resets = sorted(resets)
    for index, verdict in enumerate(verdicts):
        while pending_resets and verdict.window_start >= pending_resets[0]:
            pending_resets.pop(0)
            if current is not None:
                current.reset, current = True, None
            recent.clear()
        if verdict.verdict == "none":
            continue
        breach = verdict.verdict == "breach"
        recent.append((index, breach))
        if current is None:
            if breach and sum(hit for _, hit in recent) >= k:
                current = Incident(breaches=[i for i, hit in recent if hit])
                found.append(current)
            continue
        if breach:
            current.breaches.append(index)
            current.clean_streak = 0
        elif verdict.clearance is None or verdict.clearance >= hysteresis:
            current.clean_streak += 1
            if current.clean_streak >= resolve_after:
                current.resolved_at, current = index, None
                recent.clear()
        else:
            current.clean_streak = 0
    return found


def severity_for(base: str, escalate: dict[str, float], effect: float | None) -> str:
    """``base``, raised to the most severe level of ``escalate`` whose effect floor ``effect`` reaches.

    Examples
    --------
    >>> severity_for("warning", {"critical": 0.1}, 0.12), severity_for("warning", {"critical": 0.1}, 0.05)
    ('critical', 'warning')
    >>> severity_for("info", {"warning": 0.1, "critical": 0.3}, None)
    'info'
    """
    order = ("info", "warning", "critical")
    chosen = base
    if effect is None:
        return chosen
    for level, floor in escalate.items():
        if effect >= floor and order.index(level) > order.index(chosen):
            chosen = level
    return chosen
