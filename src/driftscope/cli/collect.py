"""``driftscope collect`` and ``driftscope quarantine list|replay``: pull sources, inspect and replay rejects.

The collectors are imported by the handlers: their readers (fsspec, Arrow's CSV/JSON, requests) are
not needed by the other commands.
"""

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from driftscope.cli.common import add_config_argument, load, open_store, print_table

SUMMARY_COLUMNS = ("source", "status", "rows_read", "rows_stored", "rows_duplicate", "rows_conflict",
                   "rows_quarantined")
PAYLOAD_CHARS = 80


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``collect`` and ``quarantine`` commands."""
    parser = commands.add_parser("collect", help="pull predictions and labels from the configured sources")
    add_config_argument(parser)
    parser.add_argument("--source", action="append", metavar="NAME",
                        help="collect only this source (repeat for several; default: all)")
    parser.add_argument("--no-progress", action="store_true", help="no progress line, even on a terminal")
    parser.add_argument("--follow", action="store_true",
                        help="keep reading kafka sources until SIGTERM or Ctrl-C (stops between batches)")
    parser.add_argument("--reset-offsets", choices=("earliest", "latest"),
                        help="set a kafka source's stored offsets (after a topic was recreated); needs --source")
    parser.set_defaults(handler=_collect)
    quarantine = commands.add_parser("quarantine", help="list or replay quarantined rows")
    actions = quarantine.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="show quarantined rows, where they came from and why")
    add_config_argument(listing)
    listing.add_argument("--source", metavar="S", help="only rows of this source")
    listing.add_argument("--limit", type=int, default=50, help="rows to show (default 50)")
    listing.set_defaults(handler=_list)
    replay = actions.add_parser("replay", help="re-ingest quarantined rows after the schema or mapping was fixed")
    add_config_argument(replay)
    replay.add_argument("--source", action="append", metavar="S", help="only rows of this source (repeatable)")
    replay.set_defaults(handler=_replay)


def _collect(args: argparse.Namespace) -> int:
    from driftscope.collectors import collect

    config = load(args)
    if args.reset_offsets:
        return _reset(args, config)
    if args.follow:
        return _follow(args, config)
    with open_store(config) as engine:
        summaries = collect(engine, config, sources=args.source,
                            progress=not args.no_progress and sys.stderr.isatty())
    _print_summaries(summaries, "collect")
    return 1 if any(s.status != "succeeded" for s in summaries) else 0


def _follow(args: argparse.Namespace, config: Any) -> int:
    from driftscope.collectors.follow import follow

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    with open_store(config) as engine:
        summaries = follow(engine, config, stop=stop, sources=args.source)
    _print_summaries(summaries, "collect --follow (last runs)")
    return 0


def _reset(args: argparse.Namespace, config: Any) -> int:
    from driftscope.collectors.follow import reset_stream

    if not args.source:
        print("--reset-offsets needs --source NAME (the kafka source to reset)", file=sys.stderr)
        return 2
    with open_store(config) as engine:
        for name in args.source:
            offsets = reset_stream(engine, config.source(name), args.reset_offsets)
            print(f"{name}: next offsets " + ", ".join(f"partition {p} -> {o}" for p, o in sorted(offsets.items())))
    return 0


def _list(args: argparse.Namespace) -> int:
    from driftscope.storage.db import transaction
    from driftscope.storage.quarantine import list_quarantined, quarantine_counts

    config = load(args)
    with open_store(config) as engine, transaction(engine) as session:
        rows = list_quarantined(session, source=args.source, limit=args.limit)
        counts = quarantine_counts(session)
    total = counts.get(args.source, 0) if args.source else sum(counts.values())
    records = rows.assign(payload=rows["payload"].map(_clip)).to_dict("records", into=dict)
    print_table(records, ("id", "source", "location", "reason", "payload"))
    print(f"quarantine: showing {len(rows)} of {total} rows" + (f" of source {args.source}" if args.source else ""))
    return 0


def _replay(args: argparse.Namespace) -> int:
    from driftscope.collectors import replay_quarantine

    config = load(args)
    with open_store(config) as engine:
        summaries = replay_quarantine(engine, config, sources=args.source)
    _print_summaries(summaries, "replay")
    return 1 if any(s.status != "succeeded" for s in summaries) else 0


def _print_summaries(summaries: Sequence[Any], what: str) -> None:
    """Print :class:`collectors.SourceSummary` rows, their errors, and the row-count identity."""
    print_table([asdict(s) for s in summaries], SUMMARY_COLUMNS)
    for summary in summaries:
        if summary.error:
            print(f"{summary.source}: {summary.error}", file=sys.stderr)
    read = sum(s.rows_read for s in summaries)
    stored = sum(s.rows_stored for s in summaries)
    duplicate = sum(s.rows_duplicate for s in summaries)
    conflict = sum(s.rows_conflict for s in summaries)
    quarantined = sum(s.rows_quarantined for s in summaries)
    failed = sum(s.status != "succeeded" for s in summaries)
    print(f"{what}: {len(summaries)} sources ({failed} failed); {read} rows read = {stored} stored + "
          f"{duplicate} duplicate + {conflict} conflicting + {quarantined} quarantined")


def _clip(text: str) -> str:
    return text if len(text) <= PAYLOAD_CHARS else text[: PAYLOAD_CHARS - 3] + "..."
