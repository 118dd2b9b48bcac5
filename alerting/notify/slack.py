"""The Slack-compatible form of an event, for webhook channels with ``format: slack``.

Slack incoming webhooks take ``{"text": ..., "blocks": [...]}``; ``text`` is the fallback shown
in notifications, ``blocks`` the message (Block Kit: a header, the key numbers as fields, the
drifted features, a link to the dashboard).
"""

from typing import Any

from driftscope.alerting.notify.messages import drift_table, key_numbers, subject

MAX_FIELDS = 10
MAX_TEXT = 2900
_EMOJI = {"critical": ":red_circle:", "warning": ":large_orange_circle:", "info": ":large_blue_circle:"}


def slack_message(document: dict[str, Any]) -> dict[str, Any]:
    """Slack message for an outgoing document (see :func:`driftscope.alerting.notify.messages.outgoing`).

    Examples
    --------
    >>> doc = {"type": "retraining.requested", "id": "e1", "idempotency_key": "e1", "links": {"dashboard": None},
    ...        "request": {"model": "m", "version": "1", "trigger": "manual", "requested_by": "ana", "reason": "drift"}}
    >>> slack_message(doc)["text"]
    '[RETRAIN] m 1: retraining requested - drift'
    """
    title = subject(document)
    severity = (document.get("alert") or {}).get("severity", "")
    marker = _EMOJI.get(severity, ":arrows_counterclockwise:")
    if document["type"] == "alert.resolved":
        marker = ":white_check_mark:"
    fields = [{"type": "mrkdwn", "text": f"*{_escape(k)}*\n{_escape(v)}"} for k, v in key_numbers(document)]
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"{marker} *{_escape(title)}*"}},
        {"type": "section", "fields": fields[:MAX_FIELDS]},
    ]
    table = drift_table(document)
    if table:
        lines = "\n".join(f"• `{_escape(r['feature'])}` {_escape(r['compared'])}" for r in table)
        text = ("*Drifted features*\n" + lines)[:MAX_TEXT]
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
    link = (document.get("links") or {}).get("dashboard")
    if link:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"<{link}|Open in the dashboard>"}]})
    return {"text": _escape(title), "blocks": blocks}


def _escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
