"""``driftscope dashboard``: start the Streamlit dashboard; ``driftscope dashboard hash-password``: hash a login.

The dashboard runs as ``streamlit run <dashboard/entry/driftscope_dashboard.py>`` with ``DRIFTSCOPE_CONFIG`` and
``DRIFTSCOPE_DATABASE_URL`` in its environment, after checking that the store is reachable and
migrated. On POSIX the command replaces itself with the server (``exec``), so a supervisor's
SIGTERM stops the server itself.
"""

import argparse
import getpass
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

from driftscope.cli.common import DEFAULT_CONFIG, add_config_argument, load, open_store
from driftscope.config.passwords import DEFAULT_ITERATIONS, hash_password
from driftscope.errors import ConfigError, DriftscopeError
from driftscope.extras import require

DEFAULT_PORT = 8501
#: run in the server process before Streamlit starts: imports the app's modules (config, storage, plotly)
#: once, so the first visitor after a restart does not wait for them (they take seconds on a busy machine);
#: the cache decorators' "no runtime yet" warning is silenced while they are imported
PRELOAD = ("import logging, sys, streamlit.runtime.caching.cache_data_api as api; level = api._LOGGER.level; "
           "api._LOGGER.setLevel(logging.ERROR); "
           "import driftscope.dashboard.app, driftscope.dashboard.charts_drift, plotly.io; "
           "api._LOGGER.setLevel(level); from streamlit.web.cli import main; sys.exit(main())")


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``dashboard`` command and its ``hash-password`` action."""
    parser = commands.add_parser(
        "dashboard", help="start the Streamlit dashboard (or hash a password for its login)",
        description="Start the dashboard on http://<address>:<port>. With login off (the default), anyone who "
        "can reach the port is an operator: keep --address 127.0.0.1 or turn login on (docs/dashboard.md).",
    )
    add_config_argument(parser)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port to serve on (default {DEFAULT_PORT})")
    parser.add_argument("--address", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)")
    parser.set_defaults(handler=_run)
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    hasher = actions.add_parser(
        "hash-password", help="print a pbkdf2_sha256 hash for dashboard.auth.users or DRIFTSCOPE_DASHBOARD_USERS",
        description="Reads the password from the terminal (asked twice) or from the first line of stdin.",
    )
    hasher.add_argument("--iterations", type=int, default=DEFAULT_ITERATIONS,
                        help=f"PBKDF2 iterations (default {DEFAULT_ITERATIONS:,})")
    hasher.set_defaults(handler=_hash_password)


def app_path() -> Path:
    """Where the dashboard's entrypoint script is installed (located, never imported)."""
    spec = importlib.util.find_spec("driftscope.dashboard")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("the dashboard package is not installed; reinstall driftscope (pip install -e .)")
    return Path(next(iter(spec.submodule_search_locations))) / "entry" / "driftscope_dashboard.py"


def dashboard_environment(args: argparse.Namespace) -> dict[str, str]:
    """The child's environment: the config path and the store URL (config, else $DRIFTSCOPE_DATABASE_URL)."""
    env = dict(os.environ)
    path = Path(args.config)
    if path.exists():
        config = load(args)
        with open_store(config):
            pass
        env["DRIFTSCOPE_CONFIG"] = str(path.resolve())
        env["DRIFTSCOPE_DATABASE_URL"] = config.database_url
        return env
    if args.config != DEFAULT_CONFIG:
        raise ConfigError(f"{path}: no such configuration file; pass --config or see examples/driftscope.yaml")
    from driftscope.storage.db import database_url, make_engine
    from driftscope.storage.migrations import require_current

    url = database_url()
    engine = make_engine(url)
    try:
        require_current(engine)
    finally:
        engine.dispose()
    print(f"no {DEFAULT_CONFIG} here: showing the store at {url} with login off", file=sys.stderr)
    env.pop("DRIFTSCOPE_CONFIG", None)
    env["DRIFTSCOPE_DATABASE_URL"] = url
    return env


def streamlit_command(port: int, address: str) -> list[str]:
    """``streamlit run <app.py>`` headless on ``address:port``, no usage statistics or developer menu.

    Run as ``python -P -c PRELOAD run ...``: :data:`PRELOAD` imports the app's modules before the
    server starts, then hands the arguments to Streamlit's own command line. ``-P`` keeps the working
    folder off the import path, so a stray ``click.py`` there cannot shadow a library the server imports.
    """
    return [
        sys.executable, "-P", "-c", PRELOAD, "run", str(app_path()), "--server.port", str(port),
        "--server.address", address, "--server.headless", "true", "--browser.gatherUsageStats", "false",
        "--client.toolbarMode", "viewer",
    ]


def _run(args: argparse.Namespace) -> int:
    if not 0 < args.port < 65536:
        raise ConfigError(f"--port {args.port}: choose a port between 1 and 65535")
    for module in ("streamlit", "plotly"):
        require(module, "dashboard")
    env = dashboard_environment(args)
    command = streamlit_command(args.port, args.address)
    print(f"driftscope dashboard on http://{args.address}:{args.port}", file=sys.stderr, flush=True)
    if os.name == "posix":
        os.execve(command[0], command, env)  # become the server, so signals (SIGTERM, Ctrl-C) reach it directly
    return subprocess.run(command, env=env, check=False).returncode


def _read_password() -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Again: "):
        raise DriftscopeError("the two passwords differ; run the command again")
    return first


def _hash_password(args: argparse.Namespace) -> int:
    print(hash_password(_read_password(), iterations=args.iterations))
    return 0
