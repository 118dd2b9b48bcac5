"""E-mail channel: a multipart (plain text + HTML) message over SMTP, plain, STARTTLS or SSL.

TLS uses :func:`ssl.create_default_context` (system CAs; ``SSL_CERT_FILE`` points elsewhere). The
password is read from its ``SecretStr`` at send time only and never logged.
"""

import smtplib
import ssl
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from driftscope.alerting.config import EmailChannel
from driftscope.alerting.notify.messages import html_body, subject, text_body
from driftscope.alerting.notify.outcome import SendResult
from driftscope.alerting.notify.signing import EVENT_HEADER


def build_email(channel: EmailChannel, document: dict[str, Any]) -> EmailMessage:
    """The message for an outgoing document: subject, plain-text and HTML alternatives, event headers."""
    message = EmailMessage()
    message["Subject"] = subject(document)
    message["From"] = channel.from_
    message["To"] = ", ".join(channel.to)
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain="driftscope")
    message[EVENT_HEADER] = document["type"]
    message["X-Driftscope-Event-Id"] = document["id"]
    message.set_content(text_body(document))
    message.add_alternative(html_body(document), subtype="html")
    return message


def send_email(channel: EmailChannel, message: EmailMessage) -> SendResult:
    """Send ``message`` through the channel's SMTP server; failures come back as a result, not raised."""
    timeout = channel.timeout.total_seconds()
    context = ssl.create_default_context()
    try:
        if channel.ssl:
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                channel.smtp_host, channel.smtp_port, timeout=timeout, context=context
            )
        else:
            client = smtplib.SMTP(channel.smtp_host, channel.smtp_port, timeout=timeout)
        with client:
            if channel.starttls:
                client.starttls(context=context)
            if channel.smtp_user:
                password = channel.smtp_password.get_secret_value() if channel.smtp_password else ""
                client.login(channel.smtp_user, password)
            refused = client.send_message(message)
    except smtplib.SMTPResponseException as exc:
        return SendResult(False, exc.smtp_code, f"SMTP {exc.smtp_code}: {_text(exc.smtp_error)}")
    except smtplib.SMTPRecipientsRefused as exc:
        return SendResult(False, None, f"every recipient was refused: {sorted(exc.recipients)}")
    except (smtplib.SMTPException, OSError) as exc:
        where = f"{channel.smtp_host}:{channel.smtp_port}"
        return SendResult(False, None, f"{type(exc).__name__} talking to {where}: {exc}")
    if refused:
        return SendResult(True, 250, f"some recipients were refused: {sorted(refused)}")
    return SendResult(True, 250)


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)
