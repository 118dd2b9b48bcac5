"""Deliver due notifications: claim a batch, send each channel's share in its own thread, record every attempt.

A failed attempt is retried on a later pass after an exponential backoff with jitter
(:class:`Backoff`), until the channel's ``max_attempts`` (a channel no longer configured: :data:`DEFAULT_MAX_ATTEMPTS`);
then the notification is ``failed`` and stays listed. Channels run in parallel, so a slow or dead
channel delays only its own messages, and nothing a channel does can raise out of here: every
outcome, including a missing channel or a rendering bug, is recorded as an attempt. A retraining
request follows its event: ``sent`` when delivered, ``failed`` when given up.
"""

import logging
import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from driftscope.alerting.config import AlertSettings, EmailChannel
from driftscope.alerting.notify.email import build_email, send_email
from driftscope.alerting.notify.messages import outgoing
from driftscope.alerting.notify.outcome import SendResult
from driftscope.alerting.notify.webhook import post_webhook
from driftscope.errors import NotFoundError
from driftscope.redact import remember, secrets_in
from driftscope.storage.db import transaction
from driftscope.storage.notifications import NotificationInfo, claim_due, record_attempt, release
from driftscope.storage.retraining import record_delivery

log = logging.getLogger(__name__)

DEFAULT_MAX_ATTEMPTS = 8
BATCH_SIZE = 10
MAX_PARALLEL_CHANNELS = 4
CLAIM_MARGIN = timedelta(seconds=60)


@dataclass(frozen=True)
class Backoff:
    """Retry delays: ``min(cap, base * factor**(attempt - 1))``, shortened at random by up to ``jitter`` of it.

    Examples
    --------
    >>> b = Backoff(base=timedelta(seconds=30), jitter=0.0)
    >>> [b.delay(n).total_seconds() for n in (1, 2, 3, 10)]
    [30.0, 60.0, 120.0, 3600.0]
    """

    base: timedelta = timedelta(seconds=30)
    factor: float = 2.0
    cap: timedelta = timedelta(hours=1)
    jitter: float = 0.2

    def delay(self, attempt: int, rng: random.Random | None = None) -> timedelta:
        """The wait after the ``attempt``-th failed attempt (1-based)."""
        raw = self.base.total_seconds() * self.factor ** max(attempt - 1, 0)
        capped = min(raw, self.cap.total_seconds())
        return timedelta(seconds=capped * (1.0 - self.jitter * (rng or random).random()))


DEFAULT_BACKOFF = Backoff()


@dataclass(frozen=True)
class Delivery:
    """One attempt as made: ``status`` is the notification's status afterwards; ``duration_ms`` in ms."""

    notification_id: int
    channel: str
    event: str
    attempt: int
    ok: bool
    status: str
    status_code: int | None
    error: str | None
    duration_ms: float


def deliver_due(
    engine: Engine,
    config: AlertSettings,
    *,
    now: datetime | None = None,
    backoff: Backoff = DEFAULT_BACKOFF,
    limit: int = 100,
    should_stop: Callable[[], bool] | None = None,
) -> list[Delivery]:
    """Send up to ``limit`` due notifications; return the attempts made.

    ``now`` fixes the clock for due times and retry times (tests); by default the wall clock.
    ``should_stop`` is polled between messages: when it turns True, unsent claims are released.
    """
    stopping = should_stop or (lambda: False)
    remember(secrets_in(config))  # servers echo passwords and tokens: keep them out of the store and logs
    deliveries: list[Delivery] = []
    while len(deliveries) < limit and not stopping():
        with transaction(engine) as session:
            batch = claim_due(
                session, now=now or datetime.now(UTC), claim_for=claim_period(config),
                limit=min(BATCH_SIZE, limit - len(deliveries)),
            )
        if not batch:
            break
        deliveries += _deliver_batch(engine, config, batch, backoff=backoff, now=now, stopping=stopping)
    return deliveries


def claim_period(config: AlertSettings) -> timedelta:
    """How long a claimed batch is reserved: a full batch timing out on the slowest channel, plus a margin."""
    slowest = max((c.timeout for c in config.channels), default=timedelta(seconds=10))
    return CLAIM_MARGIN + slowest * BATCH_SIZE


def _deliver_batch(
    engine: Engine,
    config: AlertSettings,
    batch: list[NotificationInfo],
    *,
    backoff: Backoff,
    now: datetime | None,
    stopping: Callable[[], bool],
) -> list[Delivery]:
    by_channel: dict[str, list[NotificationInfo]] = {}
    for item in batch:
        by_channel.setdefault(item.channel, []).append(item)

    def run_channel(items: list[NotificationInfo]) -> list[Delivery]:
        done = []
        for i, item in enumerate(items):
            if stopping():
                with transaction(engine) as session:
                    release(session, notification_ids=[n.id for n in items[i:]], now=now or datetime.now(UTC))
                break
            done.append(_deliver_one(engine, config, item, backoff=backoff, now=now))
        return done

    workers = min(MAX_PARALLEL_CHANNELS, len(by_channel))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="driftscope-notify") as pool:
        futures = [pool.submit(run_channel, items) for items in by_channel.values()]
    return [d for f in futures for d in f.result()]


def _deliver_one(
    engine: Engine, config: AlertSettings, item: NotificationInfo, *, backoff: Backoff, now: datetime | None
) -> Delivery:
    started = time.perf_counter()
    result = send(config, item)
    duration_ms = (time.perf_counter() - started) * 1000.0
    attempt = item.attempts + 1
    at = now or datetime.now(UTC)
    give_up = result.ok or attempt >= max_attempts(config, item.channel)
    with transaction(engine) as session:
        status = record_attempt(
            session, notification_id=item.id, ok=result.ok, duration_ms=duration_ms, status_code=result.status_code,
            error=result.error, response=result.response, retry_at=None if give_up else at + backoff.delay(attempt),
            now=at,
        )
        if item.retraining_request_id is not None and status != "pending":
            record_delivery(session, request_id=item.retraining_request_id, delivered=status == "delivered")
    event = str(item.payload.get("type"))
    if result.ok:
        log.info("delivered %s %s to %s (attempt %d, %.0f ms)", event, item.payload.get("id"), item.channel,
                 attempt, duration_ms)
    else:
        log.warning("could not deliver %s %s to %s (attempt %d, now %s): %s", event, item.payload.get("id"),
                    item.channel, attempt, status, result.error)
    return Delivery(item.id, item.channel, event, attempt, result.ok, status, result.status_code, result.error,
                    duration_ms)


def send(config: AlertSettings, item: NotificationInfo) -> SendResult:
    """Render and send one notification through its channel; every failure becomes a result."""
    try:
        channel = config.channel(item.channel)
    except NotFoundError as exc:
        return SendResult(False, None, f"{exc}; add the channel to the config or the message cannot be sent")
    try:
        document = outgoing(item.payload, sent_at=datetime.now(UTC), dashboard_url=config.dashboard_url)
        if isinstance(channel, EmailChannel):
            return send_email(channel, build_email(channel, document))
        return post_webhook(channel, document)
    except Exception as exc:  # a rendering bug must not stop the other messages
        log.exception("notification %s to %s could not be rendered", item.id, item.channel)
        return SendResult(False, None, f"internal error preparing the message: {type(exc).__name__}: {exc}")


def max_attempts(config: AlertSettings, channel: str) -> int:
    """Attempts allowed for ``channel`` (its ``max_attempts``; a channel no longer configured: the default)."""
    try:
        return config.channel(channel).max_attempts
    except NotFoundError:
        return DEFAULT_MAX_ATTEMPTS
