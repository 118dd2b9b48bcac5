"""Long-running collection of stream sources (``driftscope collect --follow``) and offset resets.

Each followed source runs in its own thread as a sequence of collector runs of ``segment_s``
seconds, so the Runs page and the lag rule see it progress; a set ``stop`` event (SIGTERM) ends
every source between two batches, each batch committed whole or not at all.
"""

import logging
import threading
from typing import Literal

from sqlalchemy import Engine

from driftscope.collectors.base import SourceSummary
from driftscope.collectors.config import CollectorSettings, SourceConfig
from driftscope.collectors.kafka import partition_bounds
from driftscope.collectors.run import run_source
from driftscope.errors import ConfigError
from driftscope.storage.db import transaction
from driftscope.storage.stream_offsets import reset_offsets

log = logging.getLogger(__name__)
SEGMENT_S = 60.0
RETRY_S = 5.0


def follow(engine: Engine, config: CollectorSettings, *, stop: threading.Event, sources: list[str] | None = None,
           segment_s: float = SEGMENT_S) -> list[SourceSummary]:
    """Collect the selected stream sources (default: every kafka source) until ``stop`` is set.

    Returns the summary of each source's last run. A failing run is retried after ``RETRY_S``.

    Raises
    ------
    ConfigError
        A selected source is not a stream source, or none is configured.
    """
    selected = ([s for s in config.sources if s.kind == "kafka"] if sources is None
                else [config.source(name) for name in sources])
    batch_kinds = [f"{s.name} ({s.kind})" for s in selected if s.kind != "kafka"]
    if batch_kinds or not selected:
        raise ConfigError(f"--follow reads kafka sources; {', '.join(batch_kinds) or 'no kafka source is configured'}"
                          " — collect the others with `driftscope collect` or the scheduler")
    last: dict[str, SourceSummary] = {}

    def loop(spec: SourceConfig) -> None:
        while not stop.is_set():
            summary = run_source(engine, spec, follow_s=segment_s, stop=stop)
            last[spec.name] = summary
            if summary.status != "succeeded":
                log.error("source %s: %s; retrying in %.0f s", spec.name, summary.error, RETRY_S)
                stop.wait(RETRY_S)

    threads = [threading.Thread(target=loop, args=(spec,), name=f"follow-{spec.name}") for spec in selected]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [last[s.name] for s in selected if s.name in last]


def reset_stream(engine: Engine, spec: SourceConfig, to: Literal["earliest", "latest"]) -> dict[int, int]:
    """Set every partition's stored offset to the broker's earliest or end offset; return partition -> offset.

    The operator's answer to an out-of-range report: ``earliest`` re-reads what the topic holds
    (rows already stored count as duplicates), ``latest`` skips to new messages.
    """
    if spec.kind != "kafka" or spec.topic is None:
        raise ConfigError(f"source {spec.name!r} is a {spec.kind} source; --reset-offsets applies to kafka sources")
    offsets = {p: (low if to == "earliest" else high) for p, (low, high) in partition_bounds(spec).items()}
    with transaction(engine) as session:
        reset_offsets(session, source=spec.name, topic=spec.topic, offsets=offsets)
    return offsets
