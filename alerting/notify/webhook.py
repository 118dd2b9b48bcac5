"""Webhook channel: one signed JSON POST per attempt, with a timeout; retries belong to the dispatcher.

``format: json`` posts the outgoing event document itself; ``format: slack`` posts the Slack form
(:mod:`driftscope.alerting.notify.slack`). Either way the request carries ``X-Driftscope-Timestamp``,
``X-Driftscope-Event``, ``Idempotency-Key`` and, when the channel has a secret,
``X-Driftscope-Signature`` (:mod:`driftscope.alerting.notify.signing`). 2xx is success; redirects are not
followed. Error texts never contain the URL's path or query (Slack puts its secret there).
"""

import time
from typing import Any
from urllib.parse import urlsplit

import requests

from driftscope.alerting.config import WebhookChannel
from driftscope.alerting.notify.messages import json_body
from driftscope.alerting.notify.outcome import SendResult
from driftscope.alerting.notify.signing import webhook_headers
from driftscope.alerting.notify.slack import slack_message

MAX_RESPONSE_CHARS = 2000


def render(channel: WebhookChannel, document: dict[str, Any]) -> bytes:
    """The request body for an outgoing document in the channel's format."""
    return json_body(slack_message(document) if channel.format == "slack" else document)


def post_webhook(channel: WebhookChannel, document: dict[str, Any], *, timestamp: int | None = None) -> SendResult:
    """POST the document to the channel's URL; failures come back as a result, not raised."""
    body = render(channel, document)
    secret = channel.secret.get_secret_value() if channel.secret else None
    headers = webhook_headers(
        secret=secret, body=body, event_type=document["type"], event_id=document["id"],
        timestamp=int(time.time()) if timestamp is None else timestamp,
    )
    try:
        response = requests.post(
            channel.url, data=body, headers=headers, timeout=channel.timeout.total_seconds(), allow_redirects=False
        )
    except requests.RequestException as exc:
        return SendResult(False, None, _scrub(f"{type(exc).__name__}: {exc}", channel.url))
    text = response.text[:MAX_RESPONSE_CHARS]
    if 200 <= response.status_code < 300:
        return SendResult(True, response.status_code, None, text)
    return SendResult(False, response.status_code, f"HTTP {response.status_code} {response.reason}", text)


def _scrub(message: str, url: str) -> str:
    """``message`` without the URL's path and query (they may hold a token).

    Examples
    --------
    >>> _scrub("failed: /services/T1/B2/XYZ?k=1 down", "https://hooks.example/services/T1/B2/XYZ?k=1")
    'failed: /... down'
    """
    parts = urlsplit(url)
    for secret, mask in ((f"{parts.path}?{parts.query}", "/..."), (parts.path, "/..."), (parts.query, "...")):
        if len(secret) > 1 and not secret.endswith("?"):
            message = message.replace(secret, mask)
    return message
