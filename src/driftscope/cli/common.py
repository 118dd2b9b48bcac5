"""Helpers shared by the command modules: the --config option, loading, the engine, tables.

Light at import (no pydantic, SQLAlchemy or pandas), so ``driftscope --help`` starts fast.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from driftscope.errors import ConfigError

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from driftscope.config import Config

DEFAULT_CONFIG = "driftscope.yaml"


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    """Add ``--config F`` (default ``$DRIFTSCOPE_CONFIG`` or ``./driftscope.yaml``)."""
    parser.add_argument(
        "--config",
        default=os.environ.get("DRIFTSCOPE_CONFIG", DEFAULT_CONFIG),
        help="configuration file (default: $DRIFTSCOPE_CONFIG or ./driftscope.yaml)",
    )


def load(args: argparse.Namespace) -> Config:
    """Load the configuration named by ``--config``."""
    from driftscope.config import load_config

    path = Path(args.config)
    if not path.exists():
        raise ConfigError(f"{path}: no such configuration file; pass --config or see examples/driftscope.yaml")
    return load_config(path)


@contextmanager
def open_store(config: Config) -> Iterator[Engine]:
    """An engine on the configured store, disposed on exit; a store not at the newest revision is refused."""
    from driftscope.storage.db import make_engine
    from driftscope.storage.migrations import require_current

    engine = make_engine(config.database_url)
    try:
        require_current(engine)
        yield engine
    finally:
        engine.dispose()


def print_table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> None:
    """Print ``rows`` as an aligned text table (``-`` for None)."""
    if not rows:
        print("(none)")
        return
    cells = [[("-" if r.get(c) is None else str(r.get(c))) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    print("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)))
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))
