"""``driftscope dashboard`` and ``driftscope dashboard hash-password``.

Hashing runs as a real subprocess (stdin handling); refusals run in-process through ``main``;
starting the server itself is covered end to end in ``test_dashboard_browser.py``.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from driftscope.cli import main
from driftscope.cli.dashboard import PRELOAD, app_path, streamlit_command
from driftscope.config.passwords import verify_password


def driftscope(
    *args: str, cwd: Path, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DRIFTSCOPE_")}
    return subprocess.run([sys.executable, "-m", "driftscope.cli", *args], cwd=cwd, input=stdin, text=True,
                          capture_output=True, timeout=60, env={**clean, **(env or {})}, check=False)


def test_hash_password_reads_stdin_and_prints_a_verifiable_hash(tmp_path: Path) -> None:
    done = driftscope("dashboard", "hash-password", "--iterations", "1000", cwd=tmp_path, stdin="s3cret pw\n")
    assert done.returncode == 0, done.stderr
    encoded = done.stdout.strip()
    assert encoded.startswith("pbkdf2_sha256$1000$")
    assert verify_password("s3cret pw", encoded) and not verify_password("s3cret", encoded)


@pytest.mark.parametrize(
    ("args", "env", "code", "message"),
    [
        (["--config", "missing.yaml"], {}, 2, "missing.yaml: no such configuration file"),
        ([], {"DRIFTSCOPE_DATABASE_URL": "sqlite:///blank.db"}, 1, "run `driftscope db upgrade`"),
        (["--port", "70000"], {}, 2, "--port 70000: choose a port between 1 and 65535"),
    ],
    ids=["missing-config", "unmigrated-store", "bad-port"],
)
def test_dashboard_refuses_to_start_with_a_readable_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path, args: list[str],
    env: dict[str, str], code: int, message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in [k for k in os.environ if k.startswith("DRIFTSCOPE_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["dashboard", *args]) == code
    assert message in capsys.readouterr().err


def test_streamlit_is_run_headless_on_the_given_address_without_usage_statistics() -> None:
    command = streamlit_command(8600, "127.0.0.1")
    assert command[:5] == [sys.executable, "-P", "-c", PRELOAD, "run"]
    assert Path(command[5]) == app_path() and app_path().name == "driftscope_dashboard.py" and app_path().is_file()
    options = dict(zip(command[6::2], command[7::2], strict=True))
    assert options == {"--server.port": "8600", "--server.address": "127.0.0.1", "--server.headless": "true",
                       "--browser.gatherUsageStats": "false", "--client.toolbarMode": "viewer"}
