"""The wheel, as a new user gets it: built from the work tree, installed with plain pip in a fresh venv.

One venv for the module (the wheel build and the core install take most of the time); every command
runs from a folder outside the repository, so nothing can come from the work tree. The PostgreSQL
test adds the ``[postgres]`` extra to that venv, so it runs after the core-only checks.

Nothing is downloaded: the build backend and every dependency come from the wheelhouse that
``make install`` fills once (``.venv/wheelhouse``), and pip runs with ``--no-index``.
"""

import os
import subprocess
import sys
import uuid
import venv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from factories import T0, canonical_predictions, write_project
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
WHEELHOUSE = Path(sys.prefix) / "wheelhouse"
OFFLINE = ("--no-index", "--find-links", str(WHEELHOUSE))
PIP_TIMEOUT_S = 300


@dataclass(frozen=True)
class Venv:
    """A fresh venv with the wheel installed (core only) and a project folder outside the repository."""

    python: Path
    wheel: Path
    home: Path

    def run(self, *args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(list(args), cwd=cwd or self.home, capture_output=True, text=True, timeout=timeout,
                              env={**_clean_env(), **(env or {})}, check=False)

    def driftscope(self, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        return self.run(str(self.python.parent / "driftscope"), *args, cwd=cwd)

    def pip_install(self, *requirements: str) -> None:
        done = self.run(sys.executable, "-m", "pip", "--python", str(self.python), "install", "-q",
                        *OFFLINE, *requirements, timeout=PIP_TIMEOUT_S)
        assert done.returncode == 0, done.stderr


def _clean_env() -> dict[str, str]:
    """The environment without this venv or the repository on any path, and no store URL."""
    drop = {"PYTHONPATH", "VIRTUAL_ENV", "DRIFTSCOPE_DATABASE_URL", "DRIFTSCOPE_CONFIG"}
    return {k: v for k, v in os.environ.items() if k not in drop}


@pytest.fixture(scope="module")
def wheel_venv(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    if not (WHEELHOUSE / ".stamp").exists():
        pytest.fail(f"the wheelhouse {WHEELHOUSE} is missing: `make install` fills it (this test downloads nothing)")
    root = tmp_path_factory.mktemp("wheel")
    dist = root / "dist"
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", *OFFLINE, "-w", str(dist),
                            str(REPO)], capture_output=True, text=True, timeout=PIP_TIMEOUT_S, check=False)
    assert built.returncode == 0, built.stderr
    (wheel,) = dist.glob("driftscope-*.whl")
    venv.EnvBuilder(with_pip=False).create(root / "venv")
    env = Venv(root / "venv" / "bin" / "python", wheel, root / "home")
    env.home.mkdir()
    env.pip_install(str(wheel))
    return env


def _project(folder: Path, database_url: str) -> Path:
    """A project with a files source of one day of predictions after the reference."""
    config = write_project(folder, database_url)
    (folder / "data" / "predictions").mkdir()
    rows = canonical_predictions(600, start=T0, seed=3).rename(columns={
        "prediction_id": "request_id", "prediction": "predicted_label", "probability": "score"})
    rows.to_csv(folder / "data" / "predictions" / "day1.csv", index=False)
    document = yaml.safe_load(config.read_text())
    document["sources"] = [{"name": "credit-files", "kind": "files", "model": "credit-default", "version": "1.0",
                            "records": "predictions", "url": "data/predictions/*.csv"}]
    config.write_text(yaml.safe_dump(document, sort_keys=False))
    return config


def _lifecycle(env: Venv, folder: Path, database_url: str) -> None:
    """db upgrade, config check, apply, collect and monitor run, each exiting 0."""
    _project(folder, database_url)
    window_end = (T0 + timedelta(days=1)).isoformat()  # a day boundary: windows are calendar days
    for argv in (["db", "upgrade"], ["config", "check"], ["apply"], ["collect", "--no-progress"],
                 ["monitor", "run", "--monitor", "credit-drift", "--window-end", window_end]):
        done = env.driftscope(*argv, cwd=folder)
        assert done.returncode == 0, f"driftscope {' '.join(argv)}:\n{done.stdout}\n{done.stderr}"
        if argv[0] == "collect":
            assert "600" in done.stdout, done.stdout


def test_the_wheel_holds_one_import_name_and_the_migrations(wheel_venv: Venv) -> None:
    modules = ("storage", "collectors", "monitors", "dashboard", "alerting")
    done = wheel_venv.run(str(wheel_venv.python), "-c", "import importlib.util, sys; "
                          f"print([m for m in {modules!r} if importlib.util.find_spec(m) is not None])")
    assert done.stdout.strip() == "[]", done.stderr
    done = wheel_venv.run(str(wheel_venv.python), "-c",
                          "import driftscope.migrations.versions, driftscope.storage, driftscope.alerting; print('ok')")
    assert done.stdout.strip() == "ok", done.stderr


def test_the_core_install_runs_the_lifecycle_on_sqlite(wheel_venv: Venv, tmp_path: Path) -> None:
    _lifecycle(wheel_venv, tmp_path, f"sqlite:///{tmp_path / 'store.db'}")


@pytest.mark.parametrize(("argv", "extra"), [
    (["dashboard"], "dashboard"),
    (["report", "--model", "credit-default", "--version", "1.0", "--window-end", "2026-01-02"], "report"),
])
def test_a_missing_extra_is_one_line_naming_the_pip_command(wheel_venv: Venv, tmp_path: Path, argv, extra) -> None:
    # no store: the extra is checked before the store is opened, so a missing extra is the first thing said
    _project(tmp_path, f"sqlite:///{tmp_path / 'store.db'}")
    done = wheel_venv.driftscope(*argv, cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0, done.stderr
    assert f"pip install 'driftscope[{extra}]'" in done.stderr


@pytest.fixture
def scratch_pg_url() -> Iterator[str]:
    """An empty PostgreSQL database of its own (not migrated), dropped afterwards."""
    base = os.environ.get("DRIFTSCOPE_TEST_PG_URL")
    if not base:
        if os.environ.get("DRIFTSCOPE_REQUIRE_PG") == "1":
            pytest.fail("PostgreSQL is required (DRIFTSCOPE_REQUIRE_PG=1) but DRIFTSCOPE_TEST_PG_URL is not set")
        pytest.skip("DRIFTSCOPE_TEST_PG_URL is not set")
    name = f"driftscope_wheel_{uuid.uuid4().hex[:8]}"
    admin = create_engine(make_url(base), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.postgres
def test_the_postgres_extra_runs_the_lifecycle_on_postgres(wheel_venv: Venv, tmp_path: Path, scratch_pg_url) -> None:
    wheel_venv.pip_install(f"{wheel_venv.wheel}[postgres]")
    _lifecycle(wheel_venv, tmp_path, scratch_pg_url)
