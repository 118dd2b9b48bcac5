"""Every command against an unreachable or missing database: one line naming the URL (password masked)
and what to check, a non-zero exit, no traceback (issue #18 item 16)."""

import os
import socket

import pytest
from factories import write_project

from driftscope.cli import main

PASSWORD = "s3cret-pw-4411"
COMMANDS = [
    ["db", "upgrade"], ["db", "current"], ["apply"], ["collect"], ["quarantine", "list"], ["monitor", "run"],
    ["report", "--model", "credit-default", "--version", "1.0", "--window-end", "2026-01-02"],
    ["alerts", "list"], ["retrain", "status"], ["scheduler", "--once"], ["dashboard"],
]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _stores(tmp_path, pg_url: str | None) -> dict[str, str]:
    stores = {
        "unreachable-postgres": f"postgresql+psycopg://app:{PASSWORD}@127.0.0.1:{_closed_port()}/monitoring",
        "sqlite-missing-folder": f"sqlite:///{tmp_path / 'no' / 'such' / 'folder' / 'driftscope.db'}",
    }
    if pg_url:
        stores["missing-postgres-database"] = pg_url.rsplit("/", 1)[0] + "/driftscope_no_such_database"
    return stores


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]).replace(" --", " "))
def test_a_bad_store_gives_one_line_naming_it(command, tmp_path, capsys) -> None:
    for kind, url in _stores(tmp_path, os.environ.get("DRIFTSCOPE_TEST_PG_URL")).items():
        config = write_project(tmp_path / kind, url)
        status = main([*command, "--config", str(config)])
        captured = capsys.readouterr()
        lines = [line for line in captured.err.splitlines() if not line[:4].isdigit()]  # drop log lines
        assert status != 0, (kind, captured)
        assert len(lines) == 1 and lines[0].startswith("error: cannot use the database "), (kind, captured.err)
        assert "Traceback" not in captured.err and PASSWORD not in captured.err + captured.out
        masked = url.replace(PASSWORD, "***")
        assert masked in lines[0] and "check that" in lines[0], (kind, lines[0])

