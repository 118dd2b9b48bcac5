"""Stream sources' committed offsets and the lag recorded with each collector run.

Offsets are advanced by compare-and-set in the transaction that stores the messages' rows and
quarantined rows: the caller names the offsets it started from, and a partition moved meanwhile by
another process raises :class:`~driftscope.storage.collector_state.ConcurrentCollectError`, so
the store holds each message exactly once however often a collector is killed and restarted.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from driftscope.storage.collector_state import ConcurrentCollectError
from driftscope.storage.models import CollectorRun, StreamLag, StreamOffset

LAG_COLUMNS = ("run_id", "source", "topic", "partition", "next_offset", "end_offset", "lag_messages",
               "lag_seconds", "recorded_at")


@dataclass(frozen=True)
class PartitionLag:
    """How far one partition is behind: ``lag_messages = end_offset - next_offset``; seconds at most."""

    topic: str
    partition: int
    next_offset: int
    end_offset: int
    lag_messages: int
    lag_seconds: float


def stream_offsets(session: Session, *, source: str, topic: str) -> dict[int, tuple[int, datetime | None]]:
    """Partition -> (next offset, timestamp of the last message taken) committed for ``source`` on ``topic``."""
    rows = session.execute(
        select(StreamOffset.partition, StreamOffset.next_offset, StreamOffset.last_ts)
        .where(StreamOffset.source == source, StreamOffset.topic == topic)
    ).all()
    return {int(p): (int(o), ts) for p, o, ts in rows}


def advance_offsets(
    session: Session, *, source: str, topic: str, expected: Mapping[int, int | None],
    offsets: Mapping[int, int], last_ts: Mapping[int, datetime | None],
) -> None:
    """Move each partition's next offset from ``expected`` (None: never read) to ``offsets``. Flushes.

    Raises
    ------
    ConcurrentCollectError
        A stored offset is not the expected one: another collector read the same partition meanwhile.
    """
    for partition, offset in offsets.items():
        row = session.execute(
            select(StreamOffset).where(StreamOffset.source == source, StreamOffset.topic == topic,
                                       StreamOffset.partition == partition).with_for_update()
        ).scalar_one_or_none()
        current = None if row is None else row.next_offset
        if current != expected.get(partition):
            raise ConcurrentCollectError(
                f"source {source!r}: topic {topic} partition {partition} was at offset {current}, not "
                f"{expected.get(partition)}, when this batch was committed; another collector is reading the "
                "same source. Run one collector per source (the scheduler or `driftscope collect`, not both)")
        if row is None:
            session.add(StreamOffset(source=source, topic=topic, partition=partition, next_offset=offset,
                                     last_ts=last_ts.get(partition)))
        else:
            row.next_offset, row.updated_at = offset, func.current_timestamp()
            if last_ts.get(partition) is not None:
                row.last_ts = last_ts[partition]
    session.flush()


def reset_offsets(session: Session, *, source: str, topic: str, offsets: Mapping[int, int]) -> None:
    """Set partitions' next offsets outright (an operator's decision after a topic was recreated). Flushes."""
    session.execute(delete(StreamOffset).where(StreamOffset.source == source, StreamOffset.topic == topic,
                                               StreamOffset.partition.in_(list(offsets))))
    session.add_all([StreamOffset(source=source, topic=topic, partition=p, next_offset=o)
                     for p, o in offsets.items()])
    session.flush()


def record_lag(session: Session, *, run_id: int, source: str, lags: Sequence[PartitionLag]) -> None:
    """Store the lag of each partition at the end of collector run ``run_id``. Flushes."""
    session.add_all([StreamLag(run_id=run_id, source=source, topic=lag.topic, partition=lag.partition,
                               next_offset=lag.next_offset, end_offset=lag.end_offset,
                               lag_messages=lag.lag_messages, lag_seconds=lag.lag_seconds) for lag in lags])
    session.flush()


def latest_lag(session: Session, *, source: str | None = None) -> pd.DataFrame:
    """Each source's per-partition lag from its newest run that recorded one (columns :data:`LAG_COLUMNS`)."""
    newest = select(StreamLag.source, func.max(StreamLag.run_id).label("run_id")).group_by(StreamLag.source)
    if source is not None:
        newest = newest.where(StreamLag.source == source)
    last = newest.subquery()
    rows = session.execute(
        select(*(getattr(StreamLag, c) for c in LAG_COLUMNS))
        .join(last, (last.c.source == StreamLag.source) & (last.c.run_id == StreamLag.run_id))
        .order_by(StreamLag.source, StreamLag.topic, StreamLag.partition)
    ).all()
    return pd.DataFrame(rows, columns=list(LAG_COLUMNS))


def lag_since(session: Session, *, since: datetime) -> pd.DataFrame:
    """Lag rows of collector runs started since ``since``, newest first (columns :data:`LAG_COLUMNS`)."""
    rows = session.execute(
        select(*(getattr(StreamLag, c) for c in LAG_COLUMNS))
        .join(CollectorRun, CollectorRun.id == StreamLag.run_id)
        .where(CollectorRun.started_at >= since)
        .order_by(StreamLag.run_id.desc(), StreamLag.partition)
    ).all()
    return pd.DataFrame(rows, columns=list(LAG_COLUMNS))
