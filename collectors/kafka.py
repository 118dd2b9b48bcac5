"""The kafka source: JSON messages of one topic in micro-batches, offsets committed with the rows.

Offsets live in the store, not in a consumer group: each batch's checkpoint names, per partition,
the offset it started from and the next offset after it, and :mod:`driftscope.collectors.ingest`
compares-and-sets them in the transaction that stores the batch's rows and quarantined rows (the
idempotent-sink pattern of Kafka Connect's JDBC sink). On start every partition is ``assign``-ed at
its stored offset; a partition never seen is read from its earliest offset, so partitions added
to the topic are picked up. A stored offset outside the partition's range (the topic was recreated,
or retention deleted messages never collected) is reported as a failure of that partition and the
partition is not read until an operator resets it; nothing is skipped silently.

A run (a schedule tick) drains each partition up to the end offset it found at the start, at most
``batch.max_per_run`` messages; ``follow`` keeps reading until ``stop`` is set, between batches.
"""

import io
import json
import logging
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.json as pajson

from driftscope.collectors.base import Batch, OffsetCheckpoint, Rejected, SourceFailure, SourceState
from driftscope.collectors.config import SourceConfig
from driftscope.errors import SourceError
from driftscope.extras import require
from driftscope.storage.stream_offsets import PartitionLag

log = logging.getLogger(__name__)
TIMEOUT_S = 10.0
PROBE_S = 5.0
_CONSUME_MAX = 10_000
JSON_BLOCK_BYTES = 64 * 1024
"""Arrow's JSON reader block: 64 KiB blocks parse 1.5-2.5x faster than one block of the whole batch."""


def consumer_config(spec: SourceConfig) -> dict[str, Any]:
    """librdkafka settings: no group offsets (the store keeps them), fail on out-of-range offsets, security.

    Examples
    --------
    >>> spec = SourceConfig(name="s", kind="kafka", model="m", records="ground_truth",
    ...                     bootstrap_servers="127.0.0.1:9092", topic="t")
    >>> conf = consumer_config(spec)
    >>> conf["enable.auto.commit"], conf["auto.offset.reset"], conf["security.protocol"]
    (False, 'error', 'plaintext')
    """
    security = spec.security
    conf: dict[str, Any] = {
        "bootstrap.servers": spec.bootstrap_servers, "group.id": f"driftscope-{spec.name}",
        "enable.auto.commit": False, "enable.auto.offset.store": False, "auto.offset.reset": "error",
        "enable.partition.eof": True, "security.protocol": security.protocol,
        # large fetches, answered at once: a micro-batch of 50 000 messages should not wait on round trips
        "fetch.max.bytes": 100 * 2**20, "max.partition.fetch.bytes": 16 * 2**20, "fetch.wait.max.ms": 10,
    }
    optional = {"sasl.mechanism": security.sasl_mechanism, "sasl.username": security.username,
                "sasl.password": security.password, "ssl.ca.location": security.ca_location,
                "ssl.certificate.location": security.certificate_location,
                "ssl.key.location": security.key_location, "ssl.key.password": security.key_password}
    for key, value in optional.items():
        if value is not None:
            conf[key] = value if isinstance(value, str) else value.get_secret_value()
    return conf


class KafkaSource:
    """Micro-batches of one topic past the stored offsets; see the module docstring."""

    def __init__(self, spec: SourceConfig, *, follow_s: float | None = None,
                 stop: threading.Event | None = None) -> None:
        self.name = spec.name
        self.spec = spec
        self.topic = str(spec.topic)
        self.follow = follow_s is not None
        self.until = time.monotonic() + (follow_s or 0.0)
        self.stop = stop or threading.Event()
        self.kafka = require("confluent_kafka", "kafka")
        self.end_offsets: dict[int, int] = {}

    def batches(self, state: SourceState) -> Iterator[Batch | SourceFailure]:
        """Yield batches past ``state.offsets``, after the failures of partitions whose offsets are out of range."""
        consumer = self.kafka.Consumer(consumer_config(self.spec))
        self.end_offsets = {}
        try:
            starts, failures = self._plan(consumer, state.offsets)
            yield from failures
            if starts:
                consumer.assign([self.kafka.TopicPartition(self.topic, p, o) for p, o in starts.items()])
                yield from self._read(consumer, starts, {p: state.offsets.get(p) for p in starts})
        finally:
            self._note_ends(consumer)
            consumer.close()

    def _plan(self, consumer: Any, stored: dict[int, int]) -> tuple[dict[int, int], list[SourceFailure]]:
        """Start offset of each readable partition, and the partitions whose stored offset is out of range."""
        starts, failures = {}, []
        for partition in self._partitions(consumer):
            low, high = self._bounds(consumer, partition)
            offset = stored.get(partition, low)
            if offset < low or (offset > high and not self._offset_exists(consumer, partition, offset - 1)):
                failures.append(out_of_range(self.name, self.topic, partition, offset, low, high))
                continue
            starts[partition] = offset
        return starts, failures

    def _bounds(self, consumer: Any, partition: int) -> tuple[int, int]:
        low, high = consumer.get_watermark_offsets(self.kafka.TopicPartition(self.topic, partition),
                                                   timeout=TIMEOUT_S, cached=False)
        self.end_offsets[partition] = max(self.end_offsets.get(partition, 0), high)
        return int(low), int(high)

    def _offset_exists(self, consumer: Any, partition: int, offset: int) -> bool:
        """Whether the partition holds a message at ``offset`` (brokers whose end offsets lag their fetches)."""
        consumer.assign([self.kafka.TopicPartition(self.topic, partition, offset)])
        try:
            deadline = time.monotonic() + PROBE_S
            while time.monotonic() < deadline:
                for message in consumer.consume(num_messages=1, timeout=0.5):
                    return message.error() is None and message.offset() == offset
            return False
        finally:
            consumer.unassign()

    def _note_ends(self, consumer: Any) -> None:
        """Remember each partition's end offset as the fetches saw it, for :meth:`lag`."""
        for partition in list(self.end_offsets):
            try:
                _, high = consumer.get_watermark_offsets(self.kafka.TopicPartition(self.topic, partition), cached=True)
            except self.kafka.KafkaException:
                continue
            if high is not None and high >= 0:
                self.end_offsets[partition] = max(self.end_offsets[partition], int(high))

    def _partitions(self, consumer: Any) -> list[int]:
        try:
            metadata = consumer.list_topics(self.topic, timeout=TIMEOUT_S)
        except self.kafka.KafkaException as exc:
            raise SourceError(f"source {self.name!r}: cannot reach the brokers {self.spec.bootstrap_servers}: "
                              f"{exc}; check bootstrap_servers and the network") from exc
        topic = metadata.topics.get(self.topic)
        if topic is None or topic.error is not None or not topic.partitions:
            reason = "it does not exist" if topic is None or topic.error is None else str(topic.error)
            raise SourceError(f"source {self.name!r}: topic {self.topic!r} on {self.spec.bootstrap_servers} "
                              f"cannot be read: {reason}; check the topic name")
        return sorted(topic.partitions)

    def _read(self, consumer: Any, starts: dict[int, int], expected: dict[int, int | None]) -> Iterator[Batch]:
        """Batches until every partition reported its end (or, following, until stopped or due)."""
        done: set[int] = set()
        taken = 0
        while not self.stop.is_set() and taken < self.spec.batch.max_per_run:
            if (self.follow and time.monotonic() >= self.until) or (not self.follow and done >= starts.keys()):
                return
            limit = min(self.spec.batch.max_rows, self.spec.batch.max_per_run - taken)
            messages = self._collect(consumer, limit, done, set(starts))
            if not messages:
                continue
            batch = message_batch(self.topic, messages, expected)
            expected.update(batch.checkpoint.offsets)  # type: ignore[union-attr]
            taken += len(messages)
            yield batch

    def _collect(self, consumer: Any, limit: int, done: set[int], assigned: set[int]) -> list[Any]:
        """Up to ``limit`` messages (confluent-kafka's) within ``batch.max_wait``; ended partitions join ``done``.

        The hot loop of the source: an answer of ``consume`` without errors is taken whole; only one
        holding an error or an end-of-partition event is walked message by message.
        """
        messages: list[Any] = []
        deadline = time.monotonic() + self.spec.batch.max_wait.total_seconds()
        while len(messages) < limit and not self.stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0 or (not self.follow and done >= assigned):
                break
            answer = consumer.consume(num_messages=min(limit - len(messages), _CONSUME_MAX),
                                      timeout=min(remaining, 1.0))
            if not answer:
                continue
            if not [m for m in answer if m.error() is not None]:  # (KafkaError == None raises: use `is`)
                messages += answer
                continue
            for message in answer:
                if (error := message.error()) is None:
                    messages.append(message)
                elif error.code() == self.kafka.KafkaError._PARTITION_EOF:
                    done.add(message.partition())
                else:
                    raise SourceError(
                        f"source {self.name!r}: topic {self.topic} partition {message.partition()}: {error.str()}; "
                        "if the offset is out of range the topic was recreated or truncated: `driftscope collect "
                        f"--source {self.name} --reset-offsets earliest|latest` decides where to resume")
        return messages

    def lag(self, committed: dict[int, tuple[int, datetime | None]]) -> list[PartitionLag]:
        """Each partition's lag behind the end offsets seen by the last :meth:`batches`; seconds are a bound."""
        now, lags = datetime.now(UTC), []
        for partition, end in sorted(self.end_offsets.items()):
            offset, last_ts = committed.get(partition, (0, None))
            behind = max(0, end - offset)
            lags.append(PartitionLag(self.topic, partition, offset, max(end, offset), behind,
                                     lag_seconds(behind, last_ts, now)))
        return lags


def lag_seconds(behind: int, last_ts: datetime | None, now: datetime) -> float:
    """Time lag bound: 0 when caught up, else the age of the last message taken (the oldest untaken is younger).

    Examples
    --------
    >>> now = datetime(2026, 1, 1, 0, 10, tzinfo=UTC)
    >>> lag_seconds(0, None, now), lag_seconds(5, datetime(2026, 1, 1, tzinfo=UTC), now)
    (0.0, 600.0)
    """
    if behind == 0:
        return 0.0
    return float("inf") if last_ts is None else max(0.0, (now - last_ts).total_seconds())


def out_of_range(source: str, topic: str, partition: int, offset: int, low: int, high: int) -> SourceFailure:
    """The failure of a partition whose stored offset is outside the broker's range ``[low, high]``."""
    return SourceFailure(
        where=f"topic {topic} partition {partition}",
        error=(f"topic {topic} partition {partition}: the stored offset {offset} is outside the partition's "
               f"range [{low}, {high}]: the topic was recreated, or messages were deleted before they were "
               f"collected. The partition was not read and nothing was skipped; decide where to resume with "
               f"`driftscope collect --source {source} --reset-offsets earliest` (or latest)"),
    )


def message_batch(topic: str, messages: list[Any], expected: dict[int, int | None]) -> Batch:
    """A batch of messages: their JSON objects as rows, the ones that are not objects rejected, the offsets.

    ``messages`` are confluent-kafka messages without errors; their fields are read with C-level
    ``map`` over the message type's methods, and broker timestamps only for each partition's last.
    """
    kind = type(messages[0])
    partitions = np.fromiter(map(kind.partition, messages), dtype=np.int64, count=len(messages))
    offsets = np.fromiter(map(kind.offset, messages), dtype=np.int64, count=len(messages))
    values = [v or b"" for v in map(kind.value, messages)]
    frame, kept, rejected_at, reasons = parse_values(values)

    def where(positions: np.ndarray | list[int]) -> list[str]:
        return [f"topic {topic} partition {p} offset {o}"
                for p, o in zip(partitions[positions].tolist(), offsets[positions].tolist(), strict=True)]

    rejected = Rejected(where(rejected_at), reasons, [values[i].decode("utf-8", errors="replace") for i in rejected_at])
    last = {int(p): len(partitions) - 1 - int(np.argmax(partitions[::-1] == p)) for p in np.unique(partitions)}
    stamps = {p: messages[i].timestamp()[1] for p, i in last.items()}
    checkpoint = OffsetCheckpoint(
        topic, {p: expected.get(p) for p in last}, {p: int(offsets[i]) + 1 for p, i in last.items()},
        {p: datetime.fromtimestamp(stamps[p] / 1000, UTC) if stamps[p] > 0 else None for p in last})

    def locate(positions: np.ndarray) -> list[str]:
        return where(kept[positions])

    def payloads(positions: np.ndarray) -> list[str]:
        return [values[i].decode("utf-8", errors="replace") for i in kept[positions].tolist()]

    return Batch(frame, f"topic {topic}", locate, payloads, checkpoint, rejected)


def parse_values(values: list[bytes]) -> tuple[pd.DataFrame, np.ndarray, list[int], list[str]]:
    """JSON objects -> (frame, message position of each row, positions rejected, their reasons).

    One Arrow parse of all values joined as JSON Lines (in :data:`JSON_BLOCK_BYTES` blocks) when
    they are single-line JSON objects; otherwise one ``json.loads`` per message, so one bad message
    costs its batch the slow path only.

    Examples
    --------
    >>> frame, kept, bad, why = parse_values([b'{"a": 1}', b'not json', b'[1]', b'{"a": 2}'])
    >>> frame["a"].tolist(), kept.tolist(), bad, [w.split(":")[0] for w in why]
    ([1, 2], [0, 3], [1, 2], ['not valid JSON', 'a JSON list where an object was expected'])
    """
    body = b"\n".join(values)
    if values and body.count(b"\n") == len(values) - 1:
        block = min(max(JSON_BLOCK_BYTES, 2 * max(map(len, values)) + 2), len(body) + 1, 2**31 - 1)
        try:
            table = pajson.read_json(io.BytesIO(body), read_options=pajson.ReadOptions(
                use_threads=False, block_size=block))
            if table.num_rows == len(values):
                return table.to_pandas(), np.arange(len(values)), [], []
        except pa.ArrowInvalid:
            pass
    objects, kept, bad, reasons = [], [], [], []
    for position, value in enumerate(values):
        try:
            parsed = json.loads(value)
        except ValueError as exc:
            bad.append(position)
            reasons.append(f"not valid JSON: {getattr(exc, 'msg', exc)} at column {getattr(exc, 'colno', '?')}")
            continue
        if isinstance(parsed, dict):
            objects.append(parsed)
            kept.append(position)
        else:
            bad.append(position)
            reasons.append(f"a JSON {type(parsed).__name__} where an object was expected")
    return pd.DataFrame.from_records(objects), np.asarray(kept, dtype=np.int64), bad, reasons


def partition_bounds(spec: SourceConfig) -> dict[int, tuple[int, int]]:
    """Each partition's (earliest, end) offsets on the broker now."""
    source = KafkaSource(spec)
    consumer = source.kafka.Consumer(consumer_config(spec))
    try:
        return {p: source._bounds(consumer, p) for p in source._partitions(consumer)}
    finally:
        consumer.close()
