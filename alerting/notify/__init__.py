"""Notifications: render stored events for e-mail, webhooks and Slack; sign, send, retry with backoff.

Call :func:`deliver_due` to send what is due; events are queued by :mod:`driftscope.storage.alerts` and
:mod:`driftscope.storage.retraining` in the transaction that caused them.
"""

from driftscope.alerting.notify.dispatch import DEFAULT_BACKOFF, Backoff, Delivery, deliver_due

__all__ = ["DEFAULT_BACKOFF", "Backoff", "Delivery", "deliver_due"]
