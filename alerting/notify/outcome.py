"""The outcome of one attempt to send a message, whatever the channel kind."""

from dataclasses import dataclass


@dataclass(frozen=True)
class SendResult:
    """One attempt: ``ok``, the status code (HTTP status or SMTP reply code), an error, the response text."""

    ok: bool
    status_code: int | None = None
    error: str | None = None
    response: str | None = None
