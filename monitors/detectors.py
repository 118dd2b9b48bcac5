"""Change detection on a per-prediction error stream with river's ADWIN, Page-Hinkley and DDM.

Each detector is primed with the reference error stream (at most :data:`PRIME_ROWS` rows, in the
reference's stored order) so it starts from the reference error level, then fed the window's
errors in time order; a detection at position ``i`` of the window is reported with the
timestamp of row ``i``. Detections during priming are ignored. river's detectors are streaming
(one ``update`` per value), so this is a loop over values; river's ADWIN is compiled, and the
others cost under a microsecond per value.

Settings (documented so a verdict can be reproduced; the code reads them from
:mod:`driftscope.monitors.concept_registry`):

* ``adwin``: ``river.drift.ADWIN(delta=0.002, clock=32)`` on the error values (any change of mean).
* ``page_hinkley``: ``river.drift.PageHinkley(min_instances=30, delta=0.01, threshold=50,
  alpha=1 - 1e-4, mode="up")`` on the error indicator as floats 0.0/1.0 (increases only).
* ``ddm``: ``river.drift.binary.DDM(warm_start=30, warning_threshold=2, drift_threshold=3)`` on
  the error indicator as booleans, as river's binary detectors take them.

Detections split the window's stream into segments. A detection is an *increase* when the mean
error of the segment after it is higher than before it, where "before" is the reference error level
(the primed rows) for the first detection and the previous segment for later ones; the monitor
flags a detector that found an increase.
"""

import copy
import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from driftscope.extras import require
from driftscope.monitors import concept_registry

PRIME_ROWS = 1000
STREAM_DETECTORS = tuple(d.name for d in concept_registry.stream_detectors())
"""Detectors on the error stream, in registry order."""
BINARY_STREAM = frozenset(d.name for d in concept_registry.stream_detectors() if d.stream == "indicator")
"""Detectors fed the error indicator (wrong, or error above the cut) rather than the error values."""


def make(name: str) -> Any:
    """A new river detector ``name`` with its registered settings."""
    entry = concept_registry.get(name)
    assert entry.river_class is not None, f"{name} is not a change detector on the error stream"
    cls: Any = functools.reduce(getattr, entry.river_class.split("."), require("river.drift", "ml"))
    return cls(**entry.settings)


@dataclass(frozen=True)
class Detection:
    """One change found in a window's error stream."""

    detector: str
    position: int
    detected_at: pd.Timestamp
    error_before: float
    error_after: float

    @property
    def increase(self) -> bool:
        """Whether the error went up at this change."""
        return self.error_after > self.error_before

    def event(self) -> dict[str, Any]:
        """The ``detector_events`` columns of this detection."""
        return {
            "detector": self.detector,
            "detected_at": self.detected_at.to_pydatetime(),
            "details": {
                "position": self.position, "error_before": self.error_before, "error_after": self.error_after,
                "direction": "increase" if self.increase else "decrease",
            },
        }


def primed(name: str, reference_stream: np.ndarray) -> Any:
    """A detector ``name`` that has seen the first :data:`PRIME_ROWS` values of the reference stream."""
    detector = make(name)
    _feed(detector, reference_stream[:PRIME_ROWS])
    return detector


def detect(
    name: str, detector: Any, stream: np.ndarray, timestamps: pd.Series, reference_level: float
) -> tuple[Detection, ...]:
    """Feed ``stream`` (time-ordered) to a copy of a primed ``detector``; return its detections.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> reference = (rng.uniform(size=1000) < 0.1).astype(float)
    >>> window = np.r_[rng.uniform(size=500) < 0.1, rng.uniform(size=500) < 0.6].astype(float)
    >>> ts = pd.Series(pd.date_range("2026-01-01", periods=1000, freq="min", tz="UTC"))
    >>> found = detect("ddm", primed("ddm", reference), window, ts, reference.mean())
    >>> found[0].increase, 500 <= found[0].position < 600
    (True, True)
    """
    positions = _feed(copy.deepcopy(detector), stream)
    if not positions:
        return ()
    cumulative = np.concatenate(([0.0], np.cumsum(stream)))
    bounds = [0, *positions, stream.size]
    found = []
    for k, position in enumerate(positions):
        start, end = bounds[k], bounds[k + 2]
        before = (cumulative[position] - cumulative[start]) / (position - start) if k else reference_level
        after = (cumulative[end] - cumulative[position]) / (end - position)
        found.append(Detection(name, position, pd.Timestamp(timestamps.iloc[position]), float(before), float(after)))
    return tuple(found)


def _feed(detector: Any, stream: np.ndarray) -> list[int]:
    """Update ``detector`` with each value; return the positions where it signalled a drift.

    River's binary detectors (``river.drift.binary``) take booleans, the others numbers: values are
    passed as Python ``bool`` or ``float`` accordingly.
    """
    binary = isinstance(detector, require("river.base", "ml").BinaryDriftDetector)
    positions = []
    for position, value in enumerate(stream.astype(bool if binary else np.float64).tolist()):
        detector.update(value)
        if detector.drift_detected:
            positions.append(position)
    return positions
