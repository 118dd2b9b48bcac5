"""HMAC-SHA256 signatures of webhook bodies, so receivers can reject forgeries and replays.

The signed message is ``f"{timestamp}.".encode() + body``: the Unix time in whole seconds from the
``X-Driftscope-Timestamp`` header, a dot, then the exact request body bytes. The signature header is
``X-Driftscope-Signature: sha256=<lowercase hex>``. Receivers recompute it with the shared secret,
compare in constant time, and refuse timestamps older than a tolerance (5 minutes by default).
"""

import hashlib
import hmac
import re
import time

SIGNATURE_HEADER = "X-Driftscope-Signature"
TIMESTAMP_HEADER = "X-Driftscope-Timestamp"
EVENT_HEADER = "X-Driftscope-Event"
IDEMPOTENCY_HEADER = "Idempotency-Key"
DEFAULT_TOLERANCE_S = 300.0
_TIMESTAMP = re.compile(r"[0-9]{1,12}")  # ASCII only: str.isdigit() and int() also take "²" or "١"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header value for ``body`` sent at ``timestamp`` (Unix seconds).

    Examples
    --------
    >>> sign("s3cret", 1767225600, b'{"a":1}')
    'sha256=7d4120fcebf444efab10ba7cd6c651bf463cefb039db5fad37ff9f7231ac8a4a'
    """
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(
    secret: str,
    *,
    timestamp: str,
    body: bytes,
    signature: str,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
    now: float | None = None,
) -> bool:
    """True when ``signature`` matches and ``timestamp`` is within ``tolerance_s`` seconds of ``now``.

    Examples
    --------
    >>> sig = sign("k", 1000, b"{}")
    >>> verify("k", timestamp="1000", body=b"{}", signature=sig, now=1010)
    True
    >>> verify("k", timestamp="1000", body=b"{}", signature=sig, now=2000)  # a replay, too old
    False
    >>> verify("other", timestamp="1000", body=b"{}", signature=sig, now=1010)  # forged
    False
    >>> verify("k", timestamp="1\N{SUPERSCRIPT TWO}", body=b"{}", signature=sig, now=1010)  # not ASCII digits
    False
    """
    if not _TIMESTAMP.fullmatch(timestamp):
        return False
    sent = int(timestamp)
    current = time.time() if now is None else now
    if abs(current - sent) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, sent, body), signature)


def webhook_headers(
    *, secret: str | None, body: bytes, event_type: str, event_id: str, timestamp: int
) -> dict[str, str]:
    """The headers of a webhook request; the signature only when the channel has a secret."""
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "driftscope-webhook/1",
        TIMESTAMP_HEADER: str(timestamp),
        EVENT_HEADER: event_type,
        IDEMPOTENCY_HEADER: event_id,
    }
    if secret:
        headers[SIGNATURE_HEADER] = sign(secret, timestamp, body)
    return headers
