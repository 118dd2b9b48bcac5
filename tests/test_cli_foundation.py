"""The foundation commands: --help, db upgrade, config check, apply (idempotent)."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from factories import write_project
from sqlalchemy import inspect

from driftscope.cli import main
from driftscope.storage.db import make_engine
from driftscope.storage.models import Base

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "driftscope.yaml"
COMMANDS = ["db", "config", "apply", "collect", "quarantine", "monitor", "report", "scheduler", "retrain",
            "alerts", "dashboard", "demo"]


def test_console_script_help_lists_every_command() -> None:
    out = subprocess.run([sys.executable, "-m", "driftscope", "--help"], capture_output=True, text=True,
                         timeout=60, check=True).stdout
    for command in COMMANDS:
        assert f"\n    {command} " in out


HEAVY = ("numpy", "pandas", "scipy", "sqlalchemy", "pydantic", "pyarrow", "apscheduler", "alembic", "requests")


@pytest.mark.parametrize("argv", [["--help"], ["alerts", "list", "--help"], ["monitor", "run", "--help"]])
def test_help_imports_no_heavy_library(argv) -> None:
    """``--help`` builds the whole parser without the store, pandas or pydantic (it starts in ~0.2 s, not ~15 s)."""
    probe = (
        "import sys\n"
        "from driftscope.cli import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert done.stderr.strip().splitlines()[-1] == "[]"


def test_db_upgrade_creates_every_table(tmp_path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    assert main(["db", "upgrade", "--database-url", url, "--config", str(tmp_path / "none.yaml")]) == 0
    assert "revision" in capsys.readouterr().out
    engine = make_engine(url)
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    engine.dispose()
    assert main(["db", "current", "--database-url", url, "--config", str(tmp_path / "none.yaml")]) == 0


@pytest.mark.postgres
def test_db_upgrade_on_postgres(pg_url, capsys) -> None:
    assert main(["db", "upgrade", "--database-url", pg_url, "--config", "none.yaml"]) == 0
    engine = make_engine(pg_url)
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_config_check_accepts_the_example(capsys) -> None:
    assert main(["config", "check", "--config", str(EXAMPLE)]) == 0
    assert "2 models, 3 sources, 4 monitors" in capsys.readouterr().out


def test_config_check_refuses_a_broken_file_naming_the_key(tmp_path, capsys) -> None:
    document = yaml.safe_load(EXAMPLE.read_text())
    document["monitors"][1]["min_lables"] = 5
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(document))
    assert main(["config", "check", "--config", str(broken)]) == 2
    err = capsys.readouterr().err
    assert "monitors[1].min_lables: unknown key" in err


def test_apply_twice_is_a_no_op(db_url, tmp_path, capsys) -> None:
    config = write_project(tmp_path, db_url)
    assert main(["apply", "--config", str(config)]) == 0
    first = capsys.readouterr().out
    assert "apply: 7 created, 0 updated, 0 unchanged" in first
    assert main(["apply", "--config", str(config)]) == 0
    assert capsys.readouterr().out.strip() == "apply: 0 created, 0 updated, 7 unchanged"


def test_apply_refuses_a_changed_schema_for_a_registered_version(sqlite_url, tmp_path, capsys) -> None:
    config = write_project(tmp_path, sqlite_url)
    assert main(["apply", "--config", str(config)]) == 0
    document = yaml.safe_load(config.read_text())
    document["models"][0]["schema"]["features"]["age"] = "categorical"
    config.write_text(yaml.safe_dump(document))
    capsys.readouterr()
    assert main(["apply", "--config", str(config)]) == 1
    err = capsys.readouterr().err
    assert "version '1.0' is already registered with a different column schema" in err
    assert "age: numeric -> categorical" in err and "new version" in err


def test_apply_on_an_unmigrated_store_says_how_to_fix(tmp_path, capsys) -> None:
    config = write_project(tmp_path, f"sqlite:///{tmp_path / 'empty.db'}")
    assert main(["apply", "--config", str(config)]) == 1
    assert "driftscope db upgrade" in capsys.readouterr().err


def test_apply_reports_missing_reference_columns(sqlite_url, tmp_path, capsys) -> None:
    import pandas as pd

    config = write_project(tmp_path, sqlite_url)
    reference = tmp_path / "data" / "credit_reference.parquet"
    pd.read_parquet(reference).drop(columns=["income"]).to_parquet(reference)
    assert main(["apply", "--config", str(config)]) == 1
    err = capsys.readouterr().err
    assert "credit_reference.parquet" in err and "income" in err
