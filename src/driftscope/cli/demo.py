"""``driftscope demo``: build a demo store with real drift and open the dashboard."""

import argparse
from pathlib import Path

from driftscope.extras import require


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``demo`` command."""
    parser = commands.add_parser("demo", help="build a demo store with real drift and open the dashboard")
    parser.add_argument("--dir", type=Path, default=Path("demo"), help="working folder (default ./demo; replaced)")
    parser.add_argument("--no-dashboard", action="store_true", help="stop after building, before the UI")
    parser.add_argument("--port", type=int, default=None, help="dashboard port (default 8501)")
    parser.set_defaults(handler=_demo)


def _demo(args: argparse.Namespace) -> int:
    for module in ("aiosmtpd", "sklearn", "river", "streamlit", "evidently"):
        require(module, "demo")
    from driftscope.demo.run import run_demo

    result = run_demo(args.dir, dashboard=not args.no_dashboard, port=args.port)
    return 1 if result.failed_runs else 0
