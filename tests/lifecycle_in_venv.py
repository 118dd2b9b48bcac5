"""Run tests/test_wheel.py's lifecycle with an already installed driftscope: ``make lowest-core``.

``python tests/lifecycle_in_venv.py VENV_PYTHON`` runs db upgrade, config check, apply, collect and
monitor run on SQLite with that interpreter's ``driftscope``, checks that the top-level folders are
not import names, and, when ``DRIFTSCOPE_TEST_PG_URL`` is set and the venv has psycopg, the same
lifecycle on a scratch PostgreSQL database of its own (dropped afterwards).
"""

import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_wheel


def main(python: Path) -> None:
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        env = test_wheel.Venv(python, home / "unused.whl", home)
        (home / "sqlite").mkdir()
        test_wheel._lifecycle(env, home / "sqlite", f"sqlite:///{home / 'sqlite' / 'store.db'}")
        for module in ("storage", "collectors", "monitors", "alerting"):
            done = env.run(str(python), "-c", f"import {module}")
            assert done.returncode != 0 and "ModuleNotFoundError" in done.stderr, module
        print("lifecycle on SQLite: ok")
        base = os.environ.get("DRIFTSCOPE_TEST_PG_URL")
        has_psycopg = subprocess.run([str(python), "-c", "import psycopg"], check=False).returncode == 0
        if not (base and has_psycopg):
            print("PostgreSQL lifecycle skipped (no DRIFTSCOPE_TEST_PG_URL or no psycopg in the venv)")
            return
        name = f"driftscope_lowest_{uuid.uuid4().hex[:8]}"
        admin = create_engine(make_url(base), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            (home / "pg").mkdir()
            test_wheel._lifecycle(env, home / "pg", make_url(base).set(database=name).render_as_string(False))
            print("lifecycle on PostgreSQL: ok")
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main(Path(sys.argv[1]).absolute())  # not resolve(): a venv's python links to the base interpreter
