"""Prometheus exposition of each model version's newest figures (``metrics_endpoint``), read per scrape.

A custom collector (:class:`StoreCollector`) reads the store at every scrape through
:mod:`driftscope.storage.latest_figures` (two queries, no prediction rows), so what Prometheus
sees is what the store holds now: there is no in-process state to go stale, and any number of
exporters may serve the same store. Served by ``driftscope exporter`` and, when ``metrics_endpoint``
is configured, by ``driftscope scheduler``; both use the official ``prometheus_client`` (the
``metrics`` extra) for the exposition format and its HTTP server.

Gauges, in Prometheus' base units (seconds, ratios in [0, 1]); labels ``model``, ``version`` and,
for monitor figures, ``monitor``. Operational figures are those of the monitor's newest window
(see :mod:`driftscope.monitors.operational`):

=========================================== =================================================================
``driftscope_window_requests``              requests in the window, failed ones included
``driftscope_requests_per_second``          requests per second of the window
``driftscope_error_ratio``                  share of requests with status ``error``
``driftscope_timeout_ratio``                share of requests with status ``timeout``
``driftscope_latency_seconds``              exact latency percentile (label ``percentile``, e.g. ``"95"``)
``driftscope_outcome_coverage_ratio``       share of successful requests with an outcome so far
``driftscope_outcome_mean``                 an outcome's mean per request that has it (label ``outcome``):
                                            a binary outcome's rate (CTR), a numeric one's mean (revenue)
``driftscope_model_age_seconds``            window end minus the version's ``trained_at``
``driftscope_window_end_timestamp_seconds`` end of the newest window (Unix time): how fresh the figures are
``driftscope_drift_share``                  share of drifted features in the newest data-drift window
``driftscope_dataset_drift``                1 when that window's dataset drift verdict is drift, else 0
``driftscope_open_alerts``                  unresolved alerts (label ``severity``; 0 for each severity without)
``driftscope_experiment_verdict``           1 for the experiment's current verdict, 0 for the others (label
                                            ``verdict``: better, worse, no_detectable_difference)
``driftscope_experiment_decided``           1 once the experiment is decided (better, worse or a guardrail)
``driftscope_experiment_effect``            treatment minus control of the primary KPI, all windows so far
``driftscope_experiment_effect_lower``      the always-valid confidence sequence's lower and upper bound
``driftscope_experiment_effect_upper``      (see docs/statistics.md)
``driftscope_experiment_samples_needed``    rows per arm still needed for ``minimum_effect`` at this split
``driftscope_store_up``                     1 when this scrape read the store, 0 when it failed
``driftscope_scrape_duration_seconds``      time this scrape spent reading the store
=========================================== =================================================================

A figure without data in its window (an error ratio of a window without requests) is left out
rather than exported as NaN. Experiment gauges carry the labels ``experiment``, ``model``,
``control`` and ``treatment`` (version names) and hold each experiment's newest look. Each group
of figures is a *section*: a function taking the scrape's read-only session and returning metric
families, listed in :data:`SECTIONS`; every section reads in the same transaction.
"""

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import start_http_server
from prometheus_client.registry import Collector, CollectorRegistry
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from driftscope.errors import DriftscopeError
from driftscope.storage.db import read_transaction
from driftscope.storage.experiments import latest_looks
from driftscope.storage.latest_figures import latest_windows, open_alert_counts

log = logging.getLogger(__name__)

PREFIX = "driftscope_"
SEVERITIES = ("info", "warning", "critical")
SECONDS_PER_DAY = 86_400.0
VERSION_LABELS = ("model", "version")
MONITOR_LABELS = ("model", "version", "monitor")
Section = Callable[[Session], Iterable[Metric]]


@dataclass(frozen=True)
class Figure:
    """How one stored operational metric is exported: gauge name, help text, scale to base units, extra label."""

    name: str
    documentation: str
    scale: float = 1.0
    label: str | None = None


#: stored metric (or its prefix, for ``latency_p*`` and ``outcome:*``) -> exported gauge
FIGURES: dict[str, Figure] = {
    "request_count": Figure("window_requests", "Requests in the newest operational window, failed ones included"),
    "request_rate": Figure("requests_per_second", "Requests per second of the newest operational window"),
    "error_rate": Figure("error_ratio", "Share of the newest window's requests with status error"),
    "timeout_rate": Figure("timeout_ratio", "Share of the newest window's requests with status timeout"),
    "latency_p": Figure("latency_seconds", "Exact latency percentile of the newest window, seconds", 1e-3,
                        "percentile"),
    "outcome_share": Figure("outcome_coverage_ratio", "Share of the newest window's successful requests with an "
                            "outcome"),
    "outcome:": Figure("outcome_mean", "Mean of an outcome over the newest window's requests that have it "
                       "(a binary outcome's rate)", 1.0, "outcome"),
    "model_age_days": Figure("model_age_seconds", "Age of the model version at the end of the newest window "
                             "(window end - trained_at)", SECONDS_PER_DAY),
}


def figure_of(metric: str) -> tuple[Figure, str | None] | None:
    """The gauge a stored operational metric goes to, and its extra label's value (None: not exported).

    Examples
    --------
    >>> [(f.name, label) for f, label in map(figure_of, ["latency_p99.9", "outcome:clicked", "error_rate"])]
    [('latency_seconds', '99.9'), ('outcome_mean', 'clicked'), ('error_ratio', None)]
    >>> figure_of("something_else") is None
    True
    """
    if metric in FIGURES:
        return FIGURES[metric], None
    for prefix in ("latency_p", "outcome:"):
        if metric.startswith(prefix):
            return FIGURES[prefix], metric[len(prefix):]
    return None


def window_families(session: Session) -> list[Metric]:
    """Operational figures, freshness and drift share of each (monitor, version)'s newest window."""
    frame = latest_windows(session)
    gauges: dict[str, GaugeMetricFamily] = {}

    def gauge(name: str, documentation: str, labels: Sequence[str]) -> GaugeMetricFamily:
        if name not in gauges:
            gauges[name] = GaugeMetricFamily(PREFIX + name, documentation, labels=list(labels))
        return gauges[name]

    fresh = gauge("window_end_timestamp_seconds", "End of the monitor's newest window (Unix time)", MONITOR_LABELS)
    drift = gauge("drift_share", "Share of drifted features in the newest data-drift window", MONITOR_LABELS)
    verdict = gauge("dataset_drift", "1 when the newest data-drift window has dataset drift, else 0", MONITOR_LABELS)
    for key, run in frame.groupby(["model", "version", "monitor"], sort=False):
        labels = [str(part) for part in key]
        first = run.iloc[0]
        fresh.add_metric(labels, first["window_end"].timestamp())
        if first["kind"] == "data_drift":
            _drift_figures(drift, verdict, labels, first["summary"])
            continue
        for metric, value in zip(run["metric"], run["value"], strict=True):
            found = figure_of(str(metric)) if pd.notna(metric) else None
            if found is None or pd.isna(value):
                continue
            figure, extra = found
            family = gauge(figure.name, figure.documentation,
                           MONITOR_LABELS if figure.label is None else (*MONITOR_LABELS, figure.label))
            family.add_metric(labels if extra is None else [*labels, extra], float(value) * figure.scale)
    return list(gauges.values())


def _drift_figures(drift: GaugeMetricFamily, verdict: GaugeMetricFamily, labels: list[str],
                   summary: dict[str, Any] | None) -> None:
    share = (summary or {}).get("drifted_share")
    if isinstance(share, int | float) and not isinstance(share, bool):
        drift.add_metric(labels, float(share))
    flag = (summary or {}).get("dataset_drift")
    if isinstance(flag, bool):
        verdict.add_metric(labels, float(flag))


def alert_families(session: Session) -> list[Metric]:
    """Unresolved alerts of every registered version per severity (explicit zeros)."""
    frame = open_alert_counts(session)
    family = GaugeMetricFamily(PREFIX + "open_alerts", "Unresolved (open or acknowledged) alerts of the version",
                               labels=[*VERSION_LABELS, "severity"])
    for (model, version), rows in frame.groupby(["model", "version"], sort=False):
        counts = dict(zip(rows["severity"], rows["open_alerts"], strict=True))
        for severity in dict.fromkeys([*SEVERITIES, *(s for s in counts if isinstance(s, str))]):
            family.add_metric([str(model), str(version), severity], float(counts.get(severity, 0)))
    return [family]


EXPERIMENT_LABELS = ("experiment", "model", "control", "treatment")
VERDICTS = ("better", "worse", "no_detectable_difference")


def experiment_families(session: Session) -> list[Metric]:
    """Each experiment's newest look: verdict (a state set), decided flag, effect with its bounds, samples needed."""
    frame = latest_looks(session)
    verdict = GaugeMetricFamily(PREFIX + "experiment_verdict", "1 for the experiment's current verdict, else 0",
                                labels=[*EXPERIMENT_LABELS, "verdict"])
    decided = GaugeMetricFamily(PREFIX + "experiment_decided", "1 once the experiment is decided, else 0",
                                labels=list(EXPERIMENT_LABELS))
    figures = {column: GaugeMetricFamily(PREFIX + name, documentation, labels=list(EXPERIMENT_LABELS))
               for column, name, documentation in (
                   ("effect", "experiment_effect", "Treatment minus control of the primary KPI, all windows so far"),
                   ("low", "experiment_effect_lower", "Lower bound of the effect's always-valid confidence sequence"),
                   ("high", "experiment_effect_upper", "Upper bound of the effect's always-valid confidence sequence"),
                   ("samples_needed", "experiment_samples_needed",
                    "Rows per arm still needed to detect minimum_effect at the current split"))}
    for row in frame.itertuples(index=False):
        labels = [str(row.experiment), str(row.model), str(row.control), str(row.treatment)]
        for name in dict.fromkeys([*VERDICTS, str(row.verdict)]):
            verdict.add_metric([*labels, name], float(name == row.verdict))
        decided.add_metric(labels, float(bool(row.decided)))
        for column, family in figures.items():
            value = getattr(row, column)
            if value is not None and pd.notna(value):
                family.add_metric(labels, float(value))
    return [verdict, decided, *figures.values()]


#: what a scrape exports, in order; each section reads through the scrape's session
SECTIONS: list[Section] = [window_families, alert_families, experiment_families]


class StoreCollector(Collector):
    """A ``prometheus_client`` collector that reads ``sections`` (default :data:`SECTIONS`) at every scrape.

    A store that cannot be read makes the scrape answer ``driftscope_store_up 0`` (and nothing
    else of the store), so Prometheus records the outage instead of a failed scrape.
    """

    def __init__(self, engine: Engine, sections: Sequence[Section] | None = None) -> None:
        self.engine = engine
        self.sections = SECTIONS if sections is None else sections

    def describe(self) -> list[Metric]:
        """Nothing: registering the collector must not read the store."""
        return []

    def collect(self) -> Iterator[Metric]:
        """Read the store once (one read-only transaction) and yield every section's families."""
        started = time.perf_counter()
        families: list[Metric] = []
        try:
            with read_transaction(self.engine) as session:
                for section in self.sections:
                    families.extend(section(session))
            up = 1.0
        except SQLAlchemyError as exc:
            log.warning("metrics scrape: reading the store failed: %s", str(exc).splitlines()[0])
            families, up = [], 0.0
        yield from families
        yield GaugeMetricFamily(PREFIX + "store_up", "1 when this scrape read the store, else 0", value=up)
        yield GaugeMetricFamily(PREFIX + "scrape_duration_seconds", "Time this scrape spent reading the store",
                                value=time.perf_counter() - started)


def registry_for(engine: Engine) -> CollectorRegistry:
    """A registry holding only the store's collector (no process metrics of this Python)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(engine))
    return registry


@dataclass
class MetricsServer:
    """A running metrics endpoint; :meth:`close` stops it."""

    server: Any
    thread: Any

    @property
    def address(self) -> tuple[str, int]:
        """The (host, port) it listens on (the real port when 0 was asked for)."""
        host, port = self.server.server_address[:2]
        return str(host), int(port)

    def close(self) -> None:
        """Stop serving and release the port."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


def serve_metrics(engine: Engine, *, host: str, port: int) -> MetricsServer:
    """Serve ``/metrics`` (any path) for ``engine``'s store on ``host:port`` in a daemon thread.

    Raises
    ------
    DriftscopeError
        The address cannot be listened on (port in use, unknown host).
    """
    try:
        server, thread = start_http_server(port, addr=host, registry=registry_for(engine))
    except OSError as exc:
        raise DriftscopeError(f"cannot serve Prometheus metrics on {host}:{port}: {exc}; choose another "
                              "metrics_endpoint.port (or stop the process using it)") from exc
    metrics = MetricsServer(server, thread)
    log.info("serving Prometheus metrics on http://%s:%d/metrics", *metrics.address)
    return metrics
