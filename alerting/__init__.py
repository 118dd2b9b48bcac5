"""Alerting: rules turn stored monitor results into alerts; notifications deliver them.

:mod:`driftscope.alerting.rules` decides (open, update, resolve alerts; request retraining) and
:mod:`driftscope.alerting.notify` delivers (e-mail, signed webhooks, Slack) with retries. It reads
results through :mod:`driftscope.storage` and never imports the collectors or the dashboard.
"""
