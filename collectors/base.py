"""The source contract: a source yields batches of raw rows after its last committed position.

Sources do no database work. Each :class:`Batch` carries its raw rows (source column names), how to
locate and reproduce any of them for quarantine, the rows that could not even be parsed, and the
:data:`Checkpoint` that :mod:`driftscope.collectors.ingest` commits in the same transaction as the rows.
"""

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

import numpy as np
import pandas as pd

from driftscope.storage.collector_state import FileMark

Records = Literal["predictions", "ground_truth", "outcomes"]


@dataclass(frozen=True)
class Rejected:
    """Rows that never became part of a frame (a line that is not JSON, a CSV line with too many fields)."""

    locations: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    payloads: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.locations)


@dataclass(frozen=True)
class WatermarkCheckpoint:
    """Advance the source's watermark from ``expected`` (what the batch was read after) to ``watermark``."""

    expected: str | None
    watermark: str


@dataclass(frozen=True)
class FileCheckpoint:
    """Advance the mark of one file from ``expected`` (None: never read) to ``mark``."""

    expected: FileMark | None
    mark: FileMark


@dataclass(frozen=True)
class OffsetCheckpoint:
    """Advance partitions of ``topic`` from ``expected`` (None: never read) to ``offsets`` (the next to read).

    ``last_ts`` holds the broker timestamp of each partition's last message taken (None if unknown).
    """

    topic: str
    expected: dict[int, int | None]
    offsets: dict[int, int]
    last_ts: dict[int, datetime | None] = field(default_factory=dict)


Checkpoint = WatermarkCheckpoint | FileCheckpoint | OffsetCheckpoint | None


@dataclass(frozen=True)
class Batch:
    """Raw rows of one read, with what to commit alongside them.

    Attributes
    ----------
    frame : pandas.DataFrame
        The rows under the source's column names, with a default ``RangeIndex``.
    origin : str
        Where the batch came from, for error messages (``"file logs/a.csv"``, ``"table outcomes"``).
    locate : callable
        Positions (numpy ints into ``frame``) -> location strings of those rows.
    payloads : callable
        Positions -> the raw rows as JSON text.
    checkpoint : Checkpoint
        The position to commit with the rows (None for the Python API).
    rejected : Rejected
        Rows that could not be parsed; they count as read and go to quarantine as they are.
    """

    frame: pd.DataFrame
    origin: str
    locate: Callable[[np.ndarray], list[str]]
    payloads: Callable[[np.ndarray], list[str]]
    checkpoint: Checkpoint
    rejected: Rejected = field(default_factory=Rejected)


@dataclass(frozen=True)
class SourceFailure:
    """A part of a source that failed (a corrupt file); the source goes on with its other parts."""

    where: str
    error: str


@dataclass(frozen=True)
class SourceState:
    """A source's committed position: its watermark, how far it read each file, or its partitions' next offsets."""

    watermark: str | None = None
    files: dict[str, FileMark] = field(default_factory=dict)
    offsets: dict[int, int] = field(default_factory=dict)


class Source(Protocol):
    """A place rows are pulled from: yields batches after ``state``, in order, without touching the store."""

    name: str

    def batches(self, state: SourceState) -> Iterator[Batch | SourceFailure]:
        """Yield the batches past ``state``; a batch's checkpoint assumes every earlier one was committed."""
        ...


@dataclass(frozen=True)
class SourceSummary:
    """What one run of one source did: ``rows_read = rows_stored + rows_duplicate + rows_conflict + rows_quarantined``.

    ``status`` is ``succeeded`` or ``failed`` (``error`` then says what failed; rows committed
    before the failure stay stored). For labels, ``rows_stored`` counts new and corrected labels
    and ``rows_duplicate`` the unchanged repeats. ``rows_conflict`` counts conflicting duplicates
    (an id seen before with other content: the first is kept, the newcomer is quarantined with
    the reason "conflicting duplicate" but counted here, not in ``rows_quarantined``).
    """

    source: str
    status: str
    rows_read: int
    rows_stored: int
    rows_duplicate: int
    rows_quarantined: int
    error: str | None = None
    rows_conflict: int = 0


def rows_as_json(frame: pd.DataFrame) -> Callable[[np.ndarray], list[str]]:
    """A ``payloads`` function serialising rows of ``frame`` as JSON objects (ISO timestamps, null for NaN).

    Examples
    --------
    >>> payloads = rows_as_json(pd.DataFrame({"id": ["a", "b"], "x": [1.5, float("nan")]}))
    >>> payloads(np.array([1]))
    ['{"id":"b","x":null}']
    """

    def payloads(positions: np.ndarray) -> list[str]:
        if len(positions) == 0:
            return []
        rows = frame.iloc[positions]
        try:
            text = rows.to_json(orient="records", lines=True, date_format="iso", date_unit="us", default_handler=str)
        except (UnicodeError, ValueError, OverflowError):  # an unpaired surrogate, a datetime pandas cannot place
            return [json.dumps(record, default=str) for record in rows.astype(object).to_dict("records")]
        return text.rstrip("\n").split("\n")

    return payloads
