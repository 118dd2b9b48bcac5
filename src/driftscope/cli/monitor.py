"""``driftscope monitor run`` and ``driftscope report``: compute monitors, write Evidently's report.

The monitors (scikit-learn, river, scipy) and Evidently are imported inside the handlers: they take
seconds to import and every other command would pay for them; so is the store, for ``--help``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from driftscope.cli.common import add_config_argument, load, open_store, print_table
from driftscope.durations import parse_duration
from driftscope.extras import require

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from driftscope.config import Config
    from driftscope.storage.results import RunInfo

_MAX_ERROR = 200


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``monitor`` command group and the ``report`` command."""
    parser = commands.add_parser("monitor", help="compute drift and performance monitors")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    run = actions.add_parser(
        "run", help="compute the configured monitors for a window (or every window since FROM), then the alert rules"
    )
    add_config_argument(run)
    run.add_argument("--monitor", help="only this monitor (default: all configured)")
    run.add_argument("--model", help="only the monitors of this model")
    run.add_argument("--version", help="only this version of the model (default: the monitor's versions)")
    when = run.add_mutually_exclusive_group()
    when.add_argument("--window-end", type=timestamp, metavar="T",
                      help="compute the window ending at T, a window boundary (ISO 8601; naive times are UTC); "
                           "a T between boundaries is refused with the nearest ones named")
    when.add_argument("--backfill", type=timestamp, metavar="FROM",
                      help="compute every window from the one holding FROM up to --until, by default up to one "
                           "window after the version's last stored prediction")
    run.add_argument("--until", type=timestamp, metavar="T", help="last window end of a --backfill")
    run.set_defaults(handler=_run)

    report = commands.add_parser("report", help="write Evidently's drift report for one window as HTML")
    add_config_argument(report)
    report.add_argument("--model", required=True)
    report.add_argument("--version", required=True)
    report.add_argument("--window-end", "--end", dest="window_end", type=timestamp, required=True, metavar="T",
                        help="end of the window (ISO 8601; naive times are UTC)")
    report.add_argument("--start", dest="window_start", type=timestamp, metavar="S",
                        help="start of the window (default: the tile ending at T, as the monitors tile time)")
    report.add_argument("--monitor", help="data_drift monitor whose window and tests to use (default: the model's)")
    report.add_argument("--window", type=duration, help="window width, e.g. 1d (default: the monitor's)")
    report.add_argument("-o", "--output",
                        help="HTML file (default: <dashboard.reports_dir>/<model>_<version>_<start>_<end>.html)")
    report.set_defaults(handler=_report)


def timestamp(text: str) -> datetime:
    """Parse an ISO 8601 time; a time without offset is UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"not an ISO 8601 time: {text!r} (e.g. 2026-01-31 or 2026-01-31T06:00Z)"
        ) from exc
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def duration(text: str) -> timedelta:
    """Parse a duration such as ``1d`` or ``6h``."""
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _run(args: argparse.Namespace) -> int:
    from driftscope.monitors.runner import failed
    from driftscope.pipeline import monitor_cycle

    config = load(args)
    with open_store(config) as engine:
        report = monitor_cycle(
            engine, config, monitor=args.monitor, model=args.model, version=args.version,
            window_end=args.window_end, backfill_from=args.backfill, backfill_until=args.until,
        )
        print_runs(report.runs, _version_names(engine))
        print_experiments(report.experiments)
        if report.alerts:
            print(f"alerts: {len(report.alerts)} changed; notifications delivered: "
                  f"{sum(d.ok for d in report.deliveries)} of {len(report.deliveries)} attempts")
    return 1 if failed(report.runs) else 0


def _report(args: argparse.Namespace) -> int:
    require("evidently", "report")  # before the store is opened: a missing extra is the first thing to say
    from driftscope.monitors.report import write_report

    config = load(args)
    with open_store(config) as engine:
        path = write_report(
            engine, config, model=args.model, version=args.version, window_end=args.window_end,
            window_start=args.window_start, path=args.output, monitor=args.monitor, window=args.window,
            reports_dir=reports_folder(config, Path(args.config)),
        )
    print(f"report written to {path}")
    return 0


def reports_folder(config: Config, config_path: Path) -> Path:
    """``dashboard.reports_dir``, a relative one taken from the config file's folder (as the dashboard does)."""
    folder = Path(config.dashboard.reports_dir)
    return folder if folder.is_absolute() else config_path.resolve().parent / folder


def _version_names(engine: Engine) -> dict[int, tuple[str, str]]:
    from driftscope.storage.db import transaction
    from driftscope.storage.registry import list_versions

    with transaction(engine) as session:
        return {v.id: (v.model, v.version) for v in list_versions(session)}


def print_experiments(runs: Sequence[Any]) -> None:
    """One line per evaluated experiment: windows computed, looks changed, the newest verdict with its evidence."""
    for run in runs:
        look = run.latest
        verdict = "no looks" if look is None else (
            f"{look.verdict} (effect {look.effect:.4g}, CS {look.low:.4g} to {look.high:.4g}, n {look.n_control} / "
            f"{look.n_treatment}) after the window ending {look.window_end:%Y-%m-%d %H:%M}")
        print(f"experiment {run.experiment}: {len(run.windows)} window(s), {run.changed} look(s) changed; {verdict}")


def print_runs(runs: Sequence[RunInfo], versions: dict[int, tuple[str, str]]) -> None:
    """One line per run: monitor, model, version, window, status, rows and the headline."""
    rows = []
    for run in runs:
        model, version = versions.get(run.model_version_id, ("?", "?"))
        rows.append({
            "monitor": run.monitor, "model": model, "version": version,
            "window": f"{run.window_start:%Y-%m-%dT%H:%MZ}..{run.window_end:%Y-%m-%dT%H:%MZ}",
            "status": run.status, "rows": run.n_rows, "headline": headline(run),
        })
    print_table(rows, ["monitor", "model", "version", "window", "status", "rows", "headline"])


def headline(run: RunInfo) -> str:
    """The run's verdict in a few words (its error when it failed)."""
    if run.status == "failed":
        first_line = (run.error or "").splitlines()[0] if run.error else "unknown error"
        return f"error: {first_line[:_MAX_ERROR]}"
    s = run.summary
    if run.kind == "data_drift":
        prediction = "-" if s.get("prediction_drift") is None else _yes(s["prediction_drift"])
        return (f"dataset drift {_yes(s.get('dataset_drift'))} ({s.get('n_drifted', 0)}/{s.get('n_features', 0)} "
                f"features, share >= {s.get('drift_share', 0):.2f}), prediction drift {prediction}")
    if run.kind == "operational":
        return f"requests {s.get('requests', 0)}, errors {s.get('errors', 0)}, timeouts {s.get('timeouts', 0)}"
    coverage = f"label coverage {s.get('label_coverage', 0.0):.0%}"
    if run.kind == "performance":
        return f"verdict {s.get('verdict', '-')}, {coverage}"
    fired = ", ".join(s.get("detectors_fired", [])) or "none"
    return f"concept drift {_yes(s.get('concept_drift'))}, fired: {fired}, {coverage}"


def _yes(value: object) -> str:
    return "yes" if value else "no"
