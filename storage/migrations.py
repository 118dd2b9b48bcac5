"""Schema migrations through Alembic: upgrade, downgrade, and a check that the store is current.

The migration scripts live in the project's top-level ``alembic/`` folder, which installs as the
package resource ``driftscope.migrations`` (in a wheel and in an editable install alike); Alembic is
pointed at it in resource form, ``driftscope.migrations:``, never at a path guessed from this file.
"""

import importlib.util
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config as AlembicConfig
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from driftscope.errors import StorageError
from driftscope.storage.db import make_engine

SCRIPT_PACKAGE = "driftscope.migrations"
FOREIGN_TABLES = frozenset({"apscheduler_jobs"})


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Leave tables we do not own (APScheduler's job store) out of migrations and comparisons."""
    table = obj.name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
    return table not in FOREIGN_TABLES


def alembic_config(url: str | None = None, engine: Engine | None = None) -> AlembicConfig:
    """An Alembic config pointing at our scripts, bound to ``url`` or to ``engine``."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(script_location()))
    cfg.attributes["url"] = url if engine is None else engine.url.render_as_string(hide_password=False)
    return cfg


def script_location() -> Path:
    """The folder of the installed ``driftscope.migrations`` resource (``env.py`` and ``versions/``)."""
    spec = importlib.util.find_spec(SCRIPT_PACKAGE)
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    for folder in map(Path, folders):
        if (folder / "env.py").is_file():
            return folder
    raise StorageError(
        f"the migration scripts ({SCRIPT_PACKAGE}) are missing from this installation; reinstall driftscope"
    )


def upgrade(url: str | None = None, revision: str = "head") -> str:
    """Apply migrations up to ``revision``; return the revision the store is at afterwards."""
    command.upgrade(alembic_config(url), revision)
    return current_revision(url) or "base"


def downgrade(url: str | None = None, revision: str = "base") -> None:
    """Revert migrations down to ``revision``."""
    command.downgrade(alembic_config(url), revision)


def head_revision() -> str:
    """The newest revision among the migration scripts."""
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    if head is None:
        raise StorageError(f"no migration scripts in {script_location() / 'versions'}")
    return head


def current_revision(url: str | None = None, engine: Engine | None = None) -> str | None:
    """The revision the store is at, or None for an empty store."""
    own = engine is None
    engine = engine or make_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        if own:
            engine.dispose()


def schema_differences(engine: Engine) -> list[Any]:
    """Alembic's autogenerate comparison of the live schema with the models; empty when they agree."""
    from driftscope.storage.models import Base

    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_object": include_object, "compare_type": True}
        )
        return compare_metadata(context, Base.metadata)


def require_current(engine: Engine) -> None:
    """Raise :class:`StorageError` unless the store is at the newest revision."""
    at, head = current_revision(engine=engine), head_revision()
    if at != head:
        raise StorageError(
            f"the store at {engine.url.render_as_string(hide_password=True)} is at revision {at or 'none'}, "
            f"expected {head}; run `driftscope db upgrade`"
        )
