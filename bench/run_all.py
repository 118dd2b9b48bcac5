"""``make bench``: run every benchmark and write ``bench/RESULTS.md``.

Each benchmark is a script in this folder that prints Markdown tables (its own comparisons with
the peers, measured in the same run). This runner records the machine, the versions of driftscope's
peers and dependencies, and each script's wall time and peak memory (``ru_maxrss`` of the child
process, from ``os.wait4``), then writes everything to ``bench/RESULTS.md``.

Run: ``python bench/run_all.py [--quick] [--pg-url URL]``.
"""

import argparse
import os
import platform
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
PEERS = ("evidently", "pandas", "numpy", "scipy", "pyarrow", "sqlalchemy", "psycopg", "streamlit", "river",
         "scikit-learn")


@dataclass(frozen=True)
class Outcome:
    """One benchmark script's output and cost."""

    name: str
    output: str
    wall_s: float
    peak_mib: float
    returncode: int


def run_script(name: str, args: list[str], timeout_s: float) -> Outcome:
    """Run ``bench/<name>.py`` in a child process; measure wall time and its own peak RSS."""
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, str(HERE / f"{name}.py"), *args], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, cwd=HERE.parent)
    chunks: list[str] = []
    reader = threading.Thread(target=lambda: chunks.extend(process.stdout or []), daemon=True)
    reader.start()
    killer = threading.Timer(timeout_s, process.kill)
    killer.start()
    try:
        _, status, usage = os.wait4(process.pid, 0)
    finally:
        killer.cancel()
    process.returncode = os.waitstatus_to_exitcode(status)
    reader.join(timeout=10)
    output = "".join(chunks)
    if process.returncode == -9:
        output += f"\n(killed after {timeout_s:.0f} s)"
    return Outcome(name, output, time.perf_counter() - start, usage.ru_maxrss / 1024, process.returncode)


def machine() -> list[str]:
    """Lines describing this machine and the versions in use."""
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    lines = [f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
             f"- machine: {platform.machine()}, {os.cpu_count()} cores, {mem_gib:.0f} GiB, {platform.platform()}",
             f"- python: {platform.python_version()}"]
    versions = []
    for package in PEERS:
        try:
            versions.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{package} (not installed)")
    lines.append("- versions: " + ", ".join(versions))
    return lines


def plan(quick: bool, pg_url: str | None) -> list[tuple[str, list[str], float]]:
    """Which scripts run with which arguments, and their time limits (seconds)."""
    pg = ["--pg-url", pg_url] if pg_url else []
    rows = "200000" if quick else "1000000"
    return [
        ("store_read_bench", ["--rows", rows, *pg], 1800),
        ("collect_bench", ["--rows", rows, *pg], 1800),
        ("kafka_bench", ["--rows", rows, *pg], 1800),
        ("drift_bench", ["--quick"] if quick else [], 5400),
        ("dashboard_bench", ["--quick"] if quick else [], 3600),
        ("false_alarms", ["--quick"] if quick else [], 1800),
        ("experiments", ["--runs", "500"] if quick else [], 600),
        ("browser_bench", ["--demo", "--big", "--rows", "1000000" if quick else "10000000"], 3600),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a first look")
    parser.add_argument("--pg-url", default=os.environ.get("DRIFTSCOPE_TEST_PG_URL"),
                        help="PostgreSQL server for the store benchmarks (default: $DRIFTSCOPE_TEST_PG_URL)")
    args = parser.parse_args()
    sections = ["# driftscope benchmark results", "", *machine(), ""]
    failed = 0
    for name, script_args, timeout_s in plan(args.quick, args.pg_url):
        if not (HERE / f"{name}.py").exists():
            sections += [f"## {name}", "", "(script missing)", ""]
            continue
        print(f"running {name} {' '.join(script_args)}", flush=True)
        outcome = run_script(name, script_args, timeout_s)
        failed += outcome.returncode != 0
        sections += [f"## {name}", "",
                     f"wall time {outcome.wall_s:.1f} s, peak memory {outcome.peak_mib:.0f} MiB, "
                     f"exit {outcome.returncode}", "", outcome.output.strip(), ""]
        print(outcome.output, flush=True)
    (HERE / "RESULTS.md").write_text("\n".join(sections) + "\n")
    print(f"wrote {HERE / 'RESULTS.md'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
