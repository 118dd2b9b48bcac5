"""``driftscope alerts list|show|ack|resolve`` and ``driftscope retrain [status|ack|complete]``.

The store, pandas and the notification code are imported by the handlers, so ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from driftscope.cli.common import add_config_argument, load, open_store, print_table
from driftscope.naming import ALERT_STATUSES, SEVERITIES

if TYPE_CHECKING:
    import pandas as pd

ALERT_LIST_COLUMNS = [
    "id", "severity", "status", "model", "version", "rule", "fire_count", "data_start", "data_end", "title",
]
"""``data_start``/``data_end``: the data time the incident began and was last seen (window bounds)."""
REQUEST_LIST_COLUMNS = ["id", "model", "version", "trigger", "status", "requested_by", "created_at", "reason"]


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``alerts`` and ``retrain`` commands."""
    parser = commands.add_parser("alerts", help="list, show, acknowledge and resolve alerts")
    add_config_argument(parser)
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="list alerts (active ones unless --status says otherwise)")
    listing.add_argument("--status", choices=["active", "all", *ALERT_STATUSES], default="active")
    listing.add_argument("--model", help="only this model")
    listing.add_argument("--severity", choices=SEVERITIES, help="only this severity")
    listing.set_defaults(handler=_list)
    show = actions.add_parser("show", help="an alert's evidence, history and delivery attempts")
    show.add_argument("alert_id", type=int, metavar="ID")
    show.set_defaults(handler=_show)
    for name, handler, text in (
        ("ack", _ack, "acknowledge an open alert (stops re-notification)"),
        ("resolve", _resolve, "resolve an active alert (its channels are told)"),
    ):
        sub = actions.add_parser(name, help=text)
        sub.add_argument("alert_id", type=int, metavar="ID")
        _add_actor_note(sub)
        sub.set_defaults(handler=handler)
    for sub in actions.choices.values():
        _add_config(sub)
    _register_retrain(commands)


def _register_retrain(commands: argparse._SubParsersAction) -> None:
    retrain = commands.add_parser(
        "retrain", help="request retraining of a model version; list, acknowledge and complete requests",
        description="With --model, --version and --reason: request retraining (sent to the model's "
        "retrain_webhook). With an action: list or update requests.",
    )
    add_config_argument(retrain)
    retrain.add_argument("--model", help="model name")
    retrain.add_argument("--version", help="model version")
    retrain.add_argument("--reason", help="why the version needs retraining")
    retrain.add_argument("--by", default=None, help="who asks (default: $DRIFTSCOPE_ACTOR or the login name)")
    retrain.add_argument("--no-send", action="store_true", help="only record it; the scheduler's next tick sends it")
    retrain.set_defaults(handler=_request)
    actions = retrain.add_subparsers(dest="action", metavar="ACTION")
    status = actions.add_parser("status", help="list retraining requests and their status")
    status.add_argument("--model", dest="filter_model", help="only this model")
    status.add_argument("--version", dest="filter_version", help="only this version (with --model)")
    _add_config(status)
    status.set_defaults(handler=_status)
    for name, target, text in (
        ("ack", "acknowledged", "mark a request acknowledged (the training pipeline picked it up)"),
        ("complete", "completed", "mark a request completed"),
    ):
        sub = actions.add_parser(name, help=text)
        sub.add_argument("request_id", type=int, metavar="ID")
        _add_actor_note(sub)
        _add_config(sub)
        sub.set_defaults(handler=_transition, target=target)


def _add_config(parser: argparse.ArgumentParser) -> None:
    """``--config`` after the action too; absent, it leaves the command's value alone."""
    parser.add_argument("--config", default=argparse.SUPPRESS, help="configuration file (as before the action)")


def _add_actor_note(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--note", help="a note kept in the history")
    parser.add_argument("--actor", default=None, help="who does it (default: $DRIFTSCOPE_ACTOR or the login name)")


def _actor(explicit: str | None) -> str:
    if explicit:
        return explicit
    try:
        return os.environ.get("DRIFTSCOPE_ACTOR") or getpass.getuser()
    except (KeyError, OSError):
        return "cli"


def _list(args: argparse.Namespace) -> int:
    from driftscope.storage.alerts import list_alerts
    from driftscope.storage.db import transaction

    with open_store(load(args)) as engine, transaction(engine) as session:
        frame = list_alerts(
            session, status=None if args.status == "all" else args.status, model=args.model, severity=args.severity
        )
    rank = frame["severity"].map({s: -i for i, s in enumerate(SEVERITIES)})  # critical first, then by recency
    frame = frame.iloc[rank.to_numpy().argsort(kind="stable")]
    print_table(_records(frame, ALERT_LIST_COLUMNS), ALERT_LIST_COLUMNS)
    return 0


def _show(args: argparse.Namespace) -> int:
    from driftscope.storage.alerts import alert_history, get_alert
    from driftscope.storage.db import transaction
    from driftscope.storage.notifications import delivery_log

    with open_store(load(args)) as engine, transaction(engine) as session:
        alert = get_alert(session, alert_id=args.alert_id)
        history = alert_history(session, alert_id=args.alert_id)
        deliveries = delivery_log(session, alert_id=args.alert_id)
    for key in ("id", "rule", "kind", "severity", "status", "model", "version", "title", "fire_count",
                "data_start", "data_end", "resolved_window_end", "window_start", "window_end", "first_seen",
                "last_seen", "last_notified_at", "resolved_at"):
        print(f"{key:>19}: {_cell(alert[key])}")
    print("           evidence: " + json.dumps(alert["evidence"], indent=2, default=str).replace("\n", "\n" + " " * 21))
    print("\nhistory:")
    print_table(_records(history, ["created_at", "action", "actor", "note"]), ["created_at", "action", "actor", "note"])
    print("\ndeliveries:")
    columns = ["created_at", "channel", "event", "attempt", "ok", "status_code", "duration_ms", "error"]
    print_table(_records(deliveries, columns), columns)
    return 0


def _ack(args: argparse.Namespace) -> int:
    from driftscope.storage.alerts import acknowledge_alert

    return _change_alert(args, acknowledge_alert, "acknowledged")


def _resolve(args: argparse.Namespace) -> int:
    from driftscope.storage.alerts import resolve_alert

    return _change_alert(args, resolve_alert, "resolved")


def _change_alert(args: argparse.Namespace, change: Callable[..., None], done: str) -> int:
    """Apply ``change`` (acknowledge or resolve) to ``--alert-id`` as the actor, with the note."""
    from driftscope.storage.db import transaction

    with open_store(load(args)) as engine, transaction(engine) as session:
        change(session, alert_id=args.alert_id, actor=_actor(args.actor), note=args.note)
    print(f"alert {args.alert_id} {done}")
    return 0


def _request(args: argparse.Namespace) -> int:
    from driftscope.alerting.notify import deliver_due
    from driftscope.storage.db import transaction
    from driftscope.storage.registry import get_version
    from driftscope.storage.retraining import get_request, request_retraining

    missing = [f"--{k}" for k in ("model", "version", "reason") if not getattr(args, k)]
    if missing:
        print(f"error: retrain needs {', '.join(missing)} (or an action: status, ack, complete)", file=sys.stderr)
        return 2
    config = load(args)
    webhook = config.model(args.model).retrain_webhook
    with open_store(config) as engine:
        with transaction(engine) as session:
            version = get_version(session, args.model, args.version)
            request_id = request_retraining(
                session, model_version_id=version.id, reason=args.reason, requested_by=_actor(args.by)
            )
        if webhook is None:
            print(f"retraining request {request_id} recorded (pending); model {args.model!r} has no retrain_webhook, "
                  "so nothing is sent")
            return 0
        if not args.no_send:
            deliver_due(engine, config)
        with transaction(engine) as session:
            status = get_request(session, request_id=request_id)["status"]
    print(f"retraining request {request_id} for {args.model} {args.version}: {status} (webhook channel {webhook!r})")
    if status == "pending":
        print("not delivered yet; the scheduler retries it (`driftscope retrain status` shows progress)")
    return 0


def _status(args: argparse.Namespace) -> int:
    from driftscope.storage.db import transaction
    from driftscope.storage.registry import get_version
    from driftscope.storage.retraining import list_requests

    with open_store(load(args)) as engine, transaction(engine) as session:
        version_id = None
        if args.filter_version:
            if not args.filter_model:
                print("error: --version needs --model", file=sys.stderr)
                return 2
            version_id = get_version(session, args.filter_model, args.filter_version).id
        frame = list_requests(session, model_version_id=version_id)
    if args.filter_model:
        frame = frame[frame["model"] == args.filter_model]
    print_table(_records(frame, REQUEST_LIST_COLUMNS), REQUEST_LIST_COLUMNS)
    return 0


def _transition(args: argparse.Namespace) -> int:
    from driftscope.storage.db import transaction
    from driftscope.storage.retraining import set_status

    with open_store(load(args)) as engine, transaction(engine) as session:
        set_status(session, request_id=args.request_id, status=args.target, actor=_actor(args.actor), note=args.note)
    print(f"retraining request {args.request_id} {args.target}")
    return 0


def _records(frame: pd.DataFrame, columns: list[str]) -> list[dict[str, Any]]:
    return [{c: _cell(row[c]) for c in columns} for row in frame[columns].to_dict("records")]


def _cell(value: Any) -> Any:
    import pandas as pd

    if value is None or (not isinstance(value, dict | list) and pd.isna(value)):
        return None
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, float):
        return f"{value:.1f}"
    return value
