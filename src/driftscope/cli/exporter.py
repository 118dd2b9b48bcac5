"""``driftscope exporter``: serve each model version's newest figures to Prometheus until stopped.

Listens where ``metrics_endpoint`` says (``--host`` / ``--port`` override it); every scrape reads
the store (see :mod:`driftscope.exporter`). The scheduler serves the same endpoint when
``metrics_endpoint`` is configured, so this command is for deployments without a scheduler process
on the store's side, or a second endpoint.
"""

import argparse
import logging
import signal
import threading
from typing import Any

from driftscope.cli.common import add_config_argument, load, open_store
from driftscope.errors import ConfigError
from driftscope.extras import require

log = logging.getLogger(__name__)


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``exporter`` command."""
    parser = commands.add_parser(
        "exporter", help="serve Prometheus metrics (the newest figures per model version)",
        description="Serves /metrics for Prometheus: per model version, the newest operational window's requests, "
        "error and timeout ratios, latency percentiles, outcome means and model age, the newest drift share, "
        "and open alerts per severity. Every scrape reads the store. Runs until SIGTERM or Ctrl-C.",
    )
    add_config_argument(parser)
    parser.add_argument("--host", default=None,
                        help="address to listen on (default: metrics_endpoint.host, else 127.0.0.1)")
    parser.add_argument("--port", type=int, default=None, help="port (default: metrics_endpoint.port, else 9464)")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    require("prometheus_client", "metrics")
    from driftscope.config.schema import MetricsEndpointConfig
    from driftscope.exporter import serve_metrics

    config = load(args)
    endpoint = config.metrics_endpoint or MetricsEndpointConfig()
    host = args.host or endpoint.host
    port = endpoint.port if args.port is None else args.port
    if not 0 <= port <= 65535:
        raise ConfigError(f"--port {port}: a port is a number from 0 to 65535")
    stop = threading.Event()

    def handle(signum: int, _frame: Any) -> None:
        log.info("%s received: stopping the metrics endpoint", signal.Signals(signum).name)
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, handle)
    with open_store(config) as engine:
        server = serve_metrics(engine, host=host, port=port)
        try:
            print(f"serving Prometheus metrics on http://{server.address[0]}:{server.address[1]}/metrics", flush=True)
            stop.wait()
        finally:
            server.close()
    return 0
