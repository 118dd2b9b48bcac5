"""How long does each dashboard page take to be ready in a real browser?

Starts ``driftscope dashboard`` over a store, opens every page in headless Chromium (Debian's, at
``/usr/bin/chromium``, through Playwright) by its direct URL and measures the seconds from the
navigation until the page is usable: the script run has finished (Streamlit's status widget is
gone), the page's title is drawn and every Plotly chart on it has drawn its SVG. Each page is
measured *cold* (a freshly started server: nothing cached, the first visitor after a restart) and
*warm* (a new browser session on the same server: what the next reader of the same link sees).
Every request the page makes to a host other than 127.0.0.1/localhost is counted and reported.

Stores: ``--config PATH`` (any driftscope.yaml), ``--demo`` (builds the demo store in
``bench/out/demo`` unless it exists) and ``--big`` (the 10M-prediction SQLite store that
``bench/dashboard_bench.py`` leaves in ``bench/out/``; build it first, ``--rows`` for another size).
Without a store option the demo store is used.

Run: ``python bench/browser_bench.py [--demo] [--big [--rows N]] [--config PATH [--query Q]] [--repeat N]``.
"""

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import yaml

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync"]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
READY_TIMEOUT_S = 120
PAGES = ("overview", "model_version", "feature", "compare", "alerts", "runs")
# True once Streamlit finished the script run, the status widget is gone, a title is drawn and every
# Plotly chart has drawn its SVG (``.main-svg``) or its WebGL canvas.
READY_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (document.querySelector('[data-testid="stStatusWidget"]')) return false;
  if (!document.querySelector('[data-testid="stMain"] h1')) return false;
  if (document.querySelector('[data-testid="stSkeleton"]')) return false;
  for (const chart of document.querySelectorAll('[data-testid="stPlotlyChart"]')) {
    if (!chart.querySelector('.main-svg')) return false;
  }
  return true;
}"""


@dataclass(frozen=True)
class Store:
    """A store to measure: its label, config file and the selection every page opens with."""

    label: str
    config: Path
    query: str


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def dashboard(config: Path) -> Iterator[str]:
    """``driftscope dashboard`` on a free port (its own process group, stopped after); yields its URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRIFTSCOPE_")}
    log = OUT / "browser_bench.dashboard.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "driftscope", "dashboard", "--config", str(config), "--port", str(port)],
            cwd=config.parent, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the dashboard did not start:\n{log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.2)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def open_page(browser: object, url: str, outside: list[str]) -> float:
    """Seconds from navigating to ``url`` in a new browser session until the page is ready."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    page.on("request", lambda request: _note_outside(request.url, outside))
    try:
        started = time.perf_counter()
        page.goto(url, wait_until="commit", timeout=READY_TIMEOUT_S * 1000)
        page.wait_for_timeout(100)  # let the app's websocket connect and the script state leave "notRunning"
        page.wait_for_function(READY_JS, timeout=READY_TIMEOUT_S * 1000, polling=50)
        elapsed = time.perf_counter() - started
        if page.get_by_test_id("stException").count():
            raise RuntimeError(f"{url}: the page shows an exception: {page.inner_text('body')[:500]}")
        return elapsed
    finally:
        context.close()


def _note_outside(url: str, outside: list[str]) -> None:
    parts = urlsplit(url)
    if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname not in LOCAL_HOSTS:
        outside.append(url)


def measure(store: Store, repeat: int, outside: list[str]) -> list[tuple[str, float, float]]:
    """Per page: cold seconds (fresh server) and warm seconds (median of ``repeat`` new sessions).

    Requests to hosts other than this machine are appended to ``outside``.
    """
    from playwright.sync_api import sync_playwright

    rows = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        try:
            for name in PAGES:
                with dashboard(store.config) as url:
                    address = f"{url}/{name}?{store.query}"
                    cold = open_page(browser, address, outside)
                    warm = statistics.median(open_page(browser, address, outside) for _ in range(repeat))
                rows.append((name, cold, warm))
                print(f"  {store.label} {name}: cold {cold:.2f} s, warm {warm:.2f} s", file=sys.stderr, flush=True)
        finally:
            browser.close()
    return rows


def demo_store() -> Store:
    """The demo store in ``bench/out/demo`` (built by ``driftscope demo --no-dashboard`` when missing)."""
    folder = OUT / "demo"
    config = folder / "driftscope.yaml"
    if not config.exists():
        OUT.mkdir(exist_ok=True)
        subprocess.run([sys.executable, "-m", "driftscope", "demo", "--no-dashboard", "--dir", str(folder)],
                       check=True, stdout=subprocess.DEVNULL)
    return Store("demo", config, "model=credit-default")


def big_store(rows: int) -> Store:
    """The large SQLite store of ``bench/dashboard_bench.py --rows ROWS`` (with a config file next to it)."""
    path = OUT / f"dashboard_bench_{rows}.db"
    if not path.exists():
        raise SystemExit(f"{path} is missing: run `python bench/dashboard_bench.py --rows {rows}` first")
    config = OUT / f"dashboard_bench_{rows}.yaml"
    config.write_text(yaml.safe_dump({"database_url": f"sqlite:///{path}"}))
    return Store(f"{rows / 1e6:g}M", config, "model=credit-default&version=1.0")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", action="store_true", help="measure the demo store (default without --big/--config)")
    parser.add_argument("--big", action="store_true", help="measure the large store of dashboard_bench.py")
    parser.add_argument("--rows", type=int, default=10_000_000, help="size of that store (default 10M)")
    parser.add_argument("--config", type=Path, help="measure the store of this driftscope.yaml")
    parser.add_argument("--query", default="", help="query string every page opens with (with --config)")
    parser.add_argument("--repeat", type=int, default=3, help="warm loads per page (median shown)")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        print(f"no Chromium at {CHROMIUM}: install Debian's chromium to run this benchmark")
        return 1
    stores = []
    if args.config:
        stores.append(Store(args.config.stem, args.config.resolve(), args.query))
    if args.demo or not (args.big or args.config):
        stores.append(demo_store())
    if args.big:
        stores.append(big_store(args.rows))
    print("## Dashboard pages in a real browser\n")
    print("Goal: every page ready in under 2 s. Seconds from navigating to the page's direct URL in headless "
          "Chromium until the script run is over, the status widget is gone and every chart is drawn. Cold: a "
          f"freshly started server (nothing cached). Warm: a new browser session on the same server (median of "
          f"{args.repeat}). No request may leave the machine.\n")
    print("| store | page | cold (s) | warm (s) |")
    print("|---|---|---:|---:|")
    outside: list[str] = []
    for store in stores:
        for name, cold, warm in measure(store, args.repeat, outside):
            print(f"| {store.label} | {name} | {cold:.2f} | {warm:.2f} |", flush=True)
    if outside:
        print(f"\nFAILED: {len(outside)} request(s) left the machine, e.g. {sorted(set(outside))[:3]}")
        return 1
    print("\nNo request left the machine.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
